-- Distinct visitor keys per value of one event dimension (@dims holds it)
-- over [@from, @to) as one window (store.ValueVisitorQuery). reports.go
-- replaces the fragments' window expression by the range's start.
SELECT value, uniqExact(visitor_key) FROM ({{event_rows}}) GROUP BY value;
