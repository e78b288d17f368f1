-- How many rollup, consent rollup and visit rows the windows of one site in
-- [@from, @to) hold: nothing to delete saves a mutation.
SELECT
    (SELECT count() FROM rollups
     WHERE site_id = @site AND granularity = @granularity
       AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')),
    (SELECT count() FROM consent_rollups
     WHERE site_id = @site AND granularity = @granularity
       AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')),
    (SELECT count() FROM visits
     WHERE site_id = @site AND granularity = @granularity
       AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC'));
