// Package aggregator turns raw events into rollups that analysts read, and
// into anonymised releases that partners may receive (footfall aggregate,
// footfall export).
//
// # Windows and runs
//
// Every site is aggregated in hourly windows (UTC hours) and daily windows
// (calendar days in the site's configured time zone, UTC by default). A
// job is up to a day of consecutive windows of one site; the store computes
// it with ReplaceRollups, which replaces the windows' earlier results, so a
// window run three times holds the same rows as a window run once. Each
// window of each run is logged in the rollup_runs table (window, started,
// finished, rows read and written, status, partial, error).
//
// Once (footfall aggregate -once) runs:
//   - every complete window from the site's first event on whose latest run
//     did not succeed, or was partial (the watermark is the first such
//     window: everything before it is done);
//   - every window, within Options.Lookback (7 days), holding an event
//     received at or after the start of the window's last successful run:
//     late data, detected by the events' received_at against the run log;
//   - the current window, marked partial.
//
// Recompute (footfall aggregate -from -to) runs every window in a range.
//
// # Replacing a window
//
// On SQLite the delete and the INSERT … SELECT share one transaction. On
// ClickHouse the rollup tables are plain MergeTrees: the window's rows are
// removed with ALTER TABLE … DELETE, the aggregator waits until
// system.mutations shows no pending mutation on the table (18.16 has no
// mutations_sync), then INSERT … SELECT statements write the new rows. The delete
// is skipped when the window holds no rows yet, so first runs cost no
// mutation. A ReplacingMergeTree keyed by window and value was rejected: a
// value that disappears from a window (after an erasure, say) would keep its
// old row. The cost is a short gap while a window is re-run, during which
// readers see it empty; run one aggregator per store.
//
// # What a rollup holds
//
// Bots (bot = 1) are left out. A visit is the events of one session id in
// one window, or, for events without a session id, the events of one
// visitor key in one window no more than 30 minutes apart (derived in SQL).
// Visits are cut at window edges: an hourly visit is the part of a visit in
// that hour. Per window and dimension value: visitors (distinct visitor
// keys), visits, pageviews, events (clicks and custom events),
// bounces (visits with one pageview and nothing else), visit duration (last
// minus first event, summed) and engaged time. Session dimensions describe a
// visit by its first event — ordered by time, then type with the pageview
// first — (entry page, referrer host and source class, UTM source, medium
// and campaign, country, region, device, browser, OS) or by its last (exit
// page); event dimensions count events (page, event name, event target) and
// have no bounces or duration.
//
// Newsletter opens and clicks (email_open, email_click events, recorded
// only with marketing consent and without a visitor key) are in no visit
// and in none of the dimensions above: they do not add visits, visitors,
// events or bounces to the site's web metrics. The dimensions email_open
// and email_click count them per window, campaign and link, with the value
// "campaign/link-id" (store.EmailValue: "%" and "/" escaped as %25 and %2F
// in the campaign, so the first slash ends it); their only metric is
// events, the number of opens or clicks. Events whose consent lacks
// marketing are not counted even if stored. A click that leads to the site
// makes a web visit of its own, through the landing pageview and its UTM
// fields. Consent statistics per window and category
// (decisions, granted, denied, withdrawn, GPC) come from the consent ledger.
//
// Unique visitors over several windows are not the sum of the windows'
// visitors. Neither store keeps sketches: visitors over any range are
// counted exactly from the raw events while they are retained (releases do
// this, and reports can), which both backends do identically — SQLite has
// no mergeable sketches, and exact answers let the conformance suite demand
// equal numbers from both. On ClickHouse this is uniqExact over the raw
// table; the rollups keep per-window exact counts.
//
// All of it runs inside the store: on ClickHouse as INSERT … SELECT over the
// raw table (the raw rows never reach Go), on SQLite as the same rules in its
// own SQL. The shared conformance suite (store/storetest.RunRollups) checks
// both against a generated data set with known answers.
//
// # Anonymised releases
//
// Only releases are shareable; the rollups are internal. NewRelease is the
// one function every shareable output goes through: footfall export today,
// the partner API later. A release
//   - carries no IP, visitor key, consent id, user id, session id, URL query
//     or click id: it is built only from the dimensions below and counts;
//   - generalises: page paths without query strings, referrer hosts,
//     country (region and city only if the partner is allowed them), browser
//     and OS families, device class, days in the site's zone;
//   - never holds the e-mail dimensions (config refuses them, and so does
//     NewRelease): opens and clicks have no visitor key to check k against;
//   - publishes a cell only if it covers at least k distinct visitors
//     (per partner, default 10) and its value does not look like an
//     identifier (IP address, UUID, long hex or token, e-mail address, click
//     id, query string, long number); the other cells of a day and
//     dimension are merged into one "(other)" cell, counted distinctly,
//     itself dropped when it covers fewer than k;
//   - leaves out every visitor key that had Global Privacy Control on in the
//     release's range;
//   - optionally adds differential-privacy noise: with a per-release epsilon
//     each visitor key counts in at most bounds.max_cells cells per
//     dimension and adds at most max_visits, max_pageviews, max_events (and
//     1 visitor) to a cell; epsilon is split evenly over the (dimension,
//     metric) counts, and each count gets Laplace noise of scale
//     max_cells × bound / (epsilon / (dimensions × metrics)), from Google's
//     differential-privacy library, clamped at 0.
//
// Limits, stated: the k threshold and the (other) cell are decided on true
// counts, so which cells appear is not itself differentially private (the
// values are). The unit of privacy is the visitor key: for visitors without
// personalization consent it is salted per day, so a person's contribution
// is bounded per day, not per release. Releases read the raw events, so they
// can only be made within the raw retention.
//
// Exports (WriteExport) write one file per dimension and a manifest.json
// with the window, the parameters, row counts, SHA-256 checksums, the schema
// version and the time of generation.
package aggregator
