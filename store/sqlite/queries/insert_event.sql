-- InsertEvents repeats the VALUES tuple for a multi-row insert: keep VALUES
-- the last clause, one row of parameters in its parentheses.
INSERT OR IGNORE INTO events (
    {{event_columns}}
) VALUES (
    {{event_params}}
)
