-- The secretary's phone: blocked time, call messages, and the escalations already sent.

-- Time a business (practitioner NULL) or one practitioner cannot be booked. Undoing a block
-- stamps removed_at instead of deleting it, so the audit log's "before" still has a row.
CREATE TABLE blocks (
    id            INTEGER PRIMARY KEY,
    business_id   INTEGER NOT NULL REFERENCES businesses(id),
    practitioner  TEXT,
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER NOT NULL CHECK (ends_at > starts_at),
    reason        TEXT,
    created_by    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    removed_at    INTEGER
);
CREATE INDEX blocks_by_time ON blocks (business_id, starts_at) WHERE removed_at IS NULL;

-- Messages the secretary took on the phone for a business ("recevoir des appels").
CREATE TABLE calls (
    id            INTEGER PRIMARY KEY,
    business_id   INTEGER NOT NULL REFERENCES businesses(id),
    caller_name   TEXT NOT NULL,
    caller_phone  TEXT,
    message       TEXT NOT NULL,
    urgent        INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1)),
    taken_by      INTEGER NOT NULL,
    taken_at      INTEGER NOT NULL
);
-- The daily summary lists a business's calls of one day.
CREATE INDEX calls_by_business ON calls (business_id, taken_at);

-- A request left unanswered too long is flagged to the employers once: this row says it was.
CREATE TABLE escalations (
    appointment_id  INTEGER PRIMARY KEY REFERENCES appointments(id),
    sent_at         INTEGER NOT NULL
);
