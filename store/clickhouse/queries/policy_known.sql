-- Whether a site's policy version is recorded already.
SELECT count() FROM policy_versions WHERE site_id = ? AND version = ?;
