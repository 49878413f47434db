-- API tokens (issue 14, item 4): personal tokens act as their user (never above the user's
-- current role), service tokens act as `svc:<name>` with the role an admin gave them. Only the
-- SHA-256 of a token is stored; the token itself is shown once, when it is created.
CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL CHECK (kind IN ('personal', 'service')),
    name          TEXT NOT NULL,
    -- The user a personal token belongs to; the admin who created a service token.
    user_id       INTEGER NOT NULL REFERENCES users (id),
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    token_sha256  TEXT NOT NULL UNIQUE,
    -- The first characters of the token, to tell tokens apart on the page.
    prefix        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
) STRICT;
CREATE UNIQUE INDEX api_tokens_service_names ON api_tokens (name) WHERE kind = 'service';
CREATE INDEX api_tokens_by_user ON api_tokens (user_id, id);
