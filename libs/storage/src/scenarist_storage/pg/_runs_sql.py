"""SQL of PgRunStore; `{s}` is the schema (see postgres.qualify)."""

from __future__ import annotations

_RUN_COLUMNS = """
r.org_id, r.id, r.seq, r.scenario_id, r.version, r.idempotency_key, r.trigger, r.source,
r.status, r.state, r.operations, r.owner_epoch, r.created_at, r.updated_at
"""

_STATEMENTS: dict[str, str] = {
    # No conflict target: both the primary key and the idempotency index dedupe.
    "insert_runs": """
        INSERT INTO {s}.runs
            (org_id, id, scenario_id, version, idempotency_key, trigger, source, status)
        SELECT w.*, $8 FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::integer[],
                                   $5::text[], $6::jsonb[], $7::text[]) AS w
        ON CONFLICT DO NOTHING
        RETURNING id
    """,
    # Per input (ord), the run it resolves to: the idempotency-key match first, then the id.
    # The trigger of a run this batch inserted ($5) is not read back: the caller has it, and a
    # big one (a 10 MB webhook body) would be sent, decoded and held a second time.
    "match_runs": """
        SELECT w.ord, {cols_without_trigger},
               CASE WHEN r.id = ANY($5::uuid[]) THEN NULL ELSE r.trigger END AS trigger
        FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[])
             WITH ORDINALITY AS w(org_id, run_id, scenario_id, key, ord)
        JOIN {s}.runs r ON r.org_id = w.org_id AND (
             (w.key IS NOT NULL AND r.scenario_id = w.scenario_id AND r.idempotency_key = w.key)
             OR r.id = w.run_id)
        ORDER BY w.ord, (w.key IS NOT NULL AND r.idempotency_key = w.key) DESC
    """,
    "get_run": "SELECT {cols} FROM {s}.runs r WHERE r.org_id = $1 AND r.id = $2",
    "next_owner_epoch": "SELECT nextval('{s}.owner_epochs')",
    "list_runs": """
        SELECT {cols} FROM {s}.runs r
        WHERE r.org_id = $1
          AND ($2::uuid IS NULL OR r.scenario_id = $2)
          AND ($3::text[] IS NULL OR r.status = ANY($3))
          AND ($4::bigint IS NULL OR r.seq < $4)
        ORDER BY r.seq DESC
        LIMIT $5
    """,
    "lock_runs": """
        SELECT id FROM {s}.runs WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE
    """,
    # Fencing: only rows whose stored epoch is <= the writer's are updated (and take its epoch).
    "save_states": """
        UPDATE {s}.runs r
        SET state = w.state, status = w.status, operations = w.operations,
            owner_epoch = w.epoch, updated_at = now()
        FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::jsonb[], $5::text[],
                    $6::bigint[]) AS w(org_id, run_id, epoch, state, status, operations)
        WHERE r.id = w.run_id AND r.org_id = w.org_id AND r.owner_epoch <= w.epoch
        RETURNING r.id
    """,
    "insert_outbox": """
        INSERT INTO {s}.outbox (topic, key, value, header_keys, header_values, run_id)
        VALUES ($1, $2, $3, $4, $5, $6)
    """,
    # SKIP LOCKED: concurrent relays take disjoint messages instead of waiting on each other.
    "claim_outbox": """
        UPDATE {s}.outbox o SET claimed_until = now() + make_interval(secs => $2)
        WHERE o.id IN (
            SELECT id FROM {s}.outbox
            WHERE claimed_until IS NULL OR claimed_until <= now()
            ORDER BY id LIMIT $1
            FOR UPDATE SKIP LOCKED)
        RETURNING o.id, o.topic, o.key, o.value, o.header_keys, o.header_values, o.run_id
    """,
    "delete_outbox": "DELETE FROM {s}.outbox WHERE id = ANY($1::bigint[])",
}

# Plain replacement, not f-strings: the column list is a constant and the schema is validated
# by qualify(), so no caller input is ever spliced into SQL text.
_WITHOUT_TRIGGER = _RUN_COLUMNS.replace(" r.trigger,", "")
STATEMENTS = {
    name: text.replace("{cols_without_trigger}", _WITHOUT_TRIGGER).replace("{cols}", _RUN_COLUMNS)
    for name, text in _STATEMENTS.items()
}
