-- Execution history: one row per module attempt, and one summary row per run.
CREATE TABLE steps (
    org_id      uuid NOT NULL,
    run_id      uuid NOT NULL,
    task_id     text NOT NULL,
    attempt     integer NOT NULL CHECK (attempt >= 0),
    module_id   text NOT NULL,
    status      text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    data        jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- At-least-once delivery of logs.steps: a redelivered step is the same primary key.
    PRIMARY KEY (run_id, task_id, attempt)
);

CREATE INDEX steps_started_idx ON steps (started_at);

CREATE TABLE run_summaries (
    org_id      uuid NOT NULL,
    run_id      uuid PRIMARY KEY,
    scenario_id uuid NOT NULL,
    status      text NOT NULL,
    operations  bigint NOT NULL DEFAULT 0,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    updated_at  timestamptz NOT NULL,
    error       jsonb
);

CREATE INDEX run_summaries_scenario_idx ON run_summaries (org_id, scenario_id, started_at DESC);
CREATE INDEX run_summaries_updated_idx ON run_summaries (updated_at);
