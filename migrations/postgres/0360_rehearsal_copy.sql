-- PostgreSQL twin of migrations/0360_rehearsal_copy.sql: a rehearsal's phase (copying the real
-- VPC, then rehearsing) and the copy's progress.
ALTER TABLE rehearsals ADD COLUMN phase TEXT NOT NULL DEFAULT 'rehearsing'
    CHECK (phase IN ('copying', 'rehearsing'));
ALTER TABLE rehearsals ADD COLUMN copy_what TEXT;
ALTER TABLE rehearsals ADD COLUMN copy_action TEXT;
ALTER TABLE rehearsals ADD COLUMN copy_listed BIGINT;
ALTER TABLE rehearsals ADD COLUMN copy_total BIGINT;
