-- How many sites already use a domain (1st argument) and a site id (2nd).
SELECT countIf(domain = ?), countIf(site_id = ?)
FROM sites;
