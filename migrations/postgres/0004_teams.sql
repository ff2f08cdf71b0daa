-- Teams: settings for discovery by company domain and how people join, invitations by email,
-- and requests to join teams that need an admin's approval.

ALTER TABLE teams ADD COLUMN discovery_domain TEXT;          -- NULL: discovery off
ALTER TABLE teams ADD COLUMN join_policy TEXT NOT NULL DEFAULT 'open';
CREATE INDEX teams_discovery_domain ON teams (discovery_domain);

CREATE TABLE team_invitations (
    id         UUID PRIMARY KEY,
    team_id    UUID NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    email_norm TEXT NOT NULL,
    role       TEXT NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    invited_by UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX team_invitations_team_id ON team_invitations (team_id);

CREATE TABLE team_join_requests (
    team_id    UUID NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
