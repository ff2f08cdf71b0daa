-- Two-factor authentication: a TOTP secret per account (sealed with the server key), single-use
-- recovery codes (keyed hashes), and pending second sign-in steps.

-- Kept in step with totp_credentials.enabled_at in the same transaction, so the per-request
-- session lookup needs no extra join to know whether 2FA is on.
ALTER TABLE users ADD COLUMN mfa_enabled BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE totp_credentials (
    user_id       UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed BYTEA NOT NULL,
    -- NULL while the setup waits for its first code.
    enabled_at    BIGINT,
    -- The newest time step accepted: each step's code works once (RFC 6238 §5.2).
    last_step     BIGINT,
    created_at    BIGINT NOT NULL
);

CREATE TABLE recovery_codes (
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE mfa_challenges (
    token_hash BYTEA PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    remember   BOOLEAN NOT NULL,
    kind       TEXT NOT NULL,
    failures   INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX mfa_challenges_user_id ON mfa_challenges (user_id);
