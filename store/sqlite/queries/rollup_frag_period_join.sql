-- Fragment: how the period's events (rollup_frag_period_events.sql) meet
-- their windows: the windows are the outer loop, each window's events a
-- range of the events index, so the range is read once however many
-- windows there are (720 hourly buckets at 1M events: 2.2 s of CPU, against
-- 42 s with the events outer and every window tested per event). The
-- windows bound ts (they lie within [:from, :to)): with a bound of :from
-- and :to here too, SQLite 3.40's planner took those for the index range
-- and read the whole range once per window. reports.go puts
-- reports_period_one_window.sql in its place for a query of one window.
wins w JOIN events e ON e.ts >= w.ws AND e.ts < w.we
