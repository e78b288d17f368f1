SELECT day, secret, created_at FROM salts ORDER BY day, created_at, secret;
