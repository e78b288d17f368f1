SELECT site_id, version, min(since) FROM policy_versions GROUP BY site_id, version ORDER BY site_id, version;
