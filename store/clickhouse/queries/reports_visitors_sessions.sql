-- Distinct visitor keys per value of one session dimension over
-- [@from, @to) as one window (store.ValueVisitorQuery).
SELECT value, uniqExact(visitor_key) FROM ({{visit_values}}) GROUP BY value;
