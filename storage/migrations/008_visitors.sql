-- Visitors: people who wrote to the bot but never booked. They are forgotten some time after
-- their last message (People.purge_visitors), found through the index below without looking
-- at anyone who ever was a patient.

-- When each person last wrote to the bot, to within a day. People already here count from
-- their first contact until they write again.
ALTER TABLE people ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
UPDATE people SET last_seen_at = created_at;

-- 1 once the person has an appointment or was sent a mail merge: a patient, kept for good
-- (those rows name them). Set by the triggers, so no writer of those tables can forget it.
ALTER TABLE people ADD COLUMN patient INTEGER NOT NULL DEFAULT 0 CHECK (patient IN (0, 1));
UPDATE people SET patient = 1
WHERE telegram_id IN (SELECT patient_id FROM appointments WHERE patient_id IS NOT NULL)
   OR telegram_id IN (SELECT patient_id FROM mail_merge_recipients);

CREATE TRIGGER people_patient_by_appointment AFTER INSERT ON appointments
WHEN NEW.patient_id IS NOT NULL
BEGIN
    UPDATE people SET patient = 1 WHERE telegram_id = NEW.patient_id AND patient = 0;
END;

CREATE TRIGGER people_patient_by_appointment_change AFTER UPDATE OF patient_id ON appointments
WHEN NEW.patient_id IS NOT NULL
BEGIN
    UPDATE people SET patient = 1 WHERE telegram_id = NEW.patient_id AND patient = 0;
END;

CREATE TRIGGER people_patient_by_mail_merge AFTER INSERT ON mail_merge_recipients
BEGIN
    UPDATE people SET patient = 1 WHERE telegram_id = NEW.patient_id AND patient = 0;
END;

CREATE INDEX people_visitors_by_last_seen ON people (last_seen_at) WHERE patient = 0;
