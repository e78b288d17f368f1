-- The staged visit rows' visitor keys per window, for their sketches.
SELECT window_start, visitor_key FROM temp.visits_stage WHERE visitor_key != 0 ORDER BY window_start;
