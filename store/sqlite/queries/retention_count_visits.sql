-- Visit rows whose visit began before the raw events' cutoff: they hold the
-- same visitor keys, so they go with the events.
SELECT count(*) FROM visits WHERE visit_start < ?
