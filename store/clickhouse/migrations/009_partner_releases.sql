-- Partner releases as served: one per partner and window, computed once;
-- their epsilons are the partner's spent privacy budget. Two replicas may
-- both store a window: readers serve the first (created_at, id).
CREATE TABLE IF NOT EXISTS partner_releases
(
    id         UUID,
    partner    String,
    from_day   String,
    to_day     String,
    epsilon    Float64,
    created_at DateTime('UTC'),
    body       String
)
ENGINE = MergeTree
ORDER BY (partner, from_day, to_day, created_at);
