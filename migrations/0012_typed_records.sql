-- Records that cannot be misread (issue 10).
--
-- 1. A plan stores each change together with its undo record (`items: [{change, undo}]`)
--    instead of two arrays paired by index. Plans already stored are rewritten pair by pair.
UPDATE run_steps
SET plan = json_remove(
        json_set(plan, '$.items', (
            SELECT json_group_array(json_object('change', json(x.cv), 'undo', json(x.uv)))
            FROM (
                SELECT c.value AS cv, u.value AS uv
                FROM json_each(run_steps.plan, '$.changes') AS c
                JOIN json_each(run_steps.plan, '$.undo') AS u ON u.key = c.key
                ORDER BY c.key
            ) AS x
        )),
        '$.changes', '$.undo')
WHERE json_type(plan, '$.changes') = 'array';

-- 2. The NAT gateway a run uses is a typed record of its own, written in the same transaction
--    as the undo record that names it, instead of being recovered by scanning undo JSON.
CREATE TABLE run_nat_gateways (
    run_id          TEXT PRIMARY KEY NOT NULL REFERENCES runs (id),
    nat_gateway_id  TEXT NOT NULL,
    how             TEXT NOT NULL CHECK (how IN ('created', 'adopted')),
    at              INTEGER NOT NULL
) STRICT;

-- Runs recorded before this table: the newest create record that names a gateway, else the
-- step 2 plan's adopted gateway.
INSERT INTO run_nat_gateways (run_id, nat_gateway_id, how, at)
SELECT u.run_id, json_extract(u.action, '$.undo.nat_id'), 'created', MAX(u.updated_at)
FROM undo_records AS u
WHERE json_extract(u.action, '$.undo.kind') = 'delete_nat_gateway'
  AND json_extract(u.action, '$.undo.nat_id') IS NOT NULL
  AND u.id = (SELECT MAX(v.id) FROM undo_records AS v
              WHERE v.run_id = u.run_id
                AND json_extract(v.action, '$.undo.kind') = 'delete_nat_gateway'
                AND json_extract(v.action, '$.undo.nat_id') IS NOT NULL)
GROUP BY u.run_id;

INSERT OR IGNORE INTO run_nat_gateways (run_id, nat_gateway_id, how, at)
SELECT s.run_id, json_extract(i.value, '$.change.nat_id'), 'adopted', s.updated_at
FROM run_steps AS s, json_each(s.plan, '$.items') AS i
WHERE s.step = 2 AND json_extract(i.value, '$.change.kind') = 'adopt_nat_gateway';
