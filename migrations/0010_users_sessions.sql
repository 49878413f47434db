-- Portal users and their server-side sessions (issue 6).
-- A session row is keyed by the SHA-256 of the session id: the raw id lives only in the
-- browser's cookie, so a copy of this file cannot be used to hijack a session.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    password_hash TEXT NOT NULL,           -- argon2id PHC string
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL,        -- unix seconds
    updated_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY NOT NULL, -- hex SHA-256 of the cookie value
    user_id      INTEGER REFERENCES users(id) ON DELETE CASCADE, -- NULL before login
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX sessions_by_user ON sessions(user_id);
