-- Change notices between replicas (issue 15): every statement that changes a table the
-- portal caches or follows live sends a NOTIFY on channel `natpilot_changes` with the table's
-- name, delivered when its transaction commits (and collapsed to one per table and
-- transaction). Each replica listens (`store::change_notices`): a notice makes its caches
-- (sessions, history, approval counts) re-read and wakes the live run pages, so a change made
-- on another replica, or by `natpilot user disable` from a shell, is seen at once.
CREATE FUNCTION natpilot_change_notice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('natpilot_changes', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

CREATE TRIGGER runs_change_notice AFTER INSERT OR UPDATE OR DELETE ON runs
    FOR EACH STATEMENT EXECUTE FUNCTION natpilot_change_notice();
CREATE TRIGGER run_steps_change_notice AFTER INSERT OR UPDATE OR DELETE ON run_steps
    FOR EACH STATEMENT EXECUTE FUNCTION natpilot_change_notice();
CREATE TRIGGER run_events_change_notice AFTER INSERT OR UPDATE OR DELETE ON run_events
    FOR EACH STATEMENT EXECUTE FUNCTION natpilot_change_notice();
CREATE TRIGGER run_leases_change_notice AFTER INSERT OR UPDATE OR DELETE ON run_leases
    FOR EACH STATEMENT EXECUTE FUNCTION natpilot_change_notice();
CREATE TRIGGER users_change_notice AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION natpilot_change_notice();
CREATE TRIGGER sessions_change_notice AFTER INSERT OR UPDATE OR DELETE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION natpilot_change_notice();
CREATE TRIGGER api_tokens_change_notice AFTER INSERT OR UPDATE OR DELETE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION natpilot_change_notice();
CREATE TRIGGER approvals_change_notice AFTER INSERT OR UPDATE OR DELETE ON approvals
    FOR EACH STATEMENT EXECUTE FUNCTION natpilot_change_notice();
