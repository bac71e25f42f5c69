-- Every flow keeps its typed steps in user_sessions now, read for each update: the
-- conversations' own states, loaded once at start by one process, are gone.
DROP TABLE conversation_states;
