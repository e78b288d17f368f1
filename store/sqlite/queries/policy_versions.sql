SELECT site_id, version, since FROM policy_versions ORDER BY site_id, version
