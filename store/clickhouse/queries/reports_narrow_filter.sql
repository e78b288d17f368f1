-- One filter of reports_narrow.sql: the visits with a daily visit row of
-- [@from, @to) that passes the filter (COND: visits_filter.sql's condition
-- of the filter's number over the row's session values for a session
-- dimension, its touched values otherwise; put in by reports.go).
AND cityHash64(visitor_key, session_id) IN
(
    SELECT cityHash64(visitor_key, session_id) FROM visits
    WHERE site_id = @site AND granularity = 'day'
      AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')
      COND
)
