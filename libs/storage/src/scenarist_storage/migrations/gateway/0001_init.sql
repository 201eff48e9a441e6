-- Connector gateway: connections with envelope-encrypted secrets, and data stores.
CREATE TABLE connections (
    org_id        uuid NOT NULL,
    id            uuid PRIMARY KEY,
    app           text NOT NULL,
    type          text NOT NULL,
    name          text COLLATE "C" NOT NULL,
    parameters    jsonb NOT NULL DEFAULT '{}'::jsonb,
    secret_fields text[] NOT NULL DEFAULT '{}',
    -- The secret JSON, AES-256-GCM under a per-connection data key; the data key is stored only
    -- wrapped under the key-encryption key `key_id`, so rotating that key rewrites 60 bytes per
    -- row, never the secrets themselves.
    key_id        text NOT NULL,
    wrapped_key   bytea NOT NULL,
    ciphertext    bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz
);

CREATE INDEX connections_list_idx ON connections (org_id, name, id);
CREATE INDEX connections_key_idx ON connections (key_id);

CREATE TABLE data_stores (
    org_id         uuid NOT NULL,
    id             uuid PRIMARY KEY,
    name           text COLLATE "C" NOT NULL,
    fields         jsonb NOT NULL,
    max_size_bytes bigint NOT NULL CHECK (max_size_bytes > 0),
    -- Maintained by every record write in the same transaction, so limits are checked without
    -- summing the records.
    size_bytes     bigint NOT NULL DEFAULT 0,
    record_count   bigint NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name)
);

CREATE TABLE records (
    store_id   uuid NOT NULL REFERENCES data_stores (id) ON DELETE CASCADE,
    key        text COLLATE "C" NOT NULL,
    data       jsonb NOT NULL,
    size_bytes bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, key)
);
