-- The office's own note on a patient, shown on their card: one per Telegram patient
-- ('patient:<telegram id>') or per phone caller ('phone:<number as typed>').
CREATE TABLE patient_notes (
    subject     TEXT PRIMARY KEY,
    note        TEXT NOT NULL,
    updated_by  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- A block over several days with hours is one block a day; they share the series (the id
-- of the first), so that they are shown and lifted as one.
ALTER TABLE blocks ADD COLUMN series INTEGER;
CREATE INDEX blocks_by_series ON blocks (series) WHERE series IS NOT NULL;

-- A patient's card lists a phone caller's appointments by number.
CREATE INDEX appointments_by_caller_phone ON appointments (caller_phone)
    WHERE caller_phone IS NOT NULL;
