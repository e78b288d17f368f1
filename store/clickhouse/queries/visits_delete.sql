-- An asynchronous mutation; the caller waits on system.mutations.
ALTER TABLE visits DELETE
WHERE site_id = @site AND granularity = @granularity
  AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC');
