-- The per-day cells of a partner release (store.CellQuery): GPC visitor
-- keys left out (@exclude_gpc = 1), cells not in @keep folded into
-- '(other)' when @fold = 1, and each visitor key's contribution bounded: at
-- most @max_visits, @max_pageviews and @max_events per cell, and per
-- dimension at most @max_cells cells (most pageviews first, then day, then
-- value). true_visitors counts every visitor key, bounded or not.
SELECT win, dim, cell_value, count() AS true_visitors,
       countIf(idx <= @max_cells) AS visitors,
       sumIf(c_visits, idx <= @max_cells) AS visits,
       sumIf(c_pageviews, idx <= @max_cells) AS pageviews,
       sumIf(c_events, idx <= @max_cells) AS events
FROM
(
    SELECT visitor_key, dim, c.2 AS win, c.3 AS cell_value, c.4 AS c_visits, c.5 AS c_pageviews, c.6 AS c_events, idx
    FROM
    (
        SELECT visitor_key, dim, arraySort(groupArray((-toInt64(p), win, cell_value, v, p, e))) AS cells
        FROM
        (
            SELECT win, dim, cell_value, visitor_key,
                   least(uniqExact(session_id, sess), toUInt64(@max_visits)) AS v,
                   least(sum(pv), toUInt64(@max_pageviews)) AS p,
                   least(sum(ev), toUInt64(@max_events)) AS e
            FROM
            (
                SELECT win, visitor_key, session_id, sess, pv, ev, dim,
                       if(@fold = 1 AND NOT has(@keep, concat(toString(win), '|', dim, '|', value)), '(other)', value) AS cell_value
                FROM
                (
                    SELECT win, visitor_key, session_id, sess, pv, ev, dim, value FROM ({{session_rows}})
                    UNION ALL
                    SELECT win, visitor_key, session_id, sess, pv, ev, dim, value FROM ({{event_rows}})
                )
            )
            GROUP BY win, dim, cell_value, visitor_key
        )
        GROUP BY visitor_key, dim
    )
    ARRAY JOIN cells AS c, arrayEnumerate(cells) AS idx
)
GROUP BY win, dim, cell_value
ORDER BY win, dim, cell_value;
