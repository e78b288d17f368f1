-- A funnel (store.DimFunnel: FilteredBreakdownQuery.Funnel) over the
-- visits of [@from, @to) that match every filter, in one pass over the
-- events fragment: per visit (the rollup fragments' visits), the order keys
-- and step masks of the events that reached a step, as
-- reports_filtered_rows_funnel.sql takes them, and per filter whether the
-- visit has the filter's value, found in the same grouping. reports.go
-- expands the placeholders in capitals: {{STEP_MASK}}, {{STEP_TIMES}} and
-- {{STEP_REACHED}} as for reports_filtered_rows_funnel.sql, then per
-- filter N (FILTER_N: 1 to the number of filters, an index into @fdims, @fops and
-- @fvals; reports_funnel_filter.sql): {{FILTER_MATCHES}} gives each event
-- fN, whether its value of the filter's dimension is (or for "~"
-- contains, case-insensitively) the filter's value; {{FILTER_HITS}} gives
-- each visit hN from them: its first event's fN for a session dimension
-- (its last event's for the exit page), any event's for an event
-- dimension; {{FILTER_PASS}} keeps the visits that have a hit for "==" and
-- "~" and none for "!=". A filter on the funnel itself tests the steps the
-- visit reached ({{FUNNEL_PASS}}). These are store.Filter's rules, which
-- reports_filtered_breakdown.sql applies to session and event rows read in
-- passes of their own. Each visit that reached step 1 gives one row per
-- step it reached, '1', '2', …, and those are counted per window and
-- step. The WHERE names the columns the lambdas use (18.16 drops columns a
-- subquery uses only inside one; see reports_filtered_rows_funnel.sql).
SELECT win, toString(j + 1) AS value, uniqExact(visitor_key), count(),
       toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0)
FROM
(
    SELECT win, visitor_key, session_id, sess, toUInt64(1) AS t0,
           {{STEP_TIMES}}
           {{STEP_REACHED}} AS reached
    FROM
    (
        SELECT win, visitor_key, session_id, sess, groupArrayIf(k, m != 0) AS ks, groupArrayIf(m, m != 0) AS ms{{FILTER_HITS}}
        FROM
        (
            SELECT win, visitor_key, session_id, sess, k, {{STEP_MASK}} AS m{{FILTER_MATCHES}}
            FROM ({{events}})
            WHERE length(path) + length(name) + length(prop_keys) + length(prop_values) + length(revenue_currency) >= 0
        )
        GROUP BY win, visitor_key, session_id, sess
        HAVING length(ks) > 0{{FILTER_PASS}}
    )
)
ARRAY JOIN range(reached) AS j
WHERE reached > 0{{FUNNEL_PASS}}
GROUP BY win, value;
