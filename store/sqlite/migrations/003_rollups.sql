-- Rollups: one row per site, granularity, window, dimension and value (the
-- empty dimension holds the totals); see the ClickHouse migration of the
-- same number. Times are Unix seconds. A window is re-run by deleting its
-- rows and inserting the new ones in one transaction.
CREATE TABLE IF NOT EXISTS rollups (
    site_id      INTEGER NOT NULL,
    granularity  TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    dimension    TEXT NOT NULL,
    value        TEXT NOT NULL,
    visitors     INTEGER NOT NULL,
    visits       INTEGER NOT NULL,
    pageviews    INTEGER NOT NULL,
    events       INTEGER NOT NULL,
    bounces      INTEGER NOT NULL,
    duration_s   INTEGER NOT NULL,
    engaged_ms   INTEGER NOT NULL,
    partial      INTEGER NOT NULL,
    run_version  INTEGER NOT NULL,
    PRIMARY KEY (site_id, granularity, window_start, dimension, value)
);

-- Consent statistics per window and category, from consent_ledger.
CREATE TABLE IF NOT EXISTS consent_rollups (
    site_id      INTEGER NOT NULL,
    granularity  TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    category     TEXT NOT NULL,
    decisions    INTEGER NOT NULL,
    granted      INTEGER NOT NULL,
    denied       INTEGER NOT NULL,
    withdrawn    INTEGER NOT NULL,
    gpc          INTEGER NOT NULL,
    partial      INTEGER NOT NULL,
    run_version  INTEGER NOT NULL,
    PRIMARY KEY (site_id, granularity, window_start, category)
);

-- The run log: one row per window per aggregation run.
CREATE TABLE IF NOT EXISTS rollup_runs (
    site_id      INTEGER NOT NULL,
    granularity  TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    window_end   INTEGER NOT NULL,
    run_version  INTEGER NOT NULL,
    started      INTEGER NOT NULL,
    finished     INTEGER NOT NULL,
    rows_read    INTEGER NOT NULL,
    rows_written INTEGER NOT NULL,
    status       TEXT NOT NULL,
    partial      INTEGER NOT NULL,
    error        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rollup_runs_window ON rollup_runs (site_id, granularity, window_start);
