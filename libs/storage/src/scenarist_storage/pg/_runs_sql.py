"""SQL of PgRunStore; `{s}` is the schema (see postgres.qualify)."""

from __future__ import annotations

_RUN_COLUMNS = """
r.org_id, r.id, r.seq, r.scenario_id, r.version, r.idempotency_key, r.trigger, r.source,
r.status, r.state, r.operations, r.owner_epoch, r.created_at, r.updated_at, r.trigger_claim
"""

_STATEMENTS: dict[str, str] = {
    # No conflict target: both the primary key and the idempotency index dedupe.
    "insert_runs": """
        INSERT INTO {s}.runs
            (org_id, id, scenario_id, version, idempotency_key, trigger, source, status,
             trigger_claim)
        SELECT w.org_id, w.id, w.scenario_id, w.version, w.key, w.trigger, w.source, $8, w.claim
        FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::integer[], $5::text[], $6::jsonb[],
                    $7::text[], $9::jsonb[])
            AS w(org_id, id, scenario_id, version, key, trigger, source, claim)
        ON CONFLICT DO NOTHING
        RETURNING id
    """,
    # insert_runs and match_runs in one statement (one round trip instead of four). Its match
    # sees the rows it inserted (RETURNING, without their trigger: the caller has it, and a big
    # one would be sent and decoded a second time) and those committed before it started; a
    # run that a concurrent writer committed meanwhile is in neither, and the caller then falls
    # back to the two statements in a transaction.
    "create_runs": """
        WITH w AS (
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::integer[], $5::text[],
                                 $6::jsonb[], $7::text[], $9::jsonb[])
                WITH ORDINALITY AS w(org_id, run_id, scenario_id, version, key, trigger, source,
                                     claim, ord)
        ),
        ins AS (
            INSERT INTO {s}.runs AS r
                (org_id, id, scenario_id, version, idempotency_key, trigger, source, status,
                 trigger_claim)
            SELECT w.org_id, w.run_id, w.scenario_id, w.version, w.key, w.trigger, w.source, $8,
                   w.claim
            FROM w ORDER BY w.ord
            ON CONFLICT DO NOTHING
            RETURNING {cols_without_trigger}, NULL::jsonb AS trigger
        ),
        found AS (
            SELECT true AS inserted, * FROM ins
            UNION ALL
            SELECT false, {cols_without_trigger}, r.trigger
            FROM w JOIN {s}.runs r ON r.org_id = w.org_id AND (
                 (w.key IS NOT NULL AND r.scenario_id = w.scenario_id AND r.idempotency_key = w.key)
                 OR r.id = w.run_id)
        )
        SELECT w.ord, f.*
        FROM w JOIN found f ON f.org_id = w.org_id AND (
             (w.key IS NOT NULL AND f.scenario_id = w.scenario_id AND f.idempotency_key = w.key)
             OR f.id = w.run_id)
        ORDER BY w.ord, (w.key IS NOT NULL AND f.idempotency_key = w.key) DESC
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
    "get_run_light": """
        SELECT r.org_id, r.id, r.seq, r.scenario_id, r.version, r.idempotency_key,
               '{}'::jsonb AS trigger, r.source, r.status, '{}'::jsonb AS state,
               r.operations, r.owner_epoch, r.created_at, r.updated_at, r.trigger_claim
        FROM {s}.runs r WHERE r.org_id = $1 AND r.id = $2
    """,
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
    # save_states in one statement (one round trip, atomic without BEGIN/COMMIT): lock the
    # batch's rows in id order (two owners racing over a rebalance queue instead of
    # deadlocking), update those whose stored epoch is <= the writer's, delete what the writer
    # has published, and write its messages unless they name a run whose write was rejected.
    # Headers travel flattened: message i owns entries h_from+1 .. h_from+h_count. State entries
    # are written and dropped only for accepted writes; a write never names one key in both.
    # A write's entries travel as one object (an entry that is a JSON array would otherwise
    # read as a dimension of the array parameter). A write marked new ($21) inserts its run
    # (columns $22..$28) with its state instead of updating it; ON CONFLICT rejects it when
    # the id or the idempotency key exists, and it is never an update of that other run. The
    # statement's parts share one snapshot, so the update never sees the rows inserted here.
    "save_batch": """
        WITH w AS (
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::jsonb[],
                                 $5::text[], $6::bigint[], $21::boolean[], $22::uuid[],
                                 $23::integer[], $24::text[], $25::jsonb[], $26::text[],
                                 $27::jsonb[], $28::timestamptz[])
                AS w(org_id, run_id, epoch, state, status, operations, is_new, scenario_id,
                     version, key, trigger, source, claim, created_at)
        ),
        created AS (
            INSERT INTO {s}.runs
                (org_id, id, scenario_id, version, idempotency_key, trigger, source, status,
                 trigger_claim, state, operations, owner_epoch, created_at)
            SELECT w.org_id, w.run_id, w.scenario_id, w.version, w.key, w.trigger, w.source,
                   w.status, w.claim, w.state, w.operations, w.epoch,
                   COALESCE(w.created_at, now())
            FROM w WHERE w.is_new ORDER BY w.run_id
            ON CONFLICT DO NOTHING
            RETURNING id
        ),
        locked AS MATERIALIZED (
            SELECT id FROM {s}.runs
            WHERE id IN (SELECT run_id FROM w WHERE NOT w.is_new) ORDER BY id FOR UPDATE
        ),
        updated AS (
            UPDATE {s}.runs r
            SET state = w.state, status = w.status, operations = w.operations,
                owner_epoch = w.epoch, updated_at = now()
            FROM w
            WHERE r.id = w.run_id AND r.org_id = w.org_id AND r.owner_epoch <= w.epoch
              AND NOT w.is_new AND r.id IN (SELECT id FROM locked)
            RETURNING r.id
        ),
        saved AS (SELECT id FROM created UNION ALL SELECT id FROM updated),
        gone AS (DELETE FROM {s}.outbox WHERE id = ANY($16::bigint[])),
        put AS (
            INSERT INTO {s}.run_state_entries AS e (run_id, key, value)
            SELECT x.run_id, p.key, p.value
            FROM unnest($17::uuid[], $18::jsonb[]) AS x(run_id, entries),
                 jsonb_each(x.entries) AS p(key, value)
            WHERE x.run_id IN (SELECT id FROM saved)
            ON CONFLICT (run_id, key) DO UPDATE SET value = EXCLUDED.value
        ),
        dropped AS (
            DELETE FROM {s}.run_state_entries e
            USING unnest($19::uuid[], $20::text[]) AS x(run_id, key)
            WHERE e.run_id = x.run_id AND e.key = x.key AND x.run_id IN (SELECT id FROM saved)
        ),
        written AS (
            INSERT INTO {s}.outbox
                (topic, key, value, header_keys, header_values, run_id, claimed_until)
            SELECT m.topic, m.key, m.value,
                   ($10::text[])[m.h_from + 1 : m.h_from + m.h_count],
                   ($11::bytea[])[m.h_from + 1 : m.h_from + m.h_count],
                   m.run_id,
                   CASE WHEN $15::float8 IS NULL THEN NULL
                        ELSE now() + make_interval(secs => $15::float8) END
            FROM unnest($7::text[], $8::bytea[], $9::bytea[], $12::integer[], $13::integer[],
                        $14::uuid[]) WITH ORDINALITY
                AS m(topic, key, value, h_from, h_count, run_id, ord)
            WHERE m.run_id IS NULL OR m.run_id <> ALL($2::uuid[])
               OR m.run_id IN (SELECT id FROM saved)
            ORDER BY m.ord
            RETURNING id
        )
        SELECT ARRAY(SELECT id FROM saved) AS saved,
               ARRAY(SELECT id FROM written ORDER BY id) AS written
    """,
    "state_entries": """
        SELECT e.key, e.value FROM {s}.run_state_entries e
        JOIN {s}.runs r ON r.id = e.run_id AND r.org_id = $1
        WHERE e.run_id = $2
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
