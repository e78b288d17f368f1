-- What a visit row's touched values (visit_values) hold
-- (store.TouchedVersion): 0, the rows written before this migration,
-- pages, event names and targets; 1 the custom properties too (dimensions
-- props and props:KEY). See the ClickHouse migration of the same number.
ALTER TABLE visits ADD COLUMN touched_version INTEGER NOT NULL DEFAULT 0;
