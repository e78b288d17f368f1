// Footfall consent script: makes and changes the visitor's decision. The
// tracker imports it (an ES module) only when a decision is needed or asked
// for, and calls its default export with
//   ctx   {a: the tracker tag's data- attributes, p: the site's policy,
//          u: make the tracker re-read the cookie}
//   cmd   ["consent", {analytics, personalization, marketing}, meta]
//           a decision: the JS API, the banner (meta: signal "banner",
//           language and banner_hash) or a consent-platform adapter (meta:
//           its signal); without a signal it is the page's script's
//         ["consent", "withdraw", meta]
//         ["start"]     a decision is needed, or the page has a consent
//                       platform: follow the platform, else show the banner
//         ["settings"]  show the banner's second layer
//
// A decision is posted to POST /api/consent; the answer's signed token goes
// into the first-party cookie footfall_consent (necessary: it stores the
// decision, a rejection included). A withdrawal first sets the cookie to an
// unsigned "r..<payload>." with no categories, so tracking stops at once,
// then posts.
//
// The banner's first layer offers "Accept all" and "Reject all" side by
// side, alike; no category is pre-ticked. It lives in a shadow root, so the
// page's styles neither break it nor are touched by it. Keyboard: Tab and
// Shift-Tab cycle inside the dialog, Enter and Space press, Escape leaves the
// second layer or closes the banner, never as consent.
//
// This is the readable source; at build, __CSS__ becomes banner.css,
// minified, and __VERSION__ the snippet version.

const w = window
const d = document
const api = import.meta.url.replace(/\/[^/]*$/, '')

// Labels the policy texts do not carry.
const EXTRA = {
  en: { withdraw: 'Withdraw consent', back: 'Back' },
  de: { withdraw: 'Einwilligung widerrufen', back: 'Zurück' },
  fr: { withdraw: 'Retirer mon consentement', back: 'Retour' },
}
const CATEGORIES = ['analytics', 'personalization', 'marketing']

let ctx
let host // the open banner's host element
let close = () => {}
let following

const site = () => ctx.a.site || location.hostname
const lang = () => (ctx.a.lang || d.documentElement.lang || 'en').slice(0, 2).toLowerCase()
const seconds = () => (Date.now() / 1000) | 0

// read returns the decision in the cookie: {t: token ("" for a
// withdrawal), id: consent id (hex), c: categories, v: policy version,
// e: expires}. See the tracker for the layout.
const read = () => {
  try {
    const t = d.cookie.match(/footfall_consent=([^;]+)/)[1]
    const b = Uint8Array.from(atob(t.split('.')[2].replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))
    const v = new DataView(b.buffer)
    return {
      t: t.startsWith('v1.') ? t : '',
      id: [...b.slice(1, 17)].map((x) => (x + 256).toString(16).slice(1)).join(''),
      c: b[21] & 7, // the high bit is the token's GPC flag
      v: v.getUint32(22),
      e: v.getUint32(30),
    }
  } catch (e) {}
}

// counts reports whether a decision is in force (see the tracker's current).
const counts = (s) => s?.e > Date.now() / 1000 && !(ctx.p.policy_version > s.v)

// remember stores a decision in the cookie until expires (unix seconds) and
// makes the tracker follow it.
const remember = (v, expires) => {
  d.cookie = `footfall_consent=${v};path=/;max-age=${Math.max(0, expires - seconds())};samesite=lax${location.protocol == 'https:' ? ';secure' : ''}`
  ctx.u()
}

// withdrawn is the cookie after a withdrawal: the token layout, unsigned,
// with no categories, under the current policy version.
const withdrawn = (expires) => {
  const b = new Uint8Array(34)
  const v = new DataView(b.buffer)
  b[0] = 1
  v.setUint32(22, ctx.p.policy_version | 0)
  v.setUint32(26, seconds())
  v.setUint32(30, expires)
  return 'r..' + btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') + '.'
}

const post = (b) =>
  fetch(api + '/api/consent', {
    method: 'POST',
    keepalive: true,
    body: JSON.stringify({ site: site(), language: lang(), snippet_version: __VERSION__, ...b }),
  }).then((r) => (r.ok ? r.json() : Promise.reject(Error('footfall: consent answered ' + r.status))))

// google tells Google Consent Mode v2 the categories c (a bit set), when
// the site has the banner speak for the page (google_consent_mode): type is
// 'default' (before a decision: all denied) or 'update'. Through the page's
// gtag, or the dataLayer as gtag would; follow ignores what this pushes.
let emitting
const google = (type, c) => {
  if (!ctx.p.google_consent_mode) return
  const g = (bit) => (c & bit ? 'granted' : 'denied')
  const gtag = w.gtag || function () { (w.dataLayer = w.dataLayer || []).push(arguments) }
  emitting = 1
  try {
    gtag('consent', type, {
      analytics_storage: g(1),
      personalization_storage: g(2),
      ad_storage: g(4),
      ad_user_data: g(4),
      ad_personalization: g(4),
      ...(type == 'default' && { wait_for_update: 500 }),
    })
  } finally {
    emitting = 0
  }
}

// decide posts a decision; meta.signal names what carried it (the ledger
// keeps it: store.ConsentSignals).
const decide = (x, meta) => {
  const s = read()
  if (meta.signal != 'banner') close() // decided elsewhere: the banner is not needed any more
  if (x == 'withdraw') {
    google('update', 0)
    // Stop first, then tell the server, which stops too and erases.
    const e = seconds() + 86400 * (ctx.p.max_age_days || 395)
    remember(withdrawn(e), e)
    return s?.t && post({ action: 'withdraw', consent_id: s.id, token: s.t, signal: meta.signal })
  }
  // Global Privacy Control means no marketing, whatever was chosen: the
  // server decides, from Sec-GPC or from gpc in the body (browsers that set
  // navigator.globalPrivacyControl without the header), and records it as
  // gpc_auto. c is what it will grant.
  const gpc = !!navigator.globalPrivacyControl
  const c = (x.analytics ? 1 : 0) | (x.personalization ? 2 : 0) | (x.marketing && !gpc ? 4 : 0)
  google('update', c)
  const live = counts(s) && s.t
  if (live && s.c == c) return
  const body = {
    action: 'grant',
    categories: { analytics: !!(c & 1), personalization: !!(c & 2), marketing: !!x.marketing },
    policy_version: ctx.p.policy_version,
    gpc,
    ...meta,
  }
  // An update keeps the consent id; if the server refuses it (withdrawn in
  // another tab), the decision becomes a new grant.
  return (live ? post({ ...body, action: 'update', consent_id: s.id, token: s.t }).catch(() => post(body)) : post(body)).then((r) =>
    remember(r.token, Date.parse(r.expires) / 1000),
  )
}

// follow listens to the page's consent platform and returns the decision
// it already holds, if any. Google Consent Mode v2: a "consent update"
// decides (a "default" alone is no decision): analytics_storage ->
// analytics, personalization_storage -> personalization, ad_storage and
// ad_user_data together -> marketing. IAB TCF v2, where the GDPR applies,
// once loaded or chosen: purposes 1, 8 and 9 -> analytics; 1, 5 and 6 ->
// personalization; 1, 3 and 4 -> marketing.
const follow = () => {
  let first
  const dl = w.dataLayer
  if (dl?.push) {
    const g = {}
    const gcm = (e, now) => {
      if (e?.[0] == 'consent' && e[2]) {
        Object.assign(g, e[2])
        const y = (k) => g[k] == 'granted'
        const x = { analytics: y('analytics_storage'), personalization: y('personalization_storage'), marketing: y('ad_storage') && y('ad_user_data') }
        if (e[1] == 'update') now ? (first = x) : w.footfall('consent', x, { signal: 'google_consent_mode' })
      }
    }
    for (const e of dl) gcm(e, 1)
    const push = dl.push
    dl.push = function () {
      if (!emitting) for (const e of arguments) gcm(e)
      return push.apply(this, arguments)
    }
  }
  w.__tcfapi?.('addEventListener', 2, (t, ok) => {
    if (ok && t.gdprApplies !== false && t.eventStatus != 'cmpuishown' && t.purpose) {
      const y = (...k) => k.every((i) => t.purpose.consents?.[i])
      w.footfall('consent', { analytics: y(1, 8, 9), personalization: y(1, 5, 6), marketing: y(1, 3, 4) }, { signal: 'tcf' })
    }
  })
  return first && decide(first, { signal: 'google_consent_mode' })
}

// h makes an element with attributes and children (strings become text).
const h = (tag, attrs, ...kids) => {
  const e = d.createElement(tag)
  for (const k in attrs) e.setAttribute(k, attrs[k])
  e.append(...kids.map((k) => k ?? ''))
  return e
}

// policy returns the policy with the banner text in the page's language:
// the tracker's copy has one language, chosen by the browser's
// Accept-Language, which may not be the page's.
const policy = async () => {
  const p = ctx.p
  const want = lang()
  if (p.texts?.[want] || !p.site) return p
  return fetch(`${api}/api/consent/policy?site=${encodeURIComponent(site())}&lang=${want}`)
    .then((r) => r.json())
    .then((q) => ({ ...p, texts: q.texts, banner_hashes: q.banner_hashes }), () => p)
}

// warn explains, once, why there is no banner: without it a wrong
// data-site or a page's Content-Security-Policy fails in silence.
let warned
const warn = () => {
  if (warned) return
  warned = 1
  console.warn(
    `Footfall: no consent banner and no tracking: the policy of site "${site()}" could not be read from ${api}/api/consent/policy` +
      (ctx.p.error ? ` (${ctx.p.error}): check the tag's data-site (the site as registered with footfall site add).` : `. If the page has a Content-Security-Policy, allow ${api} in connect-src, script-src and img-src (see web/README.md).`),
  )
}

const show = async (settings) => {
  const p = await policy()
  const texts = p.texts || {}
  const l = texts[lang()] ? lang() : Object.keys(texts)[0]
  if (!l) return warn()
  const t = { ...EXTRA.en, ...EXTRA[l], ...texts[l] }
  const s = counts(read()) && read()
  close()
  const back = d.activeElement

  host = d.createElement('div')
  host.id = 'footfall-banner'
  const root = host.attachShadow({ mode: 'open' })
  // Styles and markup are built without innerHTML or inline <style>, so the
  // banner works under a strict CSP (style-src, Trusted Types).
  if (root.adoptedStyleSheets) {
    const sheet = new CSSStyleSheet()
    sheet.replaceSync(__CSS__)
    root.adoptedStyleSheets = [sheet]
  } else root.append(h('style', {}, __CSS__))
  const button = (a, text, cls) => h('button', cls ? { 'data-a': a, class: cls } : { 'data-a': a }, text)
  const row = (k, i) =>
    h(
      'div',
      { class: 'row' },
      h('span', { id: 'c' + i }, t[k]),
      h('button', i ? { role: 'switch', 'aria-labelledby': 'c' + i, 'aria-checked': !!(s.c & (1 << (i - 1))), 'data-c': k } : { role: 'switch', 'aria-labelledby': 'c0', 'aria-checked': true, disabled: '' }),
    )
  const box = h(
    'div',
    { class: 'box' + (s.c ? ' w' : ''), role: 'dialog', 'aria-modal': true, 'aria-labelledby': 't', 'aria-describedby': 'x', tabindex: -1, lang: l },
    // The second layer's way back, for mouse and touch (Escape for keys).
    button('back', '\u2190 ' + t.back, 'link back'),
    h('h2', { id: 't' }, t.title),
    h('p', { id: 'x' }, t.text),
    h('div', { class: 'cats' }, row('necessary', 0), ...CATEGORIES.map((k, i) => row(k, i + 1))),
    // The choices stay in view at the bottom while the rest scrolls (a
    // phone shows a few categories at a time).
    h(
      'div',
      { class: 'foot' },
      h('div', { class: 'btns' }, button('reject', t.reject_all), button('accept', t.accept_all)),
      button('save', t.save, 'save'),
      h('div', { class: 'more' }, button('choose', t.customize, 'link'), button('withdraw', t.withdraw, 'link')),
    ),
  )
  root.append(h('div', { class: 'bg' }), box)

  const layer = (two) => {
    box.classList.toggle('l2', !!two)
    box.focus()
  }
  close = () => {
    host.remove()
    close = () => {}
    back?.focus?.()
  }
  const choose = (all) => {
    const c = {}
    for (const b of root.querySelectorAll('[data-c]')) c[b.dataset.c] = all ?? b.getAttribute('aria-checked') == 'true'
    close()
    w.footfall('consent', c, { signal: 'banner', language: l, banner_hash: p.banner_hashes?.[l] })
  }

  box.addEventListener('click', (e) => {
    const b = e.target.closest('button')
    const a = b?.dataset.a
    if (b?.dataset.c) b.setAttribute('aria-checked', b.getAttribute('aria-checked') != 'true')
    else if (a == 'choose') layer(1)
    else if (a == 'back') back2()
    else if (a == 'withdraw') {
      close()
      w.footfall('consent', 'withdraw', { signal: 'banner' })
    } else if (a) choose(a == 'save' ? null : a == 'accept')
  })
  // Back from the second layer: to the first, or closed when the settings
  // link opened it.
  const back2 = () => (settings || !box.classList.contains('l2') ? close() : layer(0))
  box.addEventListener('keydown', (e) => {
    if (e.key == 'Escape') {
      e.preventDefault()
      back2()
    } else if (e.key == 'Tab') {
      // The focus trap: Tab and Shift-Tab cycle through the visible buttons.
      e.preventDefault()
      const f = [...box.querySelectorAll('button')].filter((b) => !b.disabled && b.getClientRects().length)
      const i = f.indexOf(root.activeElement)
      f[(i + (e.shiftKey ? (i < 0 ? 0 : -1) : 1) + f.length) % f.length].focus()
    }
  })
  // A click on the backdrop keeps the focus in the dialog.
  root.querySelector('.bg').addEventListener('mousedown', (e) => e.preventDefault())

  d.body.append(host)
  layer(settings)
}

export default async (c, [cmd, x, meta]) => {
  ctx = c
  if (cmd == 'consent' && (x == 'withdraw' || typeof x == 'object')) return decide(x, { signal: 'page_script', ...meta })
  // An opt-out link (data-footfall-consent-settings="opt-out") or
  // footfall('settings', 'opt-out') refuses every category at once.
  if (cmd == 'settings') return (x?.closest?.('[data-footfall-consent-settings]').dataset.footfallConsentSettings ?? x) == 'opt-out' ? decide({}, { signal: 'opt_out_link' }) : show(1)
  if (cmd == 'start') {
    if (!ctx.p.site) warn()
    if (!following) {
      following = 1
      await follow()
      // Each page tells Google's tags the decision anew: all denied by
      // default, then what the cookie holds.
      const s = read()
      google('default', 0)
      if (counts(s)) google('update', s.c)
    }
    if (!counts(read()) && ctx.a.banner != 'off') show()
  }
}
