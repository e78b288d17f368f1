-- An expression: tJ of reports_filtered_rows_funnel.sql, the order key of
-- the first event after t(J-1) (tP) that reached step J (its bit BIT of
-- the mask), 0 when tP is 0 (t0 is 1: every k is above it). reports.go
-- puts the numbers for J, P and BIT.
if(tP = 0, toUInt64(0), arrayReduce('min', arrayFilter((x, m, p) -> bitAnd(m, BIT) != 0 AND x > p, ks, ms,
    arrayResize(emptyArrayUInt64(), length(ks), tP)))) AS tJ
