-- Personal data rests sealed with the server key (ASVS V6.1.1): names and addresses, where and
-- with what people sign in, and whom mail goes to. SQL cannot encrypt, so this migration only
-- adds the columns; at start-up the server seals what is still in the clear columns and empties
-- them (`src/store/sealing.rs`). Clear columns stay, as on SQLite (which cannot drop them from a
-- constrained table without rebuilding it), and hold '' once sealed.

-- The address is looked up and must stay unique, so `email_norm` becomes a keyed blind index:
-- HMAC-SHA256 of the lower-cased address, hex. Clear rows keep their address there until the
-- start-up step replaces it; an index never holds an '@'. The UNIQUE constraint carries over.
ALTER TABLE users RENAME COLUMN email_norm TO email_index;
ALTER TABLE users RENAME CONSTRAINT users_email_norm_key TO users_email_index_key;
ALTER TABLE users ADD COLUMN email_sealed BYTEA;
ALTER TABLE users ADD COLUMN name_sealed BYTEA;

-- The IP address and user agent, sealed together.
ALTER TABLE sessions ADD COLUMN client_sealed BYTEA;

ALTER TABLE email_verifications ADD COLUMN email_sealed BYTEA;
ALTER TABLE email_change_undos ADD COLUMN old_email_sealed BYTEA;
-- Invitations are never looked up by address, so `email_norm` is simply emptied.
ALTER TABLE team_invitations ADD COLUMN email_sealed BYTEA;

-- Recipient and subject, sealed together; the recipient's blind index lets account deletion
-- drop mail still queued to the address.
ALTER TABLE outbox ADD COLUMN header_sealed BYTEA;
ALTER TABLE outbox ADD COLUMN recipient_index TEXT;
CREATE INDEX outbox_recipient_index ON outbox (recipient_index) WHERE sent_at IS NULL;

-- Known devices are only ever compared, never shown: a blind index of the (device, IP) pair
-- replaces them. The start-up step moves the rows of `known_devices` here.
CREATE TABLE known_device_pairs (
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pair_index   TEXT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, pair_index)
);

-- Throttle keys name addresses and usernames typed at sign-in and IP addresses; they become
-- blind indexes too. Throttle state lives minutes, so what is there is dropped, not converted.
DELETE FROM throttle;
