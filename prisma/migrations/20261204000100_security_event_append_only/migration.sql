-- The security event log is append-only: the database itself rejects UPDATE, DELETE and TRUNCATE
-- on "SecurityEvent", so a bug or a compromised web process cannot rewrite history. Only a
-- superuser who disables the trigger can change rows, and the hash chain then exposes the change.
CREATE FUNCTION "qsfl_reject_security_event_change"() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'SecurityEvent is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "SecurityEvent_append_only_row"
  BEFORE UPDATE OR DELETE ON "SecurityEvent"
  FOR EACH ROW EXECUTE FUNCTION "qsfl_reject_security_event_change"();

CREATE TRIGGER "SecurityEvent_append_only_truncate"
  BEFORE TRUNCATE ON "SecurityEvent"
  FOR EACH STATEMENT EXECUTE FUNCTION "qsfl_reject_security_event_change"();
