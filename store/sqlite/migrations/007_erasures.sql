-- Erasure requests and their completion marks, append-only: a request is a
-- row with done_at 0, its completion a row with the same key and done_at
-- set. Readers take the latest state of each (consent_id, requested_at).
CREATE TABLE IF NOT EXISTS erasures (
    consent_id   TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    done_at      INTEGER NOT NULL,
    erased       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS erasures_requested ON erasures (requested_at);
