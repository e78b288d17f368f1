-- Fragment: whether visit row v (visits) has the hit of filter f (fdim,
-- fop, fval; fsession 1 for a session dimension): its session value of
-- fdim, or one of the values of fdim it touched (visit_values), that is
-- fval or, for "~", contains it in any case. A filter passes a row when
-- its hit is there for "==" and "~" and missing for "!=". The visit-row
-- filters (visits_breakdown.sql) and the funnels' narrowing
-- (reports_narrow.sql) test filters by it.
CASE WHEN f.fsession = 1 THEN
         CASE f.fop WHEN '~' THEN instr(lower(COALESCE(json_extract(v.session, '$.' || f.fdim), '')), lower(f.fval)) > 0
                    ELSE COALESCE(json_extract(v.session, '$.' || f.fdim), '') = f.fval END
     ELSE EXISTS (
         SELECT 1 FROM visit_values x
         WHERE x.visit_id = v.id AND x.dimension = f.fdim
           AND CASE f.fop WHEN '~' THEN instr(lower(x.value), lower(f.fval)) > 0 ELSE x.value = f.fval END)
END
