-- Fragment: the one read of the events of rollup_frag_scan_range.sql that
-- the events fragment starts from, deduplicated by FINAL, with the columns
-- of rollup_frag_scan_columns.sql.
SELECT {{scan_columns}}
FROM events FINAL
WHERE {{scan_range}}
