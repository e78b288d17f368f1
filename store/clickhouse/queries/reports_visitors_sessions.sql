-- Distinct visitor keys per value of one session dimension (@dims holds it)
-- over [@from, @to) as one window (store.ValueVisitorQuery). reports.go
-- replaces the fragments' window expression by the range's start.
SELECT value, uniqExact(visitor_key) FROM ({{session_rows}}) GROUP BY value;
