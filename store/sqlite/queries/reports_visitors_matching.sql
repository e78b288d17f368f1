-- Distinct visitor keys with a visit of [:from, :to), as one window, whose
-- value of one session dimension (:dims holds it) matches: = :value,
-- != :value, or contains it case-insensitively (:op '~'), as
-- reports_filtered_breakdown matches (store.MatchVisitorQuery).
WITH {{rows}}
SELECT COUNT(DISTINCT visitor_key) FROM rollup_rows
WHERE CASE :op WHEN '~' THEN instr(lower(val), lower(:value)) > 0 WHEN '!=' THEN val != :value ELSE val = :value END
