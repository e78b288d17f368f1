-- Raw events of one site in [from, to) by event time. Arguments: site id,
-- from, to, from, to (the date condition prunes partitions and the primary
-- key; the ts condition is exact). FINAL collapses replayed events. The
-- column order is the order Events scans them in; ties on ts are broken by
-- the id's text so every backend returns the same order.
SELECT
    {{event_columns}}
FROM events FINAL
WHERE site_id = ?
  AND date >= toDate(?) AND date <= toDate(?)
  AND ts >= ? AND ts < ?
ORDER BY ts, toString(event_id);
