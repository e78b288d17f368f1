-- Spreads the staged visits' touched values (visits_insert_reference.sql) into the
-- stage's visit_values, one row per visit, dimension and value.
INSERT INTO temp.visit_values_stage (visit_id, dimension, value, pageviews, events, engaged_ms)
SELECT v.id, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'),
       json_extract(j.value, '$[3]'), json_extract(j.value, '$[4]')
FROM temp.visits_stage v, json_each(v.touched) j
