-- When the appointment got its current start (booked or moved): a reminder whose moment
-- had already passed then is never sent.
ALTER TABLE appointments ADD COLUMN scheduled_at INTEGER NOT NULL DEFAULT 0;
UPDATE appointments SET scheduled_at = created_at;

-- The patient said they will come (a reminder's Confirm button, or in words).
ALTER TABLE appointments ADD COLUMN patient_confirmed_at INTEGER;

-- The reminder sweep's query: confirmed appointments by start time.
CREATE INDEX appointments_confirmed_by_start ON appointments (starts_at)
    WHERE status = 'confirmed';
-- Request expiry and the inbox: requests by age.
CREATE INDEX appointments_requested_by_age ON appointments (created_at)
    WHERE status = 'requested';

-- One row per reminder: claimed before it is sent, stamped once Telegram accepted it.
-- The start is part of the key so a moved appointment is reminded again for its new time.
CREATE TABLE reminders_sent (
    appointment_id  INTEGER NOT NULL REFERENCES appointments(id),
    offset_minutes  INTEGER NOT NULL,
    starts_at       INTEGER NOT NULL,
    claimed_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    skipped         INTEGER NOT NULL DEFAULT 0,  -- superseded by a later reminder, not sent
    PRIMARY KEY (appointment_id, offset_minutes, starts_at)
) WITHOUT ROWID;

-- Daily summaries and digests: one per recipient and local day.
CREATE TABLE digests_sent (
    kind     TEXT NOT NULL,
    target   TEXT NOT NULL,
    day      TEXT NOT NULL,
    sent_at  INTEGER NOT NULL,
    PRIMARY KEY (kind, target, day)
) WITHOUT ROWID;

-- Daily summaries read the day's changes.
CREATE INDEX appointment_history_by_time ON appointment_history (at);
