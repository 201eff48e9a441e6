-- A big run state (a fan-out's thousand tokens and aggregated items) is saved as a small
-- `runs.state` plus these keyed entries, of which a save writes only the ones that changed
-- (docs/adr/0008). A finished run drops its entries; deleting the run deletes them too.
CREATE TABLE run_state_entries (
    run_id  uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key     text NOT NULL,
    value   jsonb NOT NULL,
    PRIMARY KEY (run_id, key)
);
