-- One staged visit row (stageVisits): its touched values go to
-- visit_values_stage directly, so touched stays an empty array.
INSERT INTO temp.visits_stage (
    id, site_id, granularity, window_start, visitor_key, session_id, visit, visit_start,
    pageviews, events, bounce, duration_s, engaged_ms, session, touched_version, partial, run_version, touched
) VALUES (:id, :site, :granularity, :win, :visitor_key, :session_id, :visit, :t0,
          :pv, :ev, :bounce, :dur, :eng, :session, :touched_version, :partial, :version, '[]')
