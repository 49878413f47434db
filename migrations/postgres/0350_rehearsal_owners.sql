-- PostgreSQL twin of migrations/0350_rehearsal_owners.sql: which process owns a rehearsal's twin.
ALTER TABLE rehearsals ADD COLUMN owner TEXT;
ALTER TABLE rehearsals ADD COLUMN owner_until BIGINT;
