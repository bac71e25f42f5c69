-- What the bot could not serve goes to a person: a thread between one patient and the office
-- of one business, open until a secretary closes it or it goes quiet.
CREATE TABLE threads (
    id           INTEGER PRIMARY KEY,
    business_id  INTEGER NOT NULL REFERENCES businesses(id),
    patient_id   INTEGER NOT NULL REFERENCES people(telegram_id),
    opened_at    INTEGER NOT NULL,
    last_at      INTEGER NOT NULL,
    closed_at    INTEGER,
    closed_by    INTEGER
);
-- A patient has at most one open thread; the sweep closes quiet ones by last_at.
CREATE UNIQUE INDEX threads_open_by_patient ON threads (patient_id) WHERE closed_at IS NULL;
CREATE INDEX threads_open_by_last ON threads (last_at) WHERE closed_at IS NULL;
CREATE INDEX threads_by_business ON threads (business_id, opened_at);

-- Each message of a thread: from the patient (author NULL) or a secretary's answer.
CREATE TABLE thread_messages (
    id          INTEGER PRIMARY KEY,
    thread_id   INTEGER NOT NULL REFERENCES threads(id),
    author      INTEGER,
    content     TEXT NOT NULL,            -- the text, or what kind of file it was
    is_file     INTEGER NOT NULL DEFAULT 0,  -- a file: copied as it is, from where it is
    chat_id     INTEGER NOT NULL,         -- where the original is, for a copy
    message_id  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX thread_messages_by_thread ON thread_messages (thread_id, id);

