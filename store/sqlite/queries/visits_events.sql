-- The events one ReplaceRollups sessionises (stageVisits, sessionise.go):
-- those of :site in [:from, :to), bots and e-mail events left out (e-mail
-- events have their own rollups). The columns a visit row reads: the fixed
-- ones first, then the session dimensions' columns (expanded from
-- store.Dimensions at start-up, in the order of store.SessionColumns). In the
-- order of the events index, so SQLite sorts nothing: stageVisits groups
-- and orders the events itself.
SELECT visitor_key, session_id, ts, type, event_id, path, name, target, props, engaged_ms[[range .Columns]], [[.]][[end]]
FROM events
WHERE site_id = :site AND ts >= :from AND ts < :to AND bot = 0
  AND type NOT IN ('email_open', 'email_click')
