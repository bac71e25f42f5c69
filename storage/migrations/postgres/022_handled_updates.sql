-- The updates a worker has handled, by Telegram's id: one Telegram sends again (its 200 was
-- lost, or came after Telegram gave up waiting) is answered without being handled twice.
-- Kept two days, beyond the day Telegram keeps trying an update.
CREATE TABLE handled_updates (
    update_id   BIGINT PRIMARY KEY,
    handled_at  BIGINT NOT NULL
);
CREATE INDEX handled_updates_by_time ON handled_updates (handled_at);
