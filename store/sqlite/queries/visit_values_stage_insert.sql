-- One staged touched value of a visit (stageVisits).
INSERT INTO temp.visit_values_stage (visit_id, dimension, value, pageviews, events, engaged_ms)
VALUES (?, ?, ?, ?, ?, ?)
