-- The distinct visitor keys of a site's events in [@from, @to), bots and
-- e-mail opens and clicks (no visitor) left out (store.VisitorQuery). No
-- FINAL: a replayed event repeats its visitor key, which a distinct count
-- counts once.
SELECT uniqExact(visitor_key) FROM events
WHERE site_id = @site
  AND date >= toDate(toDateTime(@from, 'UTC')) AND date <= toDate(toDateTime(@to, 'UTC'))
  AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
  AND bot = 0
  AND type NOT IN ('email_open', 'email_click');
