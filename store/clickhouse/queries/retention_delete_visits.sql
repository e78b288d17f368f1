ALTER TABLE visits DELETE WHERE visit_start < ?;
