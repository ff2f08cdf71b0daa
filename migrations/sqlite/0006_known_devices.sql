-- Where each account has signed in from: a device ("Chrome on macOS", as sessions show it) and
-- an IP address. A sign-in from a pair not seen for 90 days mails the owner (ASVS V2.2.3).
-- Rows outlive the sessions they came from, so signing out does not make a device new again.
CREATE TABLE known_devices (
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device       TEXT NOT NULL,
    ip           TEXT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, device, ip)
);
