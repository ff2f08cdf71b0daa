-- Sign-in for the first-party CLI (OAuth 2.0 authorization code + PKCE, RFC 8252 loopback
-- redirects, RFC 8628 device authorization). Every grant is a session of kind 'cli'; its
-- access and refresh tokens hang off that session, so revoking the session ends them.

-- A browser step in progress: created by /oauth/authorize, good for 5 minutes.
CREATE TABLE oauth_requests (
    id             BLOB PRIMARY KEY NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    state          TEXT NOT NULL,
    device_name    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);

-- Authorization codes: 60 seconds, single use. session_id records what a code produced, so a
-- replayed code can revoke it.
CREATE TABLE oauth_codes (
    code_hash      BLOB PRIMARY KEY NOT NULL,
    user_id        BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    device_name    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT,
    session_id     BLOB
);

-- Access (kind 'access', 1 hour) and refresh (kind 'refresh', rotating) tokens of a grant.
CREATE TABLE oauth_tokens (
    token_hash BLOB PRIMARY KEY NOT NULL,
    session_id BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX oauth_tokens_session_id ON oauth_tokens (session_id);

-- Device authorization: approved (TRUE), denied (FALSE) or pending (NULL) by a signed-in user.
CREATE TABLE device_codes (
    device_code_hash BLOB PRIMARY KEY NOT NULL,
    user_code        TEXT NOT NULL UNIQUE,
    device_name      TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    interval_secs    BIGINT NOT NULL,
    last_poll_at     BIGINT,
    user_id          BLOB REFERENCES users (id) ON DELETE CASCADE,
    approved         BOOLEAN
);
