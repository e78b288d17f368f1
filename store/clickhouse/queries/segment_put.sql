INSERT INTO segments (id, site_id, name, filters, author, created_at, deleted, version);
