-- The run page lists a run's newest warnings and errors: a partial index keeps that a short
-- walk however many info events a large step wrote.
CREATE INDEX run_events_problems ON run_events (run_id, id) WHERE level <> 'info';
