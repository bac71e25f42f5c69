-- Every hot query reads a range bounded on both sides, by an index, whatever the size of a
-- business's history (issue 12: a million appointments, five hundred businesses).

-- What holds a business's time, by start: free-slot search and the overlap check read start,
-- end and practitioner from the index alone.
CREATE INDEX appointments_holding_by_time
    ON appointments (business_id, starts_at, ends_at, practitioner)
    WHERE status IN ('requested', 'confirmed');

-- The longest held appointment of a business: an appointment overlapping [start, end) starts
-- after start minus that, so an overlap reads a bounded range of starts, not the whole past.
CREATE INDEX appointments_holding_by_length
    ON appointments (business_id, (ends_at - starts_at))
    WHERE status IN ('requested', 'confirmed');

-- The same bound for blocks, which may last weeks (holidays).
CREATE INDEX blocks_by_length ON blocks (business_id, (ends_at - starts_at))
    WHERE removed_at IS NULL;

-- One business's waiting requests, for its employer's summary.
CREATE INDEX appointments_requested_by_business ON appointments (business_id, scheduled_at)
    WHERE status = 'requested';

-- A mail merge's "everyone": people bound by the business's link, and its patients.
CREATE INDEX people_by_business ON people (business_id) WHERE business_id IS NOT NULL;
CREATE INDEX appointments_patients_by_business ON appointments (business_id, patient_id)
    WHERE patient_id IS NOT NULL;

-- A business's changes of the day: its history rows by time, without reading every other
-- business's. An appointment never changes business, so its history rows copy it.
ALTER TABLE appointment_history ADD COLUMN business_id INTEGER REFERENCES businesses(id);
UPDATE appointment_history SET business_id =
    (SELECT business_id FROM appointments WHERE appointments.id = appointment_id);
CREATE INDEX appointment_history_by_business ON appointment_history (business_id, at);

-- At start, the messages a dead deliverer left half-sent: few, found without the sent ones.
CREATE INDEX outbox_sending ON outbox (id) WHERE status = 'sending';
