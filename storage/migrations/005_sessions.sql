-- What a person was in the middle of (a half-typed phone booking, a mission being described),
-- kept across restarts. Values are opaque to the store: the bot serialises them.
CREATE TABLE user_sessions (
    user_id  INTEGER PRIMARY KEY,
    value    BLOB NOT NULL
);

CREATE TABLE conversation_states (
    name   TEXT NOT NULL,
    key    TEXT NOT NULL,  -- the conversation's key (chat and user ids), as JSON
    state  BLOB NOT NULL,
    PRIMARY KEY (name, key)
) WITHOUT ROWID;
