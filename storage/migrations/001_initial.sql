-- Timestamps are UTC, in whole seconds since the epoch: they sort, compare and index as
-- integers, and no local time ever reaches the database.

CREATE TABLE businesses (
    id   INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE people (
    telegram_id   INTEGER PRIMARY KEY,
    first_name    TEXT NOT NULL,
    last_name     TEXT,
    username      TEXT,
    language      TEXT NOT NULL,
    phone         TEXT,
    business_id   INTEGER REFERENCES businesses(id),
    created_at    INTEGER NOT NULL
);

CREATE TABLE appointments (
    id            INTEGER PRIMARY KEY,
    business_id   INTEGER NOT NULL REFERENCES businesses(id),
    practitioner  TEXT NOT NULL,
    service       TEXT NOT NULL,
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER NOT NULL CHECK (ends_at > starts_at),
    status        TEXT NOT NULL CHECK (status IN
                      ('requested', 'confirmed', 'declined', 'cancelled', 'expired', 'done', 'no_show')),
    source        TEXT NOT NULL CHECK (source IN ('patient', 'phone', 'secretary')),
    patient_id    INTEGER REFERENCES people(telegram_id),
    caller_name   TEXT,
    caller_phone  TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- The overlap check inside BEGIN IMMEDIATE is the real guard; this index makes the
-- commonest collision (two bookings of the very same start) impossible even for a bug.
CREATE UNIQUE INDEX appointments_one_active_start
    ON appointments (business_id, practitioner, starts_at)
    WHERE status IN ('requested', 'confirmed');

-- Free-slot search and a business's day: by practitioner and time.
CREATE INDEX appointments_by_time ON appointments (business_id, starts_at);
CREATE INDEX appointments_by_patient ON appointments (patient_id, starts_at);

CREATE TABLE appointment_history (
    id              INTEGER PRIMARY KEY,
    appointment_id  INTEGER NOT NULL REFERENCES appointments(id),
    at              INTEGER NOT NULL,
    actor           INTEGER,            -- Telegram id; NULL for the bot itself
    from_status     TEXT,
    to_status       TEXT NOT NULL,
    note            TEXT
);
CREATE INDEX appointment_history_by_appointment ON appointment_history (appointment_id);

-- Where each secretary was shown a request, so every copy can be updated once one acts.
CREATE TABLE inbox_messages (
    appointment_id  INTEGER NOT NULL REFERENCES appointments(id),
    chat_id         INTEGER NOT NULL,
    message_id      INTEGER NOT NULL,
    PRIMARY KEY (appointment_id, chat_id)
);

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    actor    INTEGER NOT NULL,
    action   TEXT NOT NULL,
    target   TEXT,
    before   TEXT,
    after    TEXT
);
