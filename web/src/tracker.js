// Footfall tracker: the script a site embeds. With analytics consent it
// sends page views, clicks, custom events and engaged time; without it,
// nothing. Decisions are made by the consent script (consent.js: the
// banner, the JS consent API and the adapters for other consent platforms),
// which this script imports only when a decision is needed or asked for.
//
// This is the readable source. The server serves it minified (web/build.go),
// wrapped in a function; __CONSENT__ becomes the consent script's
// content-hashed file name, "consent.<hash>.js".
//
// What it keeps (web/README.md):
//   - before a decision: no cookie, no storage, no event sent or held; the
//     only requests are this script, the policy and the consent script;
//   - the decision is the first-party cookie footfall_consent, which the
//     consent script writes: the signed token, or after a withdrawal an
//     unsigned "r..<payload>." without categories;
//   - the tab session id and the last page view's URL (a reload is not a
//     new page view) live in sessionStorage, as "<sid> <url>" under
//     footfall_sid, only while analytics is granted.

const w = self
const d = document
const l = location
const me = d.currentScript
const cfg = me.dataset // the data- attributes of this script's tag
// Every listener is on the window, in the capture phase: events at the
// document reach it first, so a page's stopPropagation hides nothing.
const listen = (e, f) => addEventListener(e, f, true)

const site = cfg.site || l.hostname
const api = cfg.api || new URL(me.src).origin
const hashRouting = 'hashRouting' in cfg
// Excluded paths: comma-separated globs over the whole path, where *
// stands for any characters, slashes included.
const exclude = RegExp('^(' + (cfg.exclude || '').replace(/[^\w\s,*]/g, '\\$&').replace(/\*/g, '.*').replace(/\s*,\s*/g, '|') + ')$')
const downloads = RegExp('\\.(' + (cfg.downloadExt || 'pdf,zip,dmg,exe,csv,docx?,xlsx?,mp4').replace(/\s*,\s*/g, '|') + ')$', 'i')

const SID = 'footfall_sid'

let policy = {} // GET /api/consent/policy: policy_version, max_age_days, texts, banner_hashes
let state // the token of the decision in force
let on // analytics granted: tracking
let sid
let last // URL of the current page view
let ref = d.referrer // referrer of the next page view
let since // when the page last became visible (ms), NaN or undefined while hidden
let depth = 0 // the deepest the page view's viewport bottom reached (px, from the top)

// Nothing is stored while counted without a decision (exempt sites).
const storage = (f) => {
  try {
    ;(state || !on) && f(sessionStorage)
  } catch (e) {}
}

// send delivers one event: sendBeacon, else (it refused the event) fetch
// with keepalive, else (fetch failed, say a CSP blocked it) the pixel,
// which takes the same JSON as its parameter e. Nothing leaves without
// analytics consent.
const send = (type, x) => {
  apply() // the decision may have changed in another tab
  if (!on || exclude.test(l.pathname)) return
  // Every event carries the URL of its page view (last); a page view
  // brings its own (x.url).
  const s = JSON.stringify({ site, type, url: last, token: state, sid, w: screen.width, ...x })
  const u = api + '/api/event'
  navigator.sendBeacon(u, s) || fetch(u, { method: 'POST', body: s, keepalive: true }).catch(() => (new Image().src = api + '/p.gif?e=' + encodeURIComponent(s)))
}

// Engaged time: each visible span of a second or more, sent when the page
// hides or changes (visibilitychange fires on leaving a page too), with
// the page view's scroll depth: the deepest its viewport's bottom reached,
// measured on scrolling and now, in % of the page's (body's) height now (whole
// numbers; past the end, as on an overscroll, is over 100). The collector
// caps both: ms at a day, scroll at 100.
const flush = () => {
  const t = Date.now()
  if (t - since > 999) send('engagement', { ms: t - since, scroll: (Math.max(depth, scrollY + innerHeight) * 100) / d.body.scrollHeight | 0 })
  since = on && !d.hidden ? t : NaN
}

const pageview = () => {
  const u = hashRouting ? l.href : l.href.split('#')[0]
  if (!on || u == last) return
  flush()
  send('pageview', { url: u, referrer: ref, lang: navigator.language })
  ref = last = u
  depth = 0
  storage((s) => s.setItem(SID, sid + ' ' + u))
}

// apply reads the cookie and starts or stops tracking to match. The cookie
// holds "<v1|r>.<kid>.<payload>.<signature>", whose base64url payload is
// version(1) consent id(16) site(4) categories(1) policy version(4)
// issued(4) expires(4), big endian.
const apply = () => {
  const was = on
  state = '' // "token":"" is no token; 0 would be refused
  on = policy.exempt
  try {
    const t = d.cookie.match(/footfall_consent=([^;]+)/)[1]
    const b = atob(t.split('.')[2].replace(/-/g, '+').replace(/_/g, '/'))
    const u = (i) => [...b.slice(i, i + 4)].reduce((x, c) => x * 256 + c.charCodeAt(), 0)
    // A decision counts while it has not expired and was made under the
    // current policy version (a token expires max_age_days after it was
    // issued; a lowered max_age_days needs a policy version bump to ask
    // again). Without one, an exempt site counts without a token.
    if (u(30) > Date.now() / 1000 && !(policy.policy_version > u(22))) (state = t), (on = u(18) & 1)
  } catch (e) {}
  if (!on) {
    sid = last = since = undefined
    storage((s) => s.removeItem(SID))
  } else if (!was) {
    storage((s) => ([sid, last] = (s.getItem(SID) || Math.random() + ' ').split(' ')))
    flush()
    pageview()
  }
}

// Page changes of single-page apps (popstate also follows changes of the
// fragment, for hash routing). These hooks do nothing until on.
for (const k of ['pushState', 'replaceState']) {
  const o = history[k]
  history[k] = (...a) => (o.apply(history, a), pageview())
}
listen('popstate', pageview)
listen('visibilitychange', flush)
listen('scroll', () => (depth = Math.max(depth, scrollY + innerHeight)))
// A page restored from the back/forward cache is viewed again.
listen('pageshow', (e) => e.persisted && pageview((last = 0)))

// Commands run one after another, after the policy has been read, so that
// a queued event sees the decision the commands before it made. An event
// without analytics consent is dropped at once, never held for later.
let chain = fetch(api + '/api/consent/policy?site=' + site)
  .then((r) => r.json())
  .then((p) => (policy = p), () => 0)
  .then(apply)
// Other commands go to the consent script, imported on first use:
// ["consent", decision or "withdraw", meta], ["start"] or ["settings",
// the clicked element or "opt-out"]. That script writes the cookie, then
// calls u() to make the tracker follow. The browser's module map fetches
// and runs it once, however often imported.
const run = (a) => {
  chain = chain.then(() => (a[0] == 'event' ? send('event', { name: a[1], props: a[2] }) : import(api + '/' + __CONSENT__).then((m) => m.default({ a: cfg, p: policy, u: apply }, a)))).catch(() => 0)
}
// The stub's queue first: run only chains, so the order holds.
w.footfall?.q?.map(run)
w.footfall = (...a) => run(a)

// Clicks: the consent settings link, tagged elements, outbound links and
// downloads. Capture phase, so a page's stopPropagation hides nothing.
const click = (e, t = e.target) => {
  if (e.button > 1) return // a right click (auxclick) opens a menu, not the link
  if (t.closest('[data-footfall-consent-settings]')) return e.preventDefault(), run(['settings', t])
  // The nearest tagged element or link decides.
  const a = t.closest('[data-footfall-event],a[href]')
  const name = a?.dataset.footfallEvent || (/^http/.test(a?.protocol) && (downloads.test(a.pathname) ? 'download' : a.host != l.host && 'outbound'))
  const props = {}
  for (const at of a?.attributes || []) if (at.name.startsWith('data-footfall-prop-')) props[at.name.slice(19)] = at.value
  if (name) send('click', { name, target: a.href, props })
}
listen('click', click)
listen('auxclick', click) // the middle button: a link opened in a new tab

// The consent script starts when a decision is needed (the banner asks,
// unless data-banner="off") or the page has its own consent platform
// (Google Consent Mode, IAB TCF) whose decisions it follows.
chain.then(() => (!state || w.dataLayer || w.__tcfapi) && run(['start']))
