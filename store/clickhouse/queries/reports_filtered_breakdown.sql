-- Metrics per value of @bdim over the visits of [@from, @to) (one window)
-- that match the filter @fdim @fop @fval (store.FilteredBreakdownQuery), by
-- the rollups' rules (@dims holds both dimensions). reports.go replaces
-- the fragments' window expression by the range's start.
SELECT value, uniqExact(visitor_key), uniqExact(visitor_key, session_id, sess),
       sum(pv), sum(ev), sum(bounce), sum(dur), sum(eng)
FROM
(
    SELECT visitor_key, session_id, sess, pv, ev, bounce, dur, eng, dim, value FROM ({{session_rows}})
    UNION ALL
    SELECT visitor_key, session_id, sess, pv, ev, bounce, dur, eng, dim, value FROM ({{event_rows}})
)
WHERE dim = @bdim AND (visitor_key, session_id, sess) IN
(
    SELECT visitor_key, session_id, sess
    FROM
    (
        SELECT visitor_key, session_id, sess, dim, value FROM ({{session_rows}})
        UNION ALL
        SELECT visitor_key, session_id, sess, dim, value FROM ({{event_rows}})
    )
    WHERE dim = @fdim
      AND multiIf(@fop = '==', value = @fval, @fop = '!=', value != @fval, position(lowerUTF8(value), lowerUTF8(@fval)) > 0)
)
GROUP BY value;
