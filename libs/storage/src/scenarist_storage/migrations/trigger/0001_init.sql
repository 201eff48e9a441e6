-- Webhooks of the trigger service. Names are unqualified: migrate() sets search_path.
-- The URL token is found by its SHA-256 (one unique-index lookup per request); the token itself
-- and signing secrets are stored sealed (AES-GCM by the service), API keys and basic passwords
-- as SHA-256 hashes only.
CREATE TABLE webhooks (
    seq                        bigserial UNIQUE,
    id                         uuid PRIMARY KEY,
    org_id                     uuid NOT NULL,
    scenario_id                uuid,
    name                       text NOT NULL,
    token_hash                 bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    sealed_token               bytea NOT NULL,
    auth_type                  text NOT NULL
        CHECK (auth_type IN ('none', 'api_key', 'basic', 'standard_webhooks')),
    auth_username              text NOT NULL DEFAULT '',
    secret_hash                bytea CHECK (secret_hash IS NULL OR length(secret_hash) = 32),
    sealed_secret              bytea,
    previous_sealed_secret     bytea,
    previous_secret_expires_at timestamptz,
    options                    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    rotated_at                 timestamptz
);

CREATE INDEX webhooks_org_idx ON webhooks (org_id, seq DESC);
CREATE INDEX webhooks_scenario_idx ON webhooks (org_id, scenario_id, seq DESC);
