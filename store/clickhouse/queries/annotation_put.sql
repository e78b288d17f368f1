INSERT INTO annotations (id, site_id, day, text, author, created_at, deleted, version);
