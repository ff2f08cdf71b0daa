-- Mail bodies carry live links (password reset, confirmation, invitation), so they rest sealed
-- with the server key (ASVS V2.5.1): `sealed_body` holds both bodies, and new rows leave
-- `text_body` and `html_body` empty. Rows queued before this migration keep their clear
-- bodies until they are delivered; the bodies of mail already delivered, or never to be (its
-- retry time is the worker's "never", i64::MAX / 4), are dropped now.
ALTER TABLE outbox ADD COLUMN sealed_body BYTEA;
UPDATE outbox SET text_body = '', html_body = ''
WHERE sent_at IS NOT NULL OR next_attempt_at >= 2305843009213693951;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
