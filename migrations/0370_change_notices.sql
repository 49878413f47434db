-- Twin of migrations/postgres/0370_change_notices.sql (NOTIFY between replicas). SQLite is one
-- process's store: its caches learn of this process's writes from the write generation and of
-- another process's within their one-second lifetime, so there is nothing to create here.
SELECT 1;
