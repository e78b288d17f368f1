-- Applied migrations, oldest first. Two processes migrating at once may both
-- record a version; grouping keeps each version once, with its first time.
SELECT version, any(name), min(applied_at)
FROM schema_migrations
GROUP BY version
ORDER BY version;
