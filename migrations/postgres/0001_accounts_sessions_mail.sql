-- Accounts, sign-in sessions, email confirmation, the mail outbox and sign-in throttling.
-- Uniqueness is on the normalised (lower-cased) forms, enforced here rather than in code so
-- two racing sign-ups cannot both win.

CREATE TABLE users (
    id                UUID PRIMARY KEY,
    email             TEXT NOT NULL,
    email_norm        TEXT NOT NULL,
    email_verified_at BIGINT,
    username          TEXT NOT NULL,
    username_norm     TEXT NOT NULL,
    password_hash     TEXT,
    name              TEXT NOT NULL DEFAULT '',
    role              TEXT NOT NULL DEFAULT '',
    terms_accepted_at BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    CONSTRAINT users_email_norm_key UNIQUE (email_norm),
    CONSTRAINT users_username_norm_key UNIQUE (username_norm)
);

-- idle_secs is NULL for "stay signed in" sessions, which only have the absolute expiry.
CREATE TABLE sessions (
    id           UUID PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   BYTEA NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    remember     BOOLEAN NOT NULL,
    idle_secs    BIGINT,
    user_agent   TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);

-- One row per link sent; the address is recorded so a link only confirms what it was sent to.
CREATE TABLE email_verifications (
    token_hash BYTEA PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX email_verifications_user_id ON email_verifications (user_id);

-- Durable outbox: written in the transaction that caused the mail, drained by a worker.
CREATE TABLE outbox (
    id              UUID PRIMARY KEY,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at         BIGINT,
    last_error      TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE sent_at IS NULL;

-- GCRA rate limiting: tat_ms is the "theoretical arrival time" of the next allowed event.
CREATE TABLE throttle (
    key    TEXT PRIMARY KEY,
    tat_ms BIGINT NOT NULL
);
