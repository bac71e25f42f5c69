-- One outbox for every message the bot owes someone. A change of state writes its messages
-- here in its own transaction; one deliverer sends them and records what became of each.
-- created_at is business time (the injected clock); claimed_at and not_before are the
-- transport's own wall-clock seconds, so retries run on real time whatever the clock says.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    chat_id         INTEGER NOT NULL,
    appointment_id  INTEGER REFERENCES appointments(id),
    payload         TEXT NOT NULL DEFAULT '{}',
    created_at      INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
                        ('pending', 'sending', 'sent', 'failed', 'expired', 'uncertain', 'moot')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    not_before      REAL NOT NULL DEFAULT 0,
    claimed_by      TEXT,
    claimed_at      REAL,
    parts_sent      INTEGER NOT NULL DEFAULT 0,
    message_id      INTEGER,
    finished_at     INTEGER,
    error           TEXT
);
-- The deliverer's queue: what is still owed, chat by chat in order.
CREATE INDEX outbox_open ON outbox (chat_id, id) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_due ON outbox (not_before) WHERE status = 'pending';
CREATE INDEX outbox_by_appointment ON outbox (appointment_id) WHERE appointment_id IS NOT NULL;
