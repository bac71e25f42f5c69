-- A secretary answers a passed-on message by replying to it: the message she replies to is
-- found by where it was sent.
CREATE INDEX outbox_sent_as ON outbox (chat_id, message_id) WHERE message_id IS NOT NULL;

-- A mail merge's many copies go after whatever else is owed.
ALTER TABLE outbox ADD COLUMN bulk INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET bulk = 1 WHERE kind = 'mail_merge';
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (bulk, not_before) WHERE status = 'pending';
