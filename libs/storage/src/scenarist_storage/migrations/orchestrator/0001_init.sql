-- Scenarios with immutable versions, runs with the engine's state, and the transactional outbox.

-- Soft delete (deleted_at): a deleted scenario is "not found" to the API, but its versions stay so
-- runs already in flight can finish and run history keeps pointing at a real document.
CREATE TABLE scenarios (
    org_id         uuid NOT NULL,
    id             uuid PRIMARY KEY,
    name           text NOT NULL,
    latest_version integer NOT NULL CHECK (latest_version >= 1),
    active         boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz
);

-- Keyset paging by (name, id) in code-point order, the same order the in-memory store uses.
CREATE INDEX scenarios_list_idx ON scenarios (org_id, (name COLLATE "C"), id)
    WHERE deleted_at IS NULL;

CREATE TABLE scenario_versions (
    scenario_id uuid NOT NULL REFERENCES scenarios (id) ON DELETE CASCADE,
    version     integer NOT NULL CHECK (version >= 1),
    document    jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scenario_id, version)
);

-- owner_epoch is the fencing token: a write is applied only when its epoch is >= the stored one.
-- seq orders listings newest-first without relying on clock resolution.
CREATE TABLE runs (
    org_id          uuid NOT NULL,
    id              uuid PRIMARY KEY,
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    scenario_id     uuid NOT NULL,
    version         integer NOT NULL,
    idempotency_key text,
    trigger         jsonb NOT NULL,
    source          text NOT NULL,
    status          text NOT NULL,
    state           jsonb NOT NULL DEFAULT '{}'::jsonb,
    operations      bigint NOT NULL DEFAULT 0 CHECK (operations >= 0),
    owner_epoch     bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Duplicate deliveries (same key for the same scenario) start one run.
CREATE UNIQUE INDEX runs_idempotency_idx ON runs (org_id, scenario_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX runs_org_seq_idx ON runs (org_id, seq DESC);
CREATE INDEX runs_scenario_seq_idx ON runs (org_id, scenario_id, seq DESC);

-- Messages written in the same transaction as the state that produced them; a relay claims them
-- (a lease, so a crashed relay's claims come back), publishes, then deletes them.
CREATE TABLE outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic         text NOT NULL CHECK (topic <> ''),
    key           bytea,
    value         bytea NOT NULL,
    header_keys   text[] NOT NULL DEFAULT '{}',
    header_values bytea[] NOT NULL DEFAULT '{}',
    run_id        uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    claimed_until timestamptz
);
