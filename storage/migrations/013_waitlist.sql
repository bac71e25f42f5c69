-- The waitlist: a patient's wish for a time nothing fitted (a day or days, a part of the
-- day, a practitioner), kept until it is met, left, or its days pass; and the freed slots
-- offered to each in turn, held for a while for the one asked.
-- Days and times of a wish are the business's local ones, as the patient asked them.
CREATE TABLE waitlist_entries (
    id            INTEGER PRIMARY KEY,
    business_id   INTEGER NOT NULL REFERENCES businesses(id),
    patient_id    INTEGER NOT NULL REFERENCES people(telegram_id),
    service       TEXT NOT NULL,
    day_from      TEXT NOT NULL,            -- YYYY-MM-DD
    day_to        TEXT NOT NULL CHECK (day_to >= day_from),
    time_from     TEXT,                     -- HH:MM; NULL: any time of the day
    time_to       TEXT,
    practitioner  TEXT,                     -- NULL: anyone
    created_at    INTEGER NOT NULL,
    ended_at      INTEGER,
    ended_why     TEXT CHECK (ended_why IN ('taken', 'left', 'passed'))
);
-- One entry per wish: joining twice is joining once.
CREATE UNIQUE INDEX waitlist_one_wish ON waitlist_entries (
    patient_id, business_id, service, day_from, day_to,
    COALESCE(time_from, ''), COALESCE(time_to, ''), COALESCE(practitioner, '')
) WHERE ended_at IS NULL;
CREATE INDEX waitlist_active ON waitlist_entries (created_at, id) WHERE ended_at IS NULL;

CREATE TABLE waitlist_offers (
    id            INTEGER PRIMARY KEY,
    entry_id      INTEGER NOT NULL REFERENCES waitlist_entries(id),
    business_id   INTEGER NOT NULL REFERENCES businesses(id),
    practitioner  TEXT NOT NULL,
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER NOT NULL CHECK (ends_at > starts_at),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    ended_at      INTEGER,
    outcome       TEXT CHECK (outcome IN ('taken', 'refused', 'lapsed', 'gone', 'left'))
);
-- An entry is asked about one slot at a time.
CREATE UNIQUE INDEX waitlist_one_open_offer ON waitlist_offers (entry_id) WHERE ended_at IS NULL;
CREATE INDEX waitlist_offers_by_entry ON waitlist_offers (entry_id);
