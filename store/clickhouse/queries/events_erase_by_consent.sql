-- An asynchronous mutation; the caller waits on system.mutations.
ALTER TABLE events DELETE WHERE consent_id = toUUID(?);
