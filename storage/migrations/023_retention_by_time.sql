-- The minute sweep forgets what is past its retention, oldest first: by these indexes it
-- reads only what it forgets, not every appointment and message ever kept to find none.
CREATE INDEX appointments_by_end ON appointments (ends_at);
CREATE INDEX thread_messages_by_time ON thread_messages (created_at);
