-- One filter of visits_breakdown.sql, the N-th of @fdims, @fops and
-- @fvals (N is put in by visits.go): a visit passes when it has a hit (a
-- session or touched value of the filter's dimension that is, or for "~"
-- contains case-insensitively, the filter's value) for "==" and "~", and
-- has none for "!=".
AND (arrayElement(@fops, N) = '!=') != arrayExists((d, v) -> d = arrayElement(@fdims, N)
    AND if(arrayElement(@fops, N) = '~', position(lowerUTF8(v), lowerUTF8(arrayElement(@fvals, N))) > 0, v = arrayElement(@fvals, N)),
    arrayConcat(session_dims, touched_dims), arrayConcat(session_values, touched_values))
