-- An employer's journal reads the audit log of one day, week or month: without this index
-- every /journal would read the whole log, which only grows.
CREATE INDEX audit_log_by_time ON audit_log (at);
