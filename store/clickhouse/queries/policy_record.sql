INSERT INTO policy_versions (site_id, version, since);
