DELETE FROM annotations WHERE site_id = ? AND id = ?
