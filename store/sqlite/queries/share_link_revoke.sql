UPDATE share_links SET revoked_at = ? WHERE id = ? AND revoked_at = 0
