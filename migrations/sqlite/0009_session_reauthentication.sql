-- When the password was last entered again in this session (ASVS V3.3.4): ending other
-- sessions needs a sign-in or a re-entry within the last 15 minutes. NULL means only at sign-in
-- (`created_at`).
ALTER TABLE sessions ADD COLUMN reauthenticated_at BIGINT;
