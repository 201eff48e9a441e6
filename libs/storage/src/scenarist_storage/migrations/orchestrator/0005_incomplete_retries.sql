-- Automatic completion of incomplete executions: one row per parked bundle the orchestrator has
-- seen, with its retry plan (minutes between attempts), the automatic attempts made before it
-- was parked, when the next one is due, and what became of its retry run. Closures (0004) stay
-- the first-writer-wins truth of "retried/resolved"; these rows schedule and follow up.
CREATE TABLE incomplete_retries (
    org_id          uuid NOT NULL,
    incomplete_id   text NOT NULL CHECK (length(incomplete_id) <= 200),
    run_id          uuid NOT NULL,
    scenario_id     uuid NOT NULL,
    attempt         integer NOT NULL CHECK (attempt >= 0),
    plan_minutes    double precision[] NOT NULL DEFAULT '{}',
    first_parked_at timestamptz NOT NULL,
    due_at          timestamptz,
    state           text NOT NULL
        CHECK (state IN ('waiting', 'manual', 'retrying', 'completed', 'retried', 'closed')),
    retry_run_id    uuid,
    claimed_until   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, incomplete_id)
);

CREATE INDEX incomplete_retries_run_idx ON incomplete_retries (org_id, run_id);
CREATE INDEX incomplete_retries_due_idx ON incomplete_retries (due_at) WHERE state = 'waiting';
CREATE INDEX incomplete_retries_retrying_idx ON incomplete_retries (org_id, incomplete_id)
    WHERE state = 'retrying';
CREATE INDEX incomplete_retries_retry_run_idx ON incomplete_retries (org_id, retry_run_id)
    WHERE retry_run_id IS NOT NULL;

-- Finished runs holding parked bundles, in finishing order: what the loop discovers. The only
-- key of the engine's opaque run state that storage reads is "incomplete".
CREATE INDEX runs_parking_idx ON runs (updated_at)
    WHERE status IN ('warning', 'error') AND state -> 'incomplete' <> '[]'::jsonb;
