-- A request's age counts from when it got its current time (a move is a new request), so
-- expiry and the inbox read requests by scheduled_at.
DROP INDEX appointments_requested_by_age;
CREATE INDEX appointments_requested_by_age ON appointments (scheduled_at)
    WHERE status = 'requested';

-- A confirmed appointment the patient asked to move keeps its old time here until the office
-- answers: declined or expired, the patient keeps the appointment they had.
ALTER TABLE appointments ADD COLUMN previous_starts_at INTEGER;
ALTER TABLE appointments ADD COLUMN previous_ends_at INTEGER;
ALTER TABLE appointments ADD COLUMN previous_practitioner TEXT;
