-- Fragment: common table expressions ending in "freach", the steps of the
-- funnel :funnel (a JSON array of the steps' goal names) each visit of
-- "goal_hits" reached: freach walks each visit's steps, step j reached (k
-- not null) at the first event after step j-1's (by the order key k) that
-- reached step j's goal; the earliest match leaves the most events for
-- later steps. Events of one second and type share k and are not in order
-- (as on ClickHouse, reports_filtered_rows_funnel.sql).
fhits AS (
    SELECT h.win, h.visitor_key, h.session_id, h.sess, h.k, CAST(s.key AS INTEGER) AS j
    FROM goal_hits h JOIN json_each(:funnel) s ON s.value = h.goal
),
freach(win, visitor_key, session_id, sess, j, k) AS (
    SELECT win, visitor_key, session_id, sess, 0, MIN(k) FROM fhits WHERE j = 0
    GROUP BY win, visitor_key, session_id, sess
    UNION ALL
    SELECT r.win, r.visitor_key, r.session_id, r.sess, r.j + 1,
           (SELECT MIN(h.k) FROM fhits h
            WHERE h.win = r.win AND h.visitor_key = r.visitor_key AND h.session_id = r.session_id
              AND h.sess = r.sess AND h.j = r.j + 1 AND h.k > r.k)
    FROM freach r
    WHERE r.k IS NOT NULL AND r.j + 1 < json_array_length(:funnel)
)
