-- Runs requested while their scenario was inactive (Make: "the data is stored in the queue"),
-- started in arrival order when the scenario is activated. The run row itself stays in `runs`
-- with status 'queued' and no state; this table keeps the exact RunRequested bytes.
CREATE TABLE parked_runs (
    seq         bigserial UNIQUE,
    run_id      uuid PRIMARY KEY,
    org_id      uuid NOT NULL,
    scenario_id uuid NOT NULL,
    request     bytea NOT NULL,
    parked_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX parked_runs_scenario_idx ON parked_runs (org_id, scenario_id, seq);
