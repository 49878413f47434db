-- Notifications (issue 14, item 3): typed events a run produces (step failed, run completed,
-- run rolled back), written in the same transaction as the change they announce, and their
-- deliveries to the configured webhooks (a durable outbox: at-least-once, retried with
-- backoff, dead letters kept). Webhook URLs and secrets live only in the configuration;
-- deliveries name the webhook.

CREATE TABLE notifications (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    run_id   TEXT REFERENCES runs (id),
    payload  TEXT NOT NULL
) STRICT;

CREATE TRIGGER notifications_no_update BEFORE UPDATE ON notifications
BEGIN SELECT RAISE(ABORT, 'notifications is append-only'); END;
CREATE TRIGGER notifications_no_delete BEFORE DELETE ON notifications
BEGIN SELECT RAISE(ABORT, 'notifications is append-only'); END;

-- How far each webhook has been fanned out: notifications with a larger id get a delivery.
-- A webhook seen for the first time starts at the newest notification (no backlog flood).
CREATE TABLE webhook_cursors (
    webhook                TEXT PRIMARY KEY,
    last_notification_id   INTEGER NOT NULL
) STRICT;

CREATE TABLE webhook_deliveries (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id   INTEGER NOT NULL REFERENCES notifications (id),
    webhook           TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER NOT NULL,
    last_status       INTEGER,
    last_error        TEXT,
    delivered_at      INTEGER,
    UNIQUE (notification_id, webhook)
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
