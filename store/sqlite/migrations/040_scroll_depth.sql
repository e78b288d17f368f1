-- The scroll depth an engagement event reports of its page view: the
-- deepest the visitor scrolled so far, as the % of the page's height seen
-- (1 to 100), or 0 when none was reported (every other event, and
-- engagement events of trackers before scroll depth). Averaged per page in
-- the pages breakdown (metric scroll_depth).
ALTER TABLE events ADD COLUMN scroll_depth INTEGER NOT NULL DEFAULT 0;
