-- Fragment: common table expressions ending in "ev", the keys of the
-- events of :site in :windows (a JSON array of [start, end) pairs in Unix
-- seconds) within [:from, :to), bots and e-mail events left out, and with
-- :exclude_gpc = 1 every visitor key that had GPC on in the range (and,
-- where reports.go narrows by the visit rows, only the events of the
-- visits reports_narrow.sql allows): each
-- with its window (win), its rowid (rid) and order key k (time, then type:
-- pageview first). Only keys: the window passes sort these, and the
-- queries read the other columns they need by rowid once, after them
-- (a query that sorts none of them may take more here instead,
-- the period_columns slot: reports_funnel.sql).
wins AS MATERIALIZED (
    SELECT json_extract(value, '$[0]') AS ws, json_extract(value, '$[1]') AS we FROM json_each(:windows)
),
gpc_keys AS (
    SELECT DISTINCT visitor_key FROM events
    WHERE :exclude_gpc = 1 AND site_id = :site AND ts >= :from AND ts < :to AND gpc = 1
),
ev AS (
    SELECT w.ws AS win, e.rowid AS rid, e.visitor_key, e.session_id, e.ts, e.event_id,
           e.ts * 8 + CASE e.type WHEN 'pageview' THEN 1 WHEN 'click' THEN 2 WHEN 'event' THEN 3 ELSE 4 END AS k
           {{period_columns}}
    FROM {{period_join}}
    WHERE e.site_id = :site AND e.bot = 0
      AND e.type NOT IN ('email_open', 'email_click')
      AND e.visitor_key NOT IN (SELECT visitor_key FROM gpc_keys)
      {{narrow}}
)
