-- Partner releases as served: one per partner and window, computed once;
-- their epsilons are the partner's spent privacy budget.
CREATE TABLE IF NOT EXISTS partner_releases (
    id         TEXT PRIMARY KEY,
    partner    TEXT NOT NULL,
    from_day   TEXT NOT NULL,
    to_day     TEXT NOT NULL,
    epsilon    REAL NOT NULL,
    created_at INTEGER NOT NULL,
    body       BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS partner_releases_window ON partner_releases (partner, from_day, to_day);
CREATE INDEX IF NOT EXISTS partner_releases_created ON partner_releases (partner, created_at);
