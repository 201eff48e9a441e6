-- "Determine data structure": one capture per webhook, armed by a person, filled by the next
-- request (parsed body as JSON, at most 64 KiB), removed with the webhook.
CREATE TABLE webhook_captures (
    webhook_id   uuid PRIMARY KEY REFERENCES webhooks (id) ON DELETE CASCADE,
    org_id       uuid NOT NULL,
    waiting      boolean NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    captured_at  timestamptz,
    content_type text NOT NULL DEFAULT '',
    body         bytea NOT NULL DEFAULT ''::bytea CHECK (length(body) <= 65536),
    body_bytes   bigint NOT NULL DEFAULT 0,
    too_large    boolean NOT NULL DEFAULT false
);

CREATE INDEX webhook_captures_waiting_idx ON webhook_captures (webhook_id) WHERE waiting;
