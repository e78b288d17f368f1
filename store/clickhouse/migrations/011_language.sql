-- The browser language of an event (the primary subtag of
-- navigator.language, lower case: "de"), a session dimension of the rollups.
ALTER TABLE events ADD COLUMN language LowCardinality(String) DEFAULT '' AFTER bot_reason;
