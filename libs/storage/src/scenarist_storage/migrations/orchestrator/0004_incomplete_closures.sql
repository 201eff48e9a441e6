-- How incomplete executions (bundles parked in a run's engine state) were closed: retried (with
-- the run that resumed them) or resolved by hand. One row per incomplete execution, first wins.
CREATE TABLE incomplete_closures (
    org_id        uuid NOT NULL,
    incomplete_id text NOT NULL CHECK (length(incomplete_id) <= 200),
    run_id        uuid NOT NULL,
    status        text NOT NULL CHECK (status IN ('retried', 'resolved')),
    retry_run_id  uuid,
    closed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, incomplete_id)
);

CREATE INDEX incomplete_closures_run_idx ON incomplete_closures (org_id, run_id);
