-- Where a session was signed in from, so users can recognise their own sessions on the
-- account page (issue 10, ASVS 5.0 V3.3: a user's list of sessions). Neither is a secret;
-- the session id itself is still only hashed (0010).
ALTER TABLE sessions ADD COLUMN client_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
