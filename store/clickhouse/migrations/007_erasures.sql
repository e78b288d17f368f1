-- Erasure requests and their completion marks, append-only: a request is a
-- row with done_at 0, its completion a row with the same key and done_at
-- set. Readers take the latest state of each (consent_id, requested_at).
CREATE TABLE IF NOT EXISTS erasures
(
    consent_id   UUID,
    requested_at DateTime('UTC'),
    done_at      DateTime('UTC'),
    erased       UInt64
)
ENGINE = MergeTree
ORDER BY (requested_at, consent_id);
