INSERT INTO consent_updates (site_id, consent_id, ts, granted);
