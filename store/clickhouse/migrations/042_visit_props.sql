-- What a visit row's touched values hold (store.TouchedVersion): 0, the
-- rows written before this migration, pages, event names and targets; 1
-- the custom properties too (dimensions props and props:KEY). Reports on
-- a custom property read the visit rows only of windows whose rows are of
-- version 1; the others read the raw events until aggregated again.
ALTER TABLE visits ADD COLUMN touched_version UInt8 DEFAULT 0 AFTER touched_engaged_ms;
