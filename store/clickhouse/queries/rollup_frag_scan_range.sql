-- Fragment, a condition on events: the events of one site in [@from, @to)
-- (Unix seconds) that visits are made of: bots and e-mail events left out.
-- @exclude_gpc = 1 drops every visitor key that had Global Privacy Control
-- on in the range.
site_id = @site
AND date >= toDate(toDateTime(@from, 'UTC')) AND date <= toDate(toDateTime(@to, 'UTC'))
AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
AND bot = 0 AND type NOT IN ('email_open', 'email_click')
AND (@exclude_gpc = 0 OR visitor_key NOT IN
(
    SELECT visitor_key FROM events
    WHERE site_id = @site
      AND date >= toDate(toDateTime(@from, 'UTC')) AND date <= toDate(toDateTime(@to, 'UTC'))
      AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
      AND gpc = 1
))
