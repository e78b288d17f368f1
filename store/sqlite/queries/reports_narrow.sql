-- In place of rollup_frag_narrow.sql, for a filtered breakdown with
-- FromVisits (store.FilteredBreakdownQuery; reports.go): only the events
-- of the visits (visitor key and session id; a visitor key's visits
-- without a session id are session id 0) that have, for each filter of
-- :narrow ([dimension, operator, value, session]: the filters on
-- dimensions the visit rows keep), a daily visit row of [:from, :to) that
-- passes it (rollup_frag_visit_filter_hit.sql), and of every visit with an
-- event at or after :fresh (the windows the aggregator has not seen
-- whole). The filters are still tested on the events: a visit that
-- matches them all passes each in one of its daily rows (docs/reports.md,
-- Funnels), and the rows fragment splits the events of one visitor key
-- and session id only, so the answer is the one of every event, while
-- the window passes sort only these visits' events (a seventh of them
-- under country==DE). The subquery is not correlated: SQLite computes it
-- once into an index that each event of the range probes. As
-- ClickHouse's reports_narrow.sql.
AND (e.visitor_key, e.session_id) IN (
    SELECT v.visitor_key, v.session_id
    FROM visits v
    JOIN (SELECT CAST(key AS INTEGER) AS i, json_extract(value, '$[0]') AS fdim, json_extract(value, '$[1]') AS fop,
                 json_extract(value, '$[2]') AS fval, json_extract(value, '$[3]') AS fsession
          FROM json_each(:narrow)) f
    WHERE v.site_id = :site AND v.granularity = 'day' AND v.window_start >= :from AND v.window_start < :to
      AND (f.fop = '!=') != ({{visit_filter_hit}})
    GROUP BY v.visitor_key, v.session_id
    HAVING COUNT(DISTINCT f.i) = json_array_length(:narrow)
    UNION
    SELECT visitor_key, session_id FROM events
    WHERE site_id = :site AND ts >= :fresh AND ts < :to
)
