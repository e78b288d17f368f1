-- Fragment, an expression: the times at which the visits of one visitor
-- key without a session id start within a window, from tss, the sorted
-- times of its events there: the first, and every one more than
-- store.SessionTimeout (1800 s) after the one before (a repeated time
-- starts no visit).
arrayFilter((x, i) -> i = 1 OR x > tss[i - 1] + 1800, tss, arrayEnumerate(tss))
