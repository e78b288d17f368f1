-- One row per site: concurrent AddSite calls for one domain may each have
-- inserted it, with the same id (store.SiteID).
SELECT site_id, domain, min(created_at)
FROM sites
GROUP BY site_id, domain
ORDER BY domain, site_id;
