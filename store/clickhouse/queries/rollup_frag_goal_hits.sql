-- Fragment, an expression: the indices (into @gnames) of the goals an
-- event of the events fragment reached: a page goal (@gpage[i] = 1) by a
-- pageview of one of @gpaths[i], an event goal by a click or custom event
-- named @gevents[i] with every key of @gpkeys[i] at its value of
-- @gpvals[i] (goalArgs in reports.go).
arrayFilter(i -> if(@gpage[i] = 1,
    etype = 'pageview' AND has(@gpaths[i], path),
    etype IN ('click', 'event') AND name = @gevents[i]
    AND arrayAll((x, y) -> prop_values[indexOf(prop_keys, x)] = y, @gpkeys[i], @gpvals[i])),
    arrayEnumerate(@gnames))
