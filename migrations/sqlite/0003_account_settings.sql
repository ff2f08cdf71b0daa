-- Account settings and recovery: email changes with an undo link, password resets, released
-- usernames in cooldown, spent CAPTCHA solutions, enterprise-managed accounts, and the team
-- membership that account deletion must check.

-- The slug of the enterprise team that manages this account (SCIM), NULL for everyone else.
ALTER TABLE users ADD COLUMN managed_by TEXT;

-- 'signup' confirms the current address; 'change' moves the account to the address.
ALTER TABLE email_verifications ADD COLUMN purpose TEXT NOT NULL DEFAULT 'signup';

CREATE TABLE password_resets (
    token_hash BLOB PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX password_resets_user_id ON password_resets (user_id);

-- Sent to the old address when an email change is requested: undoes it for 7 days.
CREATE TABLE email_change_undos (
    token_hash BLOB PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    old_email  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX email_change_undos_user_id ON email_change_undos (user_id);

-- A username given up (renamed or deleted) stays reserved until available_at; its former
-- owner may take it back sooner. No foreign key: the owner may be gone.
CREATE TABLE retired_usernames (
    username_norm TEXT PRIMARY KEY NOT NULL,
    user_id       BLOB NOT NULL,
    available_at  BIGINT NOT NULL
);

-- ALTCHA solutions already accepted, kept until their challenge expires.
CREATE TABLE captcha_spent (
    signature  TEXT PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE teams (
    id         BLOB PRIMARY KEY NOT NULL,
    slug       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE team_members (
    team_id   BLOB NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id   BLOB NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    role      TEXT NOT NULL,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user_id ON team_members (user_id);
