-- Pending OAuth2 authorization-code flows (StartOAuthAuthorization -> CompleteOAuthAuthorization).
-- The state is kept only as its SHA-256, so a dump of this table names no usable flow; the PKCE
-- code verifier is sealed like connection secrets (AES-256-GCM data key wrapped under key_id).
-- A row is deleted when it is used, so a state works once.
CREATE TABLE oauth_states (
    state_hash    bytea PRIMARY KEY,
    org_id        uuid NOT NULL,
    connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    redirect_uri  text NOT NULL,
    key_id        text NOT NULL,
    wrapped_key   bytea NOT NULL,
    ciphertext    bytea NOT NULL,
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX oauth_states_expiry_idx ON oauth_states (expires_at);
