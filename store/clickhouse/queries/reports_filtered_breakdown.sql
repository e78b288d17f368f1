-- Metrics per window and value of @bdim over the visits of [@from, @to)
-- that match every filter (@fdims, @fops, @fvals: parallel arrays, @npos
-- of them "==" or "~"; store.FilteredBreakdownQuery), by the rollups'
-- rules (@dims holds @bdim and the filters' dimensions). reports.go
-- replaces the fragments' window expression by the range's start or the
-- bucket start. One pass over the fragments: each row is joined to i = 0
-- and to every filter i; a hit is a row that filter i names (for "==" and
-- "~" a value that matches, for "!=" the value excluded). Per visit, the
-- @bdim rows are kept (once, with i = 0) and the visit matches when it hits
-- every "==" and "~" filter and no "!=" filter; its kept rows are then
-- summed per window and value. {{visit_rows}} is what reports.go puts
-- there: reports_filtered_rows_sessions.sql, _events.sql or both with
-- UNION ALL, as the dimensions need (each re-reads the events). No lambdas
-- over columns: 18.16 drops columns used only inside one from the subquery.
SELECT win, b.1 AS value, uniqExact(visitor_key), uniqExact(visitor_key, session_id, sess),
       sum(b.2), sum(b.3), sum(b.4), sum(b.5), sum(b.6)
FROM
(
    SELECT win, visitor_key, session_id, sess,
           groupArrayIf((value, pv, ev, bounce, dur, eng), i = 0 AND dim = @bdim) AS brows
    FROM
    (
        {{visit_rows}}
    )
    ARRAY JOIN range(toUInt64(length(@fdims) + 1)) AS i
    WHERE i = 0
       OR (dim = @fdims[i] AND if(@fops[i] = '~', position(lowerUTF8(value), lowerUTF8(@fvals[i])) > 0, value = @fvals[i]))
    GROUP BY win, visitor_key, session_id, sess
    HAVING uniqExactIf(i, i > 0 AND @fops[i] != '!=') = @npos AND countIf(i > 0 AND @fops[i] = '!=') = 0
)
ARRAY JOIN brows AS b
GROUP BY win, value;
