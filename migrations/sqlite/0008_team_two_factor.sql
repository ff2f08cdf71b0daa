-- A team can require its admins to use two-factor authentication (ASVS V4.3.1), as a GitHub
-- organization can. Off for existing teams, so nobody is locked out by the upgrade.
ALTER TABLE teams ADD COLUMN require_2fa BOOLEAN NOT NULL DEFAULT FALSE;
