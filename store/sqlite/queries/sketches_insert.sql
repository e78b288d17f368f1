INSERT INTO visitor_sketches (site_id, granularity, window_start, sketch) VALUES (:site, :granularity, :window, :sketch);
