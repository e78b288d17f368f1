-- Visit rows: one row per visit and window, written by the aggregator with
-- the window's rollups and by the same rules; see the ClickHouse migration
-- of the same number and docs/reports.md. Times are Unix seconds.
--
-- The session dimensions are one JSON object per visit (name to value,
-- store.SessionDimensions when the row was written): a visit has exactly
-- one value of each, read with the row that the window-range scan reads
-- anyway, and a dimension added later needs no new column. The
-- event-dimension values a visit touched are rows of visit_values, one per
-- (visit, dimension, value), keyed by visit id: a filter such as
-- page==/pricing is one primary-key probe per visit, and a breakdown by
-- page reads only the rows of that dimension. visit numbers the visits of
-- a visitor key without a session id within the window (0 with one).
CREATE TABLE IF NOT EXISTS visits (
    id           INTEGER PRIMARY KEY,
    site_id      INTEGER NOT NULL,
    granularity  TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    visitor_key  INTEGER NOT NULL,
    session_id   INTEGER NOT NULL,
    visit        INTEGER NOT NULL,
    visit_start  INTEGER NOT NULL,
    pageviews    INTEGER NOT NULL,
    events       INTEGER NOT NULL,
    bounce       INTEGER NOT NULL,
    duration_s   INTEGER NOT NULL,
    engaged_ms   INTEGER NOT NULL,
    session      TEXT NOT NULL,
    partial      INTEGER NOT NULL,
    run_version  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS visits_window ON visits (site_id, granularity, window_start);

CREATE TABLE IF NOT EXISTS visit_values (
    visit_id   INTEGER NOT NULL,
    dimension  TEXT NOT NULL,
    value      TEXT NOT NULL,
    pageviews  INTEGER NOT NULL,
    events     INTEGER NOT NULL,
    engaged_ms INTEGER NOT NULL,
    PRIMARY KEY (visit_id, dimension, value)
) WITHOUT ROWID;
