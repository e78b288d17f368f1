DELETE FROM goals WHERE site_id = ? AND id = ?
