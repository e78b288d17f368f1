-- Distinct visitor keys with a visit of [@from, @to), as one window, whose
-- value of one session dimension matches: = @value, != @value, or contains
-- it case-insensitively (@op '~'), as reports_filtered_breakdown matches
-- (store.MatchVisitorQuery).
SELECT uniqExact(visitor_key) FROM ({{visit_values}})
WHERE if(@op = '~', position(lowerUTF8(value), lowerUTF8(@value)) > 0, if(@op = '!=', value != @value, value = @value));
