-- Stages the visit rows of the windows of one site: the rows fragment's
-- visits (its sessions), numbered from 1 in the stage; the caller
-- publishes the stage (rollups_publish.sql). The session dimensions are
-- one JSON object, expanded from store.Dimensions at start-up.
WITH {{rows}}
INSERT INTO temp.visits_stage (
    id, site_id, granularity, window_start, visitor_key, session_id, visit, visit_start,
    pageviews, events, bounce, duration_s, engaged_ms, session, partial, run_version
)
SELECT ROW_NUMBER() OVER (ORDER BY win, visitor_key, session_id, sess), :site, :granularity, win,
       visitor_key, session_id, sess, t0, pv, ev, bounce, dur, eng,
       json_object([[range $i, $d := .Session]][[if $i]], [[end]]'[[$d.Name]]', s_[[$d.Name]][[end]]),
       :partial, :version
FROM sessions
