-- An asynchronous mutation; the caller waits on system.mutations. Deletes
-- the visit rows of the visitor keys ? (an array): a subject's, before its
-- raw events are erased.
ALTER TABLE visits DELETE WHERE has(?, visitor_key);
