INSERT INTO partner_releases (id, partner, from_day, to_day, epsilon, created_at, body);
