-- The secretary's business: missions billed per piece, monthly invoices, mail merges.
-- Money is integer cents; timestamps UTC epoch seconds, as everywhere.

CREATE TABLE invoices (
    id            INTEGER PRIMARY KEY,
    year          INTEGER NOT NULL,
    sequence      INTEGER NOT NULL CHECK (sequence > 0),  -- number: YYYY-NNNN
    business_id   INTEGER NOT NULL REFERENCES businesses(id),
    period        TEXT NOT NULL,            -- the month invoiced, YYYY-MM
    issued_at     INTEGER NOT NULL,
    due_on        TEXT NOT NULL,            -- payment due, a calendar day YYYY-MM-DD
    total_cents   INTEGER NOT NULL CHECK (total_cents >= 0),
    -- Who billed whom, as they were on the day: an invoice never changes afterwards, even
    -- when the secretary moves or the employer's address changes in config.
    seller        TEXT NOT NULL,            -- JSON
    client        TEXT NOT NULL,            -- JSON
    -- French law: numbers follow each other without a gap within a year.
    UNIQUE (year, sequence)
);
CREATE INDEX invoices_by_period ON invoices (business_id, period);

CREATE TABLE missions (
    id             INTEGER PRIMARY KEY,
    business_id    INTEGER NOT NULL REFERENCES businesses(id),
    kind           TEXT NOT NULL,
    description    TEXT NOT NULL,
    fee_cents      INTEGER NOT NULL CHECK (fee_cents >= 0),
    status         TEXT NOT NULL CHECK (status IN ('open', 'started', 'done', 'cancelled')),
    due_on         TEXT,                    -- a calendar day YYYY-MM-DD: a day, not an instant
    minutes_spent  INTEGER CHECK (minutes_spent >= 0),
    created_by     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    started_at     INTEGER,
    done_at        INTEGER,
    cancelled_at   INTEGER,
    invoice_id     INTEGER REFERENCES invoices(id),
    CHECK ((status = 'done') = (done_at IS NOT NULL)),
    CHECK (invoice_id IS NULL OR status = 'done')
);
-- Statements, earnings and daily summaries: a business's done missions by time.
CREATE INDEX missions_done_by_time ON missions (business_id, done_at) WHERE status = 'done';
CREATE INDEX missions_open ON missions (business_id, due_on) WHERE status IN ('open', 'started');

-- What was billed, copied from the missions at issue time.
CREATE TABLE invoice_lines (
    invoice_id   INTEGER NOT NULL REFERENCES invoices(id),
    position     INTEGER NOT NULL,
    mission_id   INTEGER NOT NULL UNIQUE REFERENCES missions(id),  -- billed once, ever
    done_at      INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    description  TEXT NOT NULL,
    fee_cents    INTEGER NOT NULL,
    PRIMARY KEY (invoice_id, position)
) WITHOUT ROWID;

-- An invoiced mission is locked, and an invoice is never edited nor deleted: the code
-- refuses first, these make it impossible even for a bug or a hand-written UPDATE.
CREATE TRIGGER missions_invoiced_are_locked BEFORE UPDATE ON missions
WHEN OLD.invoice_id IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'mission is invoiced and locked');
END;

CREATE TRIGGER missions_invoiced_are_kept BEFORE DELETE ON missions
WHEN OLD.invoice_id IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'mission is invoiced and locked');
END;

CREATE TRIGGER invoices_are_final BEFORE UPDATE ON invoices
BEGIN
    SELECT RAISE(ABORT, 'an invoice is final');
END;

CREATE TRIGGER invoices_are_kept BEFORE DELETE ON invoices
BEGIN
    SELECT RAISE(ABORT, 'an invoice is final');
END;

CREATE TRIGGER invoice_lines_are_final BEFORE UPDATE ON invoice_lines
BEGIN
    SELECT RAISE(ABORT, 'an invoice is final');
END;

CREATE TRIGGER invoice_lines_are_kept BEFORE DELETE ON invoice_lines
BEGIN
    SELECT RAISE(ABORT, 'an invoice is final');
END;

-- A mail merge: one run, its recipients, each with the exact text previewed.
CREATE TABLE mail_merges (
    id                   INTEGER PRIMARY KEY,
    business_id          INTEGER NOT NULL REFERENCES businesses(id),
    mission_id           INTEGER NOT NULL UNIQUE REFERENCES missions(id),
    audience             TEXT NOT NULL,     -- all | day:YYYY-MM-DD | since:YYYY-MM-DD
    template             TEXT NOT NULL,
    language             TEXT NOT NULL,     -- the secretary's, for the progress messages
    status               TEXT NOT NULL CHECK (status IN ('running', 'finished')),
    created_by           INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    finished_at          INTEGER,
    progress_chat_id     INTEGER,
    progress_message_id  INTEGER
);
CREATE INDEX mail_merges_running ON mail_merges (id) WHERE status = 'running';

-- pending -> claimed -> sent | blocked | failed, or back to pending after a 429.
-- A row found 'claimed' at start-up was being sent when the bot stopped: it becomes
-- 'unknown' and is never sent again (see storage/missions.py, MailMerges).
CREATE TABLE mail_merge_recipients (
    merge_id    INTEGER NOT NULL REFERENCES mail_merges(id),
    patient_id  INTEGER NOT NULL REFERENCES people(telegram_id),
    position    INTEGER NOT NULL,
    text        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
                    ('pending', 'claimed', 'sent', 'blocked', 'failed', 'unknown')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    message_id  INTEGER,
    error       TEXT,
    updated_at  INTEGER,
    PRIMARY KEY (merge_id, patient_id)      -- one copy per patient and run, by construction
);
CREATE INDEX mail_merge_recipients_by_status
    ON mail_merge_recipients (merge_id, status, position);
