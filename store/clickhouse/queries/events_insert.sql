-- The column order is the order of the values InsertEvents appends: the
-- event columns (eventColumns in events.go), then the partition date.
INSERT INTO events
(
    {{event_columns}},
    date
);
