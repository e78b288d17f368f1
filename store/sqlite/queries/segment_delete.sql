DELETE FROM segments WHERE site_id = ? AND id = ?
