-- Schema history starts here; each later feature adds its own numbered migration.
-- Migrations are never edited once landed.
CREATE TABLE IF NOT EXISTS natpilot_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
