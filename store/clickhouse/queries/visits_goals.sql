-- The visit rows of visits_breakdown.sql with the goals they reached
-- (store.VisitQuery.Goals, none with props: store.VisitGoals), in place of
-- the visits table: each reached goal one more touched value of
-- dimension goal, its name, with the pageviews of a page goal's paths or
-- the events of an event goal's name (the touched values of those), as
-- the raw events' goal rows count them; no engaged time. A visit reached
-- a page goal when it touched one of the paths with a pageview, an event
-- goal when it touched the name with a click or custom event. The goals
-- come as keys, "page|PATH" or "event_name|NAME" in @gkey (a goal
-- without any, "|", which no touched value is: no dimension is empty or
-- holds "|"), @gkpage 1 for a page
-- key, and each goal's keys as the slice @gkstart, @gklen of them, in
-- the order of @gnames (goalArgs: the blank goal first). A visit touches
-- each dimension and value once, so indexOf finds a key's one value. Each
-- level names the columns its lambdas use outside them too (18.16 drops
-- columns a subquery uses only inside one; see rollup_frag_events.sql).
-- visits.go puts the conditions of the filters on other dimensions than
-- the goals where {{inner_filters}} is, so that only the rows that pass
-- them have their goals reckoned (at 10M events under country==DE, a
-- seventh of them); a goal filter's condition stays in
-- visits_breakdown.sql.
(
    SELECT site_id, granularity, window_start, visitor_key, session_dims, session_values,
           arrayConcat(v_dims, arrayResize(['goal'], length(gi), 'goal')) AS touched_dims,
           arrayConcat(v_values, arrayMap(i -> arrayElement(@gnames, i), gi)) AS touched_values,
           arrayConcat(v_pageviews, arrayMap(i -> if(arrayElement(@gpage, i) = 1, arrayElement(gc, i), toUInt64(0)), gi)) AS touched_pageviews,
           arrayConcat(v_events, arrayMap(i -> if(arrayElement(@gpage, i) = 1, toUInt64(0), arrayElement(gc, i)), gi)) AS touched_events,
           arrayConcat(v_engaged_ms, arrayResize(emptyArrayUInt64(), length(gi))) AS touched_engaged_ms,
           pageviews, events, bounce, duration_s, engaged_ms
    FROM
    (
        SELECT *, arrayFilter((i, c) -> c > 0, arrayEnumerate(gc), gc) AS gi
        FROM
        (
            SELECT *, arrayMap((s, l) -> arraySum(arraySlice(kc, s, l)), @gkstart, @gklen) AS gc
            FROM
            (
                SELECT *, arrayMap((j, p) -> if(j = 0, toUInt64(0), if(p = 1, arrayElement(v_pageviews, j), arrayElement(v_events, j))),
                                   arrayMap(k -> indexOf(tkeys, k), @gkey), @gkpage) AS kc
                FROM
                (
                    SELECT site_id, granularity, window_start, visitor_key, session_dims, session_values,
                           touched_dims AS v_dims, touched_values AS v_values, touched_pageviews AS v_pageviews,
                           touched_events AS v_events, touched_engaged_ms AS v_engaged_ms,
                           pageviews, events, bounce, duration_s, engaged_ms,
                           arrayMap((d, v) -> concat(d, '|', v), touched_dims, touched_values) AS tkeys
                    FROM visits {{sample}}
                    WHERE site_id = @site AND granularity = @granularity
                      AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')
                      {{inner_filters}}
                )
                WHERE length(tkeys) + length(v_pageviews) + length(v_events) >= 0
            )
            WHERE length(kc) >= 0
        )
        WHERE length(gc) >= 0
    )
    WHERE length(gc) + length(gi) >= 0
)
