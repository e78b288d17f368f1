-- In place of rollup_frag_period_columns.sql for reports_funnel.sql: the
-- columns a goal reads, taken with the keys in the one read of the
-- period's events (the visits with a session id go through no sort, so
-- reading them again by rowid would cost a random read per event).
, e.type AS etype, e.path, e.name, e.props, e.engaged_ms, e.revenue_amount, e.revenue_currency
