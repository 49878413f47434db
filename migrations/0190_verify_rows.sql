-- Step 4 at scale (issue 11): the Verify page's per-instance rows (egress before/after, the
-- check, the retire plan and its exception) stored with the inputs they were built from, so
-- a view filters, sorts and pages them in SQL (keyset pagination) instead of re-planning the
-- whole VPC and sorting every row per view. Display only: a confirm always re-plans from the
-- engine and is refused unless the plan digest the page showed is the one planned then.

-- Bumped by triggers whenever a stored input of the rows changes (egress results, protected
-- hosts, exceptions), whoever writes it: a view made before the bump is stale. (No OR IGNORE
-- here: a trigger's conflict clause gives way to its statement's, and these are upserts.)
CREATE TABLE verify_inputs (
    run_id   TEXT PRIMARY KEY REFERENCES runs (id),
    version  INTEGER NOT NULL
) STRICT;

-- The rows' header, written after the rows of generation `gen`: the inputs `version` read
-- before planning, the `basis` (snapshot, run state, step input) and the JSON body (counts,
-- plan in words, NAT EIPs) of web::pages::verify_stored. Rows of other generations are
-- leftovers of an older build and never read.
CREATE TABLE verify_views (
    run_id   TEXT PRIMARY KEY REFERENCES runs (id),
    gen      INTEGER NOT NULL,
    version  INTEGER NOT NULL,
    basis    TEXT NOT NULL,
    body     TEXT NOT NULL,
    at       INTEGER NOT NULL
) STRICT;

-- One row per instance. key_* hold each sort column's order as the cursor carries it (the
-- "instance" sort's key is always ''), so keyset pagination is `(key, id) > (?, ?)`.
CREATE TABLE verify_rows (
    run_id       TEXT NOT NULL REFERENCES runs (id),
    gen          INTEGER NOT NULL,
    instance_id  TEXT NOT NULL,
    name         TEXT NOT NULL,
    public_ip    TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('EIP', 'ordinary', 'none')),
    before_text  TEXT NOT NULL,
    after_text   TEXT NOT NULL,
    verdict      TEXT NOT NULL CHECK (verdict IN ('pass', 'fail', 'untestable', 'not tested')),
    reason       TEXT NOT NULL,
    protected    INTEGER NOT NULL CHECK (protected IN (0, 1)),
    actions      TEXT NOT NULL,          -- JSON [[text, irreversible], ...]
    action       TEXT NOT NULL,
    kept         TEXT NOT NULL,
    exception    TEXT NOT NULL,          -- '' or keep / reversible / irreversible
    choosable    INTEGER NOT NULL CHECK (choosable IN (0, 1)),
    id_lower     TEXT NOT NULL,          -- the text filter's haystacks, lower-cased in Rust
    name_lower   TEXT NOT NULL,
    ip_lower     TEXT NOT NULL,
    key_instance TEXT NOT NULL,
    key_public_ip TEXT NOT NULL,
    key_kind     TEXT NOT NULL,
    key_verdict  TEXT NOT NULL,
    key_plan     TEXT NOT NULL,
    PRIMARY KEY (run_id, gen, instance_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX verify_rows_instance ON verify_rows (run_id, gen, key_instance, instance_id);
CREATE INDEX verify_rows_public_ip ON verify_rows (run_id, gen, key_public_ip, instance_id);
CREATE INDEX verify_rows_kind ON verify_rows (run_id, gen, key_kind, instance_id);
CREATE INDEX verify_rows_verdict ON verify_rows (run_id, gen, key_verdict, instance_id);
CREATE INDEX verify_rows_plan ON verify_rows (run_id, gen, key_plan, instance_id);

CREATE TRIGGER verify_inputs_egress_insert AFTER INSERT ON egress_results BEGIN
    INSERT INTO verify_inputs (run_id, version) SELECT NEW.run_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM verify_inputs WHERE run_id = NEW.run_id);
    UPDATE verify_inputs SET version = version + 1 WHERE run_id = NEW.run_id;
END;
CREATE TRIGGER verify_inputs_egress_update AFTER UPDATE ON egress_results BEGIN
    INSERT INTO verify_inputs (run_id, version) SELECT NEW.run_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM verify_inputs WHERE run_id = NEW.run_id);
    UPDATE verify_inputs SET version = version + 1 WHERE run_id = NEW.run_id;
END;
CREATE TRIGGER verify_inputs_egress_delete AFTER DELETE ON egress_results BEGIN
    INSERT INTO verify_inputs (run_id, version) SELECT OLD.run_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM verify_inputs WHERE run_id = OLD.run_id);
    UPDATE verify_inputs SET version = version + 1 WHERE run_id = OLD.run_id;
END;
CREATE TRIGGER verify_inputs_protected_insert AFTER INSERT ON protected_hosts BEGIN
    INSERT INTO verify_inputs (run_id, version) SELECT NEW.run_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM verify_inputs WHERE run_id = NEW.run_id);
    UPDATE verify_inputs SET version = version + 1 WHERE run_id = NEW.run_id;
END;
CREATE TRIGGER verify_inputs_protected_update AFTER UPDATE ON protected_hosts BEGIN
    INSERT INTO verify_inputs (run_id, version) SELECT NEW.run_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM verify_inputs WHERE run_id = NEW.run_id);
    UPDATE verify_inputs SET version = version + 1 WHERE run_id = NEW.run_id;
END;
CREATE TRIGGER verify_inputs_protected_delete AFTER DELETE ON protected_hosts BEGIN
    INSERT INTO verify_inputs (run_id, version) SELECT OLD.run_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM verify_inputs WHERE run_id = OLD.run_id);
    UPDATE verify_inputs SET version = version + 1 WHERE run_id = OLD.run_id;
END;
CREATE TRIGGER verify_inputs_exceptions_insert AFTER INSERT ON retire_exceptions BEGIN
    INSERT INTO verify_inputs (run_id, version) SELECT NEW.run_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM verify_inputs WHERE run_id = NEW.run_id);
    UPDATE verify_inputs SET version = version + 1 WHERE run_id = NEW.run_id;
END;
CREATE TRIGGER verify_inputs_exceptions_update AFTER UPDATE ON retire_exceptions BEGIN
    INSERT INTO verify_inputs (run_id, version) SELECT NEW.run_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM verify_inputs WHERE run_id = NEW.run_id);
    UPDATE verify_inputs SET version = version + 1 WHERE run_id = NEW.run_id;
END;
CREATE TRIGGER verify_inputs_exceptions_delete AFTER DELETE ON retire_exceptions BEGIN
    INSERT INTO verify_inputs (run_id, version) SELECT OLD.run_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM verify_inputs WHERE run_id = OLD.run_id);
    UPDATE verify_inputs SET version = version + 1 WHERE run_id = OLD.run_id;
END;
