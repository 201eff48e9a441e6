-- Claim checks: bodies too large for a Kafka record, stored once and passed by reference.
-- Content-addressed (sha256 is the key), so a redelivered producer writes the same row again.
-- A shared infrastructure table used like the bus, not a service's domain: see
-- docs/adr/0006-claim-check-store.md.
CREATE TABLE claims (
    sha256       text        PRIMARY KEY,
    size_bytes   bigint      NOT NULL CHECK (size_bytes >= 0),
    content_type text        NOT NULL,
    body         bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

-- The expiry sweep reads the oldest expiries first.
CREATE INDEX claims_expires_at ON claims (expires_at);
