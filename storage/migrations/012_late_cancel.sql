-- A cancellation the patient asked for inside the business's cancel notice, done by the
-- office: counted apart from no-shows, on the patient's card and in the summary.
ALTER TABLE appointments ADD COLUMN cancelled_late INTEGER NOT NULL DEFAULT 0;
