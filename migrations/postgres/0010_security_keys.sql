-- Security keys (WebAuthn) as a second factor beside the authenticator app (ASVS V2.3.2).
-- `credential` is webauthn-rs's `SecurityKey` as JSON: the public key and the signature counter
-- (public data; nothing here signs anything). A credential ID belongs to one account.
-- The key's name is the owner's label for it, not personal data, and stays in clear.
CREATE TABLE security_keys (
    id            UUID PRIMARY KEY,
    user_id       UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id BYTEA NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    credential    TEXT NOT NULL,
    -- The newest signature counter seen, compared and raised in one statement at each use.
    counter       BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX security_keys_user_id ON security_keys (user_id);

-- A registration waiting for the browser's answer: one per account, replaced by a new start.
CREATE TABLE security_key_registrations (
    user_id    UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    state      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- The challenge a security key must sign to finish this second step.
ALTER TABLE mfa_challenges ADD COLUMN security_key_state TEXT;
