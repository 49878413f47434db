-- Single sign-on (issue 14 item 1): which natpilot user an OpenID Connect identity is.
-- An identity is the provider's issuer URL and the subject (`sub`) it gives the person: the
-- one pair the provider guarantees to be stable and never reassigned. A user name taken from
-- a claim (preferred_username, email) is never used to find a user, so nobody can take over
-- an existing account by choosing a matching name at the provider.
CREATE TABLE sso_identities (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    INTEGER NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,           -- unix seconds
    PRIMARY KEY (issuer, subject)
) WITHOUT ROWID;
