-- Whether a site has an event with revenue in [:from, :to): the goals
-- report asks for their revenue only then.
SELECT EXISTS (SELECT 1 FROM events WHERE site_id = :site AND ts >= :from AND ts < :to AND revenue_currency != '')
