-- When credentials were last entered for this session (ASVS V3.3.4): ending other sessions
-- needs a sign-in or a re-entry within the last 15 minutes. NULL means only at sign-in
-- (`created_at`). A CLI grant is approved from a browser session without a password, so its
-- session inherits the approving session's time, carried by the code the approval made.
ALTER TABLE sessions ADD COLUMN reauthenticated_at BIGINT;
ALTER TABLE oauth_codes ADD COLUMN authenticated_at BIGINT;
ALTER TABLE device_codes ADD COLUMN authenticated_at BIGINT;
