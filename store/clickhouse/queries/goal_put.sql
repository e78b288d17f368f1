INSERT INTO goals (id, site_id, name, page, event, props, author, created_at, deleted, version);
