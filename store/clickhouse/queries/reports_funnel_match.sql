-- An expression of reports_funnel.sql: whether VALUE (an expression
-- reports.go puts in) is, or for "~" contains case-insensitively, the
-- value of filter FILTER_N (its number is put in too), as
-- reports_filtered_breakdown.sql matches a filter's rows.
if(arrayElement(@fops, FILTER_N) = '~', position(lowerUTF8(VALUE), lowerUTF8(arrayElement(@fvals, FILTER_N))) > 0, VALUE = arrayElement(@fvals, FILTER_N))
