-- A series of appointments the office books at once: every `every_weeks` weeks, `count`
-- times, for one patient (Telegram) or one phone caller. Each occurrence is an ordinary
-- appointment that names its series, so that it is checked, reminded and cancelled as one.
CREATE TABLE series (
    id            INTEGER PRIMARY KEY,
    business_id   INTEGER NOT NULL REFERENCES businesses(id),
    service       TEXT NOT NULL,
    every_weeks   INTEGER NOT NULL CHECK (every_weeks >= 1),
    count         INTEGER NOT NULL CHECK (count >= 1),
    patient_id    INTEGER REFERENCES people(telegram_id),
    caller_name   TEXT,
    caller_phone  TEXT,
    created_by    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
ALTER TABLE appointments ADD COLUMN series_id INTEGER REFERENCES series(id);
CREATE INDEX appointments_by_series ON appointments (series_id, starts_at) WHERE series_id IS NOT NULL;
