-- Schedules and polling triggers of the trigger service, and the per-scenario run budget that
-- enforces "maximum runs started per minute" across every trigger replica.
-- The scheduler claims due rows with FOR UPDATE SKIP LOCKED (one replica per row), writes the
-- RunRequested into `pending_message` in the same transaction that advances `next_due_at`,
-- `cursor` and `seen_ids`, and clears it once the bus acknowledged it.
CREATE TABLE schedules (
    seq                 bigserial UNIQUE,
    id                  uuid PRIMARY KEY,
    org_id              uuid NOT NULL,
    scenario_id         uuid NOT NULL,
    name                text NOT NULL,
    timing              jsonb NOT NULL,
    time_zone           text NOT NULL DEFAULT 'UTC',
    start_at            timestamptz,
    end_at              timestamptz,
    max_runs_per_minute integer NOT NULL DEFAULT 0 CHECK (max_runs_per_minute >= 0),
    poll                jsonb,
    paused              boolean NOT NULL DEFAULT false,
    next_due_at         timestamptz,   -- the slot to fire next (its time names the run's key)
    attempt_at          timestamptz,   -- when to try it: next_due_at, or later when rate-limited
    cursor              text,
    seen_ids            jsonb NOT NULL DEFAULT '[]'::jsonb,
    pending_key         text,
    pending_message     bytea,
    pending_since       timestamptz,
    last_fired_at       timestamptz,
    last_error          text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((pending_key IS NULL) = (pending_message IS NULL))
);

CREATE INDEX schedules_org_idx ON schedules (org_id, seq DESC);
CREATE INDEX schedules_scenario_idx ON schedules (org_id, scenario_id, seq DESC);
CREATE INDEX schedules_due_idx ON schedules (attempt_at)
    WHERE NOT paused AND pending_message IS NULL AND attempt_at IS NOT NULL;
CREATE INDEX schedules_pending_idx ON schedules (pending_since) WHERE pending_message IS NOT NULL;

CREATE TABLE scenario_run_budgets (
    org_id       uuid NOT NULL,
    scenario_id  uuid NOT NULL,
    window_start timestamptz NOT NULL,
    started      integer NOT NULL,
    PRIMARY KEY (org_id, scenario_id)
);
