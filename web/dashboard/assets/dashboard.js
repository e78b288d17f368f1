// Footfall's dashboard. Plain DOM, no framework: the page's state (site,
// period, comparison, filters) lives in the URL query so that every view is
// a link to share, and every number comes from the reports API. Data is
// only ever inserted as text (textContent, text nodes), never as markup.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';

  // el builds an element: attrs are attributes (on* keys are listeners),
  // children are nodes or strings (inserted as text).
  function el(tag, attrs, ...children) {
    const n = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c == null || c === false) continue;
      n.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return n;
  }
  const clear = (n) => { while (n.firstChild) n.removeChild(n.firstChild); return n; };

  // The tables: cards of tabs, each tab one breakdown property, as the API
  // lists them (GET /api/v1/stats/dimensions, from store.Dimensions).
  let CARDS = [];

  const TOTALS = [
    { key: 'visitors', label: 'Unique visitors' },
    { key: 'visits', label: 'Total visits' },
    { key: 'pageviews', label: 'Pageviews' },
    { key: 'bounce_rate', label: 'Bounce rate', lowerIsBetter: true },
    { key: 'visit_duration', label: 'Visit duration' },
    { key: 'engaged_time', label: 'Engaged time' },
  ];

  const METRIC_NAMES = { visitors: 'Visitors', visits: 'Visits', pageviews: 'Pageviews', events: 'Events', conversion_rate: 'Conversion rate', scroll_depth: 'Scroll' };
  const PERIODS = ['day', '7d', '30d', 'month', '12mo', 'custom'];
  // MAX_FILTERS is the API's cap on filters (store.MaxFilters).
  const MAX_FILTERS = 10;

  let csrf = '';
  let role = '';
  let sites = [];
  let timer = 0;
  let generation = 0; // bumps with every render; late answers of older ones are dropped

  // --- state in the URL ------------------------------------------------

  function state() {
    const q = new URLSearchParams(location.search);
    const period = PERIODS.includes(q.get('period')) ? q.get('period') : '30d';
    return {
      site: q.get('site') || '',
      period,
      from: q.get('from') || '',
      to: q.get('to') || '',
      compare: q.get('compare') !== 'off',
      filters: (q.get('filters') || '').split(';').filter(Boolean).map(parseFilter).filter(Boolean),
      segment: q.get('segment') || '',
      funnel: q.get('funnel') || '',
      tabs: Object.fromEntries([...q.entries()].filter(([k]) => k.startsWith('tab.')).map(([k, v]) => [k.slice(4), v])),
    };
  }

  function parseFilter(s) {
    // A dimension, or a custom property: props:KEY (keys hold no operator).
    const m = /^([a-z_]+|props:[^=!~;]+)(==|!=|~)(.*)$/.exec(s);
    return m ? { dim: m[1], op: m[2], value: m[3] } : null;
  }

  function setState(patch, replace) {
    const s = Object.assign(state(), patch);
    const q = new URLSearchParams();
    if (s.site) q.set('site', s.site);
    q.set('period', s.period);
    if (s.period === 'custom') { q.set('from', s.from); q.set('to', s.to); }
    if (!s.compare) q.set('compare', 'off');
    if (s.filters.length) q.set('filters', s.filters.map((f) => f.dim + f.op + f.value).join(';'));
    if (s.segment) q.set('segment', s.segment);
    if (s.funnel) q.set('funnel', s.funnel);
    for (const [k, v] of Object.entries(s.tabs)) q.set('tab.' + k, v);
    const url = location.pathname + '?' + q.toString();
    if (replace) history.replaceState(null, '', url); else history.pushState(null, '', url);
    render();
  }

  // query returns the API parameters of the current state.
  function query(s, extra) {
    const q = new URLSearchParams({ site: s.site, period: s.period });
    if (s.period === 'custom') { q.set('from', s.from); q.set('to', s.to); }
    if (s.filters.length) q.set('filters', s.filters.map((f) => f.dim + f.op + f.value).join(';'));
    if (s.segment) q.set('segment', s.segment);
    for (const [k, v] of Object.entries(extra || {})) if (v != null) q.set(k, v);
    return q;
  }

  // --- the API -----------------------------------------------------------

  class HTTPError extends Error {
    constructor(status, msg) { super(msg); this.status = status; }
  }

  // send changes something: a JSON body, the session's CSRF token.
  async function send(method, path, params, body) {
    const resp = await fetch(path + '?' + params.toString(), {
      method, credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (resp.status === 401) { showLogin(); throw new HTTPError(401, 'signed out'); }
    const out = resp.status === 204 ? null : await resp.json().catch(() => null);
    if (!resp.ok) throw new HTTPError(resp.status, (out && out.error) || resp.statusText || 'request failed');
    return out;
  }

  async function api(path, params) {
    const url = path + (params ? '?' + params.toString() : '');
    const resp = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (resp.status === 401) { showLogin(); throw new HTTPError(401, 'signed out'); }
    let body = null;
    try { body = await resp.json(); } catch (e) { /* not JSON */ }
    if (!resp.ok) throw new HTTPError(resp.status, (body && body.error) || resp.statusText || 'request failed');
    return body;
  }

  const list = (b) => (Array.isArray(b) ? b : (b && (Array.isArray(b.results) ? b.results : b.sites || b.data)) || []);
  const num = (v) => (typeof v === 'number' ? v : v && typeof v.value === 'number' ? v.value : Number(v) || 0);
  // cell is a breakdown metric as its table shows it: rates in %, the
  // scroll depth in whole % (a dash for a page without any), counts compact.
  const cell = (m, v) => m === 'conversion_rate' ? num(v).toFixed(1) + '%' : m === 'scroll_depth' ? (v == null ? '–' : Math.round(v) + '%') : compact(num(v));

  // --- formatting ----------------------------------------------------------

  const nf = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
  function compact(n) {
    n = Number(n) || 0;
    if (Math.abs(n) >= 1e6) return nf.format(n / 1e6) + 'M';
    if (Math.abs(n) >= 1e4) return nf.format(n / 1e3) + 'k';
    return Math.round(n).toLocaleString('en');
  }
  function duration(sec) {
    sec = Math.round(Number(sec) || 0);
    if (sec < 60) return sec + 's';
    const m = Math.floor(sec / 60), s = sec % 60;
    if (m < 60) return m + 'm ' + String(s).padStart(2, '0') + 's';
    return Math.floor(m / 60) + 'h ' + String(m % 60).padStart(2, '0') + 'm';
  }
  function formatMetric(key, v) {
    if (key === 'bounce_rate') return Math.round(Number(v) || 0) + '%';
    if (key === 'visit_duration' || key === 'engaged_time') return duration(v);
    return compact(v);
  }
  function ago(iso) {
    const t = Date.parse(iso);
    if (!t) return 'never';
    const s = Math.max(0, Math.round((Date.now() - t) / 1000));
    if (s < 90) return s + ' s ago';
    if (s < 5400) return Math.round(s / 60) + ' min ago';
    if (s < 172800) return Math.round(s / 3600) + ' h ago';
    return Math.round(s / 86400) + ' days ago';
  }

  // --- login and logout ----------------------------------------------------

  function showLogin() {
    clearInterval(timer);
    $('app').hidden = true;
    $('controls').hidden = true;
    $('login').hidden = false;
    $('email').focus();
  }

  async function login(ev) {
    ev.preventDefault();
    const form = ev.target;
    $('login-error').textContent = '';
    $('login-submit').disabled = true;
    try {
      const resp = await fetch('/login', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams(new FormData(form)),
      });
      const body = await resp.json().catch(() => ({}));
      if (resp.status === 401 && body.error === 'two-factor code required') {
        // The password was right; the account has a second factor.
        $('code-label').hidden = false;
        $('code').focus();
        $('login-error').textContent = 'Enter the 6-digit code from your authenticator app.';
        return;
      }
      if (!resp.ok || !body.ok) {
        $('login-error').textContent = body.error || 'Sign-in failed (' + resp.status + ')';
        return;
      }
      csrf = body.csrf || '';
      form.reset();
      $('code-label').hidden = true;
      await start();
    } catch (e) {
      $('login-error').textContent = 'Sign-in failed: ' + e.message;
    } finally {
      $('login-submit').disabled = false;
    }
  }

  async function logout() {
    await fetch('/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf } }).catch(() => {});
    csrf = '';
    showLogin();
  }

  // --- start ---------------------------------------------------------------

  async function start() {
    let me;
    try {
      me = await api('/api/v1/me');
    } catch (e) {
      if (e.status !== 401) showError(e);
      return;
    }
    csrf = me.csrf || csrf;
    role = me.role || '';
    $('who').textContent = me.name || '';
    try {
      CARDS = (await api('/api/v1/stats/dimensions')).cards || [];
    } catch (e) {
      if (e.status === 401) return;
      showError(e);
    }
    try {
      sites = list(await api('/api/v1/sites'));
    } catch (e) {
      if (e.status === 401) return;
      showError(e);
      sites = [];
    }
    $('login').hidden = true;
    $('app').hidden = false;
    $('controls').hidden = false;
    const sel = clear($('site'));
    for (const s of sites) sel.append(el('option', { value: s.domain }, s.domain));
    const st = state();
    if (!st.site || !sites.some((s) => s.domain === st.site)) {
      setState({ site: sites.length ? sites[0].domain : st.site }, true);
    } else {
      render();
    }
    clearInterval(timer);
    timer = setInterval(realtime, 30000);
  }

  function showError(e) {
    $('error').textContent = e.status === 404 ? 'The reports API is not available on this server.' : 'Could not load: ' + e.message;
  }

  // --- rendering -----------------------------------------------------------

  function render() {
    const s = state();
    const gen = ++generation;
    const live = () => gen === generation;
    $('error').textContent = '';
    $('site').value = s.site;
    $('period').value = s.period;
    $('custom').hidden = s.period !== 'custom';
    $('from').value = s.from;
    $('to').value = s.to;
    $('compare').checked = s.compare;
    document.title = (s.site ? s.site + ' · ' : '') + 'Footfall';
    renderFilters(s);
    const fail = (e) => { if (live() && e.status !== 401) showError(e); };
    segments(s, live).catch(fail);
    totals(s, live).catch(fail);
    chart(s, live).catch(fail);
    renderTables(s, live);
    funnel(s, live).catch(fail);
    consent(s, live).catch(fail);
    newsletter(s, live).catch(fail);
    shares(s, live).catch(fail);
    goalsAdmin(s, live).catch(fail);
    realtime();
    aggregator(s, live).catch(() => { if (live()) $('aggregator').textContent = 'Aggregator status unavailable'; });
  }

  // renderFilters shows the filters as chips joined by "and" (the API
  // combines them with AND); each chip's button removes its filter.
  function renderFilters(s) {
    const box = clear($('filters'));
    s.filters.forEach((f, i) => {
      const name = f.dim.startsWith('props:') ? 'property ' + f.dim.slice(6) : f.dim.replace(/_/g, ' ');
      const op = f.op === '==' ? 'is' : f.op === '!=' ? 'is not' : 'contains';
      if (i > 0) box.append(el('span', { class: 'chip-and', 'aria-hidden': 'true' }, 'and'));
      box.append(el('span', { class: 'chip', 'data-dim': f.dim, 'data-op': f.op, 'data-value': f.value },
        el('span', {}, name + ' ' + op + ' '), el('strong', {}, f.value),
        el('button', { type: 'button', class: 'chip-x', 'aria-label': 'Remove filter ' + name + ' ' + op + ' ' + f.value,
          onclick: () => setState({ filters: s.filters.filter((_, j) => j !== i) }) }, '×')));
    });
    if (s.filters.length > 1) {
      box.append(el('button', { type: 'button', class: 'ghost small', onclick: () => setState({ filters: [] }) }, 'Clear all'));
    }
  }

  // segments offers the site's saved segments (a segment's filters apply
  // with the chips'), saves the chips as a new one and deletes the chosen.
  async function segments(s, live) {
    const site = new URLSearchParams({ site: s.site });
    const all = list(await api('/api/v1/segments', site));
    if (!live()) return;
    const box = clear($('segments'));
    const sel = el('select', { id: 'segment' }, el('option', { value: '' }, 'All visitors'),
      all.map((g) => el('option', { value: g.id, title: g.filters }, g.name)));
    sel.value = all.some((g) => g.id === s.segment) ? s.segment : '';
    sel.addEventListener('change', () => setState({ segment: sel.value }));
    box.append(el('label', { class: 'field' }, el('span', {}, 'Segment '), sel));
    const chosen = all.find((g) => g.id === s.segment);
    if (chosen) {
      box.append(el('span', { class: 'segment-filters' }, chosen.filters.replace(/;/g, ' and ')),
        el('button', { type: 'button', class: 'ghost small', id: 'segment-delete', onclick: async () => {
          await send('DELETE', '/api/v1/segments/' + encodeURIComponent(chosen.id), site).catch(showError);
          setState({ segment: '' });
        } }, 'Delete segment'));
    }
    if (s.filters.length) {
      const name = el('input', { id: 'segment-name', placeholder: 'Segment name', maxlength: 80, 'aria-label': 'Name of the new segment' });
      const save = async (ev) => {
        ev.preventDefault();
        try {
          const g = await send('POST', '/api/v1/segments', site, { name: name.value, filters: s.filters.map((f) => f.dim + f.op + f.value).join(';') });
          setState({ segment: g.id, filters: [] });
        } catch (e) { showError(e); }
      };
      box.append(el('form', { class: 'segment-save', onsubmit: save }, name, el('button', { type: 'submit', id: 'segment-save' }, 'Save filters as segment')));
    }
  }

  const ESTIMATE_TITLE = 'An estimate, within 3%: the visit rows of some of these days are past retention';

  // sampledMark marks an answer read from a sample of the visitors (the
  // sampled mode for large periods, docs/reports.md): "sampled": "1/N".
  // Null for an exact answer.
  function sampledMark(body) {
    const rate = body && body.sampled;
    if (!rate) return null;
    const n = String(rate).replace(/^1\//, '');
    return el('p', { class: 'sampled', 'data-sampled': rate,
      title: `This period holds many events: figures read from visit rows come from 1 visitor in ${n}, multiplied by ${n}. ` +
        'Estimates: for V visitors, visitors are within about 3·√(' + (n - 1) + '/V) of the exact count (docs/reports.md).' },
    `≈ Sampled: 1 visitor in ${n}`);
  }

  async function totals(s, live) {
    const metrics = TOTALS.map((t) => t.key);
    const ask = (ms) => api('/api/v1/stats/aggregate', query(s, { metrics: ms.join(','), compare: s.compare ? 'previous_period' : null }));
    let r = {};
    let body = null;
    const missing = {};
    try {
      body = await ask(metrics);
      r = (body || {}).results || {};
    } catch (e) {
      if (e.status !== 400) throw e;
      // Some metrics cannot be had for this query (such as visitors over
      // several days under a filter): ask for each alone and show the rest.
      const each = await Promise.all(metrics.map((m) => ask([m]).then((b) => { body = body || (b && b.sampled ? b : null); return (b && b.results) || {}; },
        (err) => { missing[m] = err.message; return {}; })));
      r = Object.assign({}, ...each);
    }
    if (!live()) return;
    // The mark of a sampled answer, under the totals (the chart and the
    // cards carry their own).
    const mark = $('sampled'), sm = sampledMark(body);
    mark.hidden = !sm;
    mark.title = sm ? sm.title : '';
    mark.textContent = sm ? sm.textContent : '';
    if (sm) mark.dataset.sampled = sm.dataset.sampled;
    else delete mark.dataset.sampled;
    const ul = clear($('numbers'));
    for (const t of TOTALS) {
      const m = r[t.key];
      if (m == null) {
        if (missing[t.key]) {
          ul.append(el('li', { class: 'number na', 'data-metric': t.key, title: missing[t.key] },
            el('span', { class: 'label' }, t.label), el('span', { class: 'value' }, '—'), el('span', { class: 'change flat' }, 'not available')));
        }
        continue;
      }
      const value = num(m);
      // An estimate (visitors of days whose visit rows retention deleted,
      // from sketches; docs/reports.md) is marked ≈, with the bound.
      const est = (e) => (e ? '≈ ' : '');
      const li = el('li', { class: 'number', 'data-metric': t.key },
        el('span', { class: 'label' }, t.label),
        el('span', { class: 'value', 'data-value': value, 'data-estimate': m.estimate ? 'true' : null, title: m.estimate ? ESTIMATE_TITLE : null },
          est(m.estimate) + formatMetric(t.key, value)));
      if (s.compare && m && typeof m.change === 'number') {
        const c = m.change;
        const good = t.lowerIsBetter ? c < 0 : c > 0;
        li.append(el('span', { class: 'change ' + (c === 0 ? 'flat' : good ? 'up' : 'down'), 'data-change': c,
          title: 'Previous period: ' + est(m.previous_estimate) + formatMetric(t.key, m.previous) },
        (c > 0 ? '↑ ' : c < 0 ? '↓ ' : '') + Math.abs(Math.round(c)) + '%'));
      }
      ul.append(li);
    }
  }

  function interval(s) {
    if (s.period === 'day') return 'hour';
    if (s.period === '12mo') return 'month';
    if (s.period === 'custom' && s.from && s.to && (Date.parse(s.to) - Date.parse(s.from)) > 100 * 864e5) return 'month';
    return 'day';
  }

  function dateLabel(d, iv) {
    const t = new Date(d.length === 10 ? d + 'T00:00:00' : d);
    if (isNaN(t)) return d;
    if (iv === 'hour') return t.toLocaleTimeString('en', { hour: 'numeric' });
    if (iv === 'month') return t.toLocaleDateString('en', { month: 'short', year: 'numeric' });
    return t.toLocaleDateString('en', { month: 'short', day: 'numeric' });
  }

  async function chart(s, live) {
    const iv = interval(s);
    let first = 'visitors';
    let body;
    const notes = api('/api/v1/annotations', new URLSearchParams({ site: s.site })).then(list, () => []);
    try {
      body = await api('/api/v1/stats/timeseries', query(s, { interval: iv, metrics: 'visitors,pageviews' }));
    } catch (e) {
      if (e.status !== 400) throw e;
      first = 'visits';
      body = await api('/api/v1/stats/timeseries', query(s, { interval: iv, metrics: 'visits,pageviews' }));
    }
    if (!live()) return;
    const rows = list(body);
    const firstName = METRIC_NAMES[first];
    const box = clear($('chart'));
    if (!rows.length) { box.append(el('p', { class: 'empty' }, 'No data for this period.')); return; }
    const sm = sampledMark(body);
    if (sm) box.append(sm);
    // Drawn at the container's own width, so that text is never stretched.
    const W = Math.max(280, Math.round(box.clientWidth || 800)), H = W < 560 ? 180 : 240, L = 40, R = 12, T = 12, B = 28;
    const series = [{ key: first, cls: 'visitors' }, { key: 'pageviews', cls: 'pageviews' }];
    const max = Math.max(1, ...rows.flatMap((r) => series.map((se) => num(r[se.key]))));
    const step = niceStep(max);
    const top = Math.ceil(max / step) * step;
    const x = (i) => L + (rows.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (rows.length - 1));
    const y = (v) => T + (H - T - B) * (1 - v / top);
    const svg = el('svg:svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'plot', width: W, height: H,
      'aria-label': `${firstName} and pageviews by ${iv}: ` + rows.map((r) => `${dateLabel(r.date, iv)} ${r.estimate ? '≈ ' : ''}${num(r[first])} ${first}, ${num(r.pageviews)} pageviews`).join('; ') });
    for (let v = 0; v <= top; v += step) {
      svg.append(el('svg:line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
      svg.append(el('svg:text', { x: L - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, compact(v)));
    }
    const every = Math.ceil(rows.length / Math.max(2, Math.floor(W / 90)));
    rows.forEach((r, i) => {
      if (i % every !== 0) return;
      const anchor = rows.length > 1 && i === 0 ? 'start' : rows.length > 1 && i === rows.length - 1 ? 'end' : 'middle';
      svg.append(el('svg:text', { x: x(i), y: H - 8, class: 'axis', 'text-anchor': anchor }, dateLabel(r.date, iv)));
    });
    // The lines stop at the current hour or day: later ones have no data
    // yet, and drawn as zero they look like a collapse.
    const now = Date.now();
    const drawn = Math.max(1, rows.filter((r) => !(new Date(r.date.length === 10 ? r.date + 'T00:00:00' : r.date) > now)).length);
    for (const se of series) {
      const pts = rows.slice(0, drawn).map((r, i) => `${x(i).toFixed(1)},${y(num(r[se.key])).toFixed(1)}`);
      if (se.key === first) {
        svg.append(el('svg:path', { d: `M${x(0)},${y(0)} L${pts.join(' L')} L${x(drawn - 1)},${y(0)} Z`, class: 'area' }));
      }
      svg.append(el('svg:polyline', { points: pts.join(' '), class: 'line ' + se.cls }));
    }
    // Annotations: a mark at the point whose bucket holds the note's day.
    const annotations = await notes;
    if (!live()) return;
    const day = (r) => r.date.slice(0, 10);
    for (const a of annotations) {
      let i = -1;
      rows.forEach((r, j) => { if (day(r) <= a.date) i = j; });
      if (i < 0 || ((iv === 'day' || iv === 'hour') && a.date > day(rows[rows.length - 1]))) continue;
      if (iv === 'hour') i = 0;
      svg.append(el('svg:g', { class: 'note', 'data-date': a.date },
        el('svg:title', {}, a.date + ': ' + a.text),
        el('svg:line', { x1: x(i), x2: x(i), y1: T, y2: H - B }),
        el('svg:circle', { cx: x(i), cy: T + 4, r: 4 })));
    }
    renderNotes(s, annotations);
    const cursor = el('svg:line', { x1: 0, x2: 0, y1: T, y2: H - B, class: 'cursor', visibility: 'hidden' });
    const dots = series.map((se) => el('svg:circle', { r: 4, class: 'dot ' + se.cls, visibility: 'hidden' }));
    svg.append(cursor, ...dots);
    const tip = el('div', { class: 'tip', hidden: true, role: 'status' });
    const show = (i) => {
      const r = rows[i];
      cursor.setAttribute('x1', x(i)); cursor.setAttribute('x2', x(i)); cursor.setAttribute('visibility', 'visible');
      series.forEach((se, k) => { dots[k].setAttribute('cx', x(i)); dots[k].setAttribute('cy', y(num(r[se.key]))); dots[k].setAttribute('visibility', 'visible'); });
      clear(tip).append(el('strong', {}, dateLabel(r.date, iv)),
        el('span', { class: 'k visitors', title: r.estimate ? ESTIMATE_TITLE : null }, (r.estimate ? '≈ ' : '') + compact(num(r[first])) + ' ' + first),
        el('span', { class: 'k pageviews' }, compact(num(r.pageviews)) + ' pageviews'));
      tip.hidden = false;
      const frac = (x(i) - L) / (W - L - R);
      tip.style.left = `calc(${(x(i) / W) * 100}% ${frac > 0.6 ? '- 10.5rem' : '+ 0.75rem'})`;
    };
    const hide = () => { tip.hidden = true; cursor.setAttribute('visibility', 'hidden'); dots.forEach((d) => d.setAttribute('visibility', 'hidden')); };
    const nearest = (ev) => {
      const b = svg.getBoundingClientRect();
      const px = ((ev.clientX - b.left) / b.width) * W;
      return Math.max(0, Math.min(rows.length - 1, Math.round(rows.length === 1 ? 0 : ((px - L) / (W - L - R)) * (rows.length - 1))));
    };
    svg.addEventListener('mousemove', (ev) => show(nearest(ev)));
    svg.addEventListener('mouseleave', hide);
    // Keyboard: the chart is focusable and the arrow keys walk the points.
    let at = rows.length - 1;
    svg.setAttribute('tabindex', '0');
    svg.addEventListener('keydown', (ev) => {
      if (ev.key === 'ArrowLeft') at = Math.max(0, at - 1);
      else if (ev.key === 'ArrowRight') at = Math.min(rows.length - 1, at + 1);
      else return;
      ev.preventDefault();
      show(at);
    });
    svg.addEventListener('focus', () => show(at));
    svg.addEventListener('blur', hide);
    const legend = el('p', { class: 'legend' },
      el('span', { class: 'key visitors' }, firstName), el('span', { class: 'key pageviews' }, 'Pageviews'),
      el('a', { class: 'csv', href: '/api/v1/stats/timeseries?' + query(s, { interval: iv, metrics: first + ',pageviews', format: 'csv' }), download: '' }, 'CSV'));
    const table = el('table', { class: 'data' },
      el('caption', { class: 'sr' }, firstName + ' and pageviews by ' + iv),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Date'), el('th', { scope: 'col', 'data-metric': first }, firstName), el('th', { scope: 'col' }, 'Pageviews'))),
      el('tbody', {}, rows.map((r) => el('tr', {}, el('th', { scope: 'row' }, dateLabel(r.date, iv)), el('td', {}, String(num(r[first]))), el('td', {}, String(num(r.pageviews)))))));
    box.append(el('div', { class: 'plotwrap' }, svg, tip), legend, el('details', { class: 'chart-table' }, el('summary', {}, 'Show as table'), table));
  }

  // renderNotes lists the site's annotations under the chart, each with a
  // delete button, and a form to add one.
  function renderNotes(s, annotations) {
    const box = clear($('notes'));
    const site = new URLSearchParams({ site: s.site });
    const ul = el('ul', { class: 'note-list' }, annotations.map((a) => el('li', { 'data-id': a.id },
      el('time', { datetime: a.date }, a.date), ' ', el('span', {}, a.text), ' ',
      el('button', { type: 'button', class: 'ghost small', 'aria-label': 'Delete the note of ' + a.date, onclick: async () => {
        await send('DELETE', '/api/v1/annotations/' + encodeURIComponent(a.id), site).catch(showError);
        render();
      } }, '×'))));
    const date = el('input', { type: 'date', id: 'note-date', required: '', 'aria-label': 'Day of the note' });
    const text = el('input', { id: 'note-text', required: '', maxlength: 300, placeholder: 'Note (a release, a campaign…)', 'aria-label': 'Note' });
    const add = async (ev) => {
      ev.preventDefault();
      try {
        await send('POST', '/api/v1/annotations', site, { date: date.value, text: text.value });
        render();
      } catch (e) { showError(e); }
    };
    box.append(ul, el('form', { class: 'note-add', onsubmit: add }, date, text, el('button', { type: 'submit', id: 'note-save' }, 'Add note')));
  }

  function niceStep(max) {
    const raw = max / 4;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return Math.max(1, m * mag);
    return Math.max(1, 10 * mag);
  }

  function renderTables(s, live) {
    const grid = clear($('tables'));
    CARDS.forEach((card, ci) => {
      const key = String(ci);
      const tab = drilled(card, s.tabs[key], key) || card.tabs.find((t) => t.property === s.tabs[key]) || card.tabs[0];
      const id = 'card-' + ci;
      // A table takes a moment (seconds on a large store): say so.
      const body = el('div', { class: 'table-body', 'aria-busy': 'true' }, el('p', { class: 'empty loading' }, 'Loading…'));
      const csv = el('a', { class: 'csv', download: '', 'data-property': tab.property,
        href: '/api/v1/stats/breakdown?' + query(s, { property: tab.property, metrics: tab.metrics.join(','), format: 'csv' }) }, 'CSV');
      tab.csv = csv;
      tab.cardKey = key;
      const tabs = el('div', { class: 'tabs', role: 'group', 'aria-label': card.title },
        card.tabs.map((t) => el('button', { type: 'button', class: 'tab', 'aria-pressed': t === tab || t.property === tab.parent ? 'true' : 'false', 'data-property': t.property,
          onclick: () => { const tabsState = Object.assign({}, s.tabs, { [key]: t.property }); setState({ tabs: tabsState }, true); } }, t.label)));
      grid.append(el('section', { class: 'card' + (card.wide ? ' wide' : ''), id, 'aria-labelledby': id + '-title', 'data-property': tab.property },
        el('div', { class: 'card-head' }, el('h2', { id: id + '-title' }, card.title), csv), tabs, body));
      breakdown(s, tab, body, live, 10);
    });
  }

  // drilled returns the tab of one custom property's values (the URL's
  // tab.N=props:KEY), under the card's tab of property keys.
  function drilled(card, property, key) {
    const keys = card.tabs.find((t) => t.property === 'props');
    if (!keys || !property || !property.startsWith('props:')) return null;
    return Object.assign({}, keys, { property, parent: 'props', col: property.slice(6), cardKey: key });
  }

  // breakdown fills a table. When the API cannot count visitors for the
  // query (several days), it asks for visits instead and says so.
  async function breakdown(s, tab, box, live, limit) {
    let rows, body;
    let metrics = tab.metrics;
    const ask = () => api('/api/v1/stats/breakdown', query(s, { property: tab.property, metrics: metrics.join(','), limit, page: 1 }));
    try {
      try {
        body = await ask();
      } catch (e) {
        if (e.status !== 400 || !/visitors/.test(e.message) || !metrics.includes('visitors')) throw e;
        metrics = ['visits'].concat(metrics.filter((m) => m !== 'visitors' && m !== 'visits'));
        body = await ask();
      }
      rows = list(body);
    } catch (e) {
      if (!live() || e.status === 401) return;
      box.removeAttribute('aria-busy');
      clear(box).append(e.status === 400
        ? el('p', { class: 'empty', title: e.message }, 'Not available with the current filters or period.')
        : el('p', { class: 'empty' }, 'Could not load: ' + e.message));
      return;
    }
    if (!live()) return;
    if (tab.csv) tab.csv.href = '/api/v1/stats/breakdown?' + query(s, { property: tab.property, metrics: metrics.join(','), format: 'csv' });
    tab = Object.assign({}, tab, { metrics });
    box.removeAttribute('aria-busy');
    clear(box);
    if (tab.parent) {
      box.append(el('button', { type: 'button', class: 'ghost small back', id: 'props-back',
        onclick: () => setState({ tabs: Object.assign({}, state().tabs, { [tab.cardKey]: tab.parent }) }, true) }, '← All properties'));
    }
    if (!rows.length) { box.append(el('p', { class: 'empty' }, 'No data yet.')); return; }
    const sm = sampledMark(body);
    if (sm) box.append(sm);
    const max = Math.max(1, ...rows.map((r) => num(r[metrics[0]])));
    // Goals with revenue: one more column, each currency apart.
    const revenue = rows.some((r) => r.revenue);
    const table = el('table', { class: 'breakdown', 'data-property': tab.property },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, tab.col), tab.metrics.map((m) => el('th', { scope: 'col', class: 'n' }, METRIC_NAMES[m] || m)),
        revenue ? el('th', { scope: 'col', class: 'n' }, 'Revenue') : '')));
    const tbody = el('tbody');
    for (const r of rows) {
      const raw = r[tab.property] ?? r.name ?? r.value ?? '';
      const value = String(raw);
      const shown = value === '' ? '(none)' : value;
      // A click adds "property is value" to the filters (AND); it
      // replaces a filter on the same property, which could only match
      // nothing beside it.
      const filter = () => {
        const cur = state();
        // A property key's row shows that key's values; a value's row filters.
        if (tab.property === 'props') {
          setState({ tabs: Object.assign({}, cur.tabs, { [tab.cardKey]: 'props:' + value }) }, true);
          return;
        }
        const others = cur.filters.filter((f) => f.dim !== tab.property);
        if (others.length >= MAX_FILTERS) {
          $('error').textContent = `At most ${MAX_FILTERS} filters: remove one first.`;
          return;
        }
        setState({ filters: others.concat([{ dim: tab.property, op: '==', value }]) });
      };
      const pct = (num(r[metrics[0]]) / max) * 100;
      const action = tab.property === 'props' ? 'show its values' : 'filter';
      const tr = el('tr', { tabindex: '0', class: 'row', 'data-value': value, title: tab.property === 'props' ? 'Values of ' + shown : 'Filter by ' + shown,
        'aria-label': `${shown}: ${tab.metrics.map((m) => (m === 'scroll_depth' ? cell(m, r[m]) : num(r[m])) + ' ' + (METRIC_NAMES[m] || m).toLowerCase()).join(', ')}. Press Enter to ${action}.`,
        onclick: filter, onkeydown: (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); filter(); } } },
      el('td', { class: 'label' }, el('span', { class: 'bar' }), el('span', { class: 'text' }, shown)),
      tab.metrics.map((m) => el('td', { class: 'n', 'data-metric': m, 'data-value': m === 'scroll_depth' ? r[m] ?? '' : num(r[m]) },
        cell(m, r[m]))),
      revenue ? el('td', { class: 'n revenue' }, (r.revenue || []).map((x) => el('span', {
        class: 'money', 'data-currency': x.currency, 'data-total': x.total, 'data-average': x.average,
        title: `${x.events} purchases, on average ${x.average} ${x.currency}` }, `${x.total} ${x.currency}`))) : '');
      // A width through CSSOM, which the style-src policy allows (a style attribute would not be).
      tr.querySelector('.bar').style.width = pct.toFixed(1) + '%';
      tbody.append(tr);
    }
    table.append(tbody);
    box.append(table);
    if (rows.length >= limit && limit < 100) {
      box.append(el('button', { type: 'button', class: 'ghost small more', onclick: () => breakdown(s, tab, box, live, limit * 5) }, 'Show more'));
    }
  }

  const FUNNEL_COLS = [
    { key: 'visitors', label: 'Visitors' },
    { key: 'visits', label: 'Visits' },
    { key: 'dropoff', label: 'Drop-off' },
    { key: 'conversion_rate', label: 'From step 1' },
  ];

  // funnel shows one of the site's funnels (GET /api/v1/sites lists them;
  // the URL's funnel parameter picks one, else the first): per step its
  // goal, a bar of its share of step 1, the visitors and visits that
  // reached it, the drop-off from the step before, and the conversion.
  async function funnel(s, live) {
    const site = sites.find((x) => x.domain === s.site);
    const all = (site && site.funnels) || [];
    const card = $('funnel-card');
    card.hidden = !all.length;
    if (!all.length) { clear($('funnel-csv-slot')); $('funnel').removeAttribute('aria-busy'); return; }
    const chosen = all.find((f) => f.name === s.funnel) || all[0];
    const sel = clear($('funnel-select'));
    for (const f of all) sel.append(el('option', { value: f.name }, f.name));
    sel.value = chosen.name;
    sel.onchange = () => setState({ funnel: sel.value }, true);
    const params = query(s, { funnel: chosen.name });
    // The CSV link exists only while the card is shown (every a.csv on the page is a download).
    clear($('funnel-csv-slot')).append(el('a', { class: 'csv', id: 'funnel-csv', download: '',
      href: '/api/v1/stats/funnel?' + query(s, { funnel: chosen.name, format: 'csv' }) }, 'CSV'));
    const box = $('funnel');
    box.setAttribute('aria-busy', 'true');
    let rows;
    try {
      rows = list(await api('/api/v1/stats/funnel', params));
    } catch (e) {
      if (!live() || e.status === 401) return;
      box.removeAttribute('aria-busy');
      clear(box).append(el('p', { class: 'empty', title: e.message }, e.status === 400 ? 'Not available: ' + e.message : 'Could not load: ' + e.message));
      return;
    }
    if (!live()) return;
    box.removeAttribute('aria-busy');
    clear(box);
    const table = el('table', { class: 'breakdown funnel', 'data-funnel': chosen.name },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col', class: 'n' }, 'Step'), el('th', { scope: 'col' }, 'Goal'),
        FUNNEL_COLS.map((c) => el('th', { scope: 'col', class: 'n' }, c.label)))));
    const tbody = el('tbody');
    for (const r of rows) {
      const cells = FUNNEL_COLS.map((c) => {
        const v = num(r[c.key]);
        const text = c.key === 'conversion_rate' ? v.toFixed(1) + '%'
          : c.key === 'dropoff' ? (r.step > 1 ? compact(v) + ' (' + num(r.dropoff_rate).toFixed(1) + '%)' : '—') : compact(v);
        return el('td', { class: 'n', 'data-metric': c.key, 'data-value': v }, text);
      });
      const tr = el('tr', { 'data-step': r.step, 'data-goal': r.goal,
        'aria-label': `Step ${r.step}, ${r.goal}: ${num(r.visitors)} visitors, ${num(r.conversion_rate).toFixed(1)}% of step 1` },
      el('td', { class: 'n' }, String(r.step)),
      el('td', { class: 'label' }, el('span', { class: 'bar' }), el('span', { class: 'text' }, r.goal)), cells);
      // A width through CSSOM, which the style-src policy allows.
      tr.querySelector('.bar').style.width = Math.min(100, num(r.conversion_rate)).toFixed(1) + '%';
      tbody.append(tr);
    }
    table.append(tbody);
    box.append(table);
  }

  async function consent(s, live) {
    // Consent decisions are per site and period: filters do not apply.
    const cq = (extra) => query(Object.assign({}, s, { filters: [] }), extra);
    $('consent-csv').href = '/api/v1/stats/consent?' + cq({ format: 'csv' });
    $('consent-csv').setAttribute('download', '');
    const body = await api('/api/v1/stats/consent', cq());
    if (!live()) return;
    const rows = list(body);
    const box = clear($('consent'));
    policyVersions((body && body.policy_versions) || []);
    if (!rows.length) { box.append(el('p', { class: 'empty' }, 'No consent decisions in this period.')); return; }
    // Rows are one per (date, category) with granted/denied counts, or one
    // per date with a column per category: both are folded into categories.
    const cats = new Map();
    const add = (cat, date, granted, denied, rate) => {
      if (!cats.has(cat)) cats.set(cat, []);
      cats.get(cat).push({ date, granted, denied, rate });
    };
    for (const r of rows) {
      if (r.category != null) {
        add(String(r.category), r.date, num(r.granted ?? r.accepted), num(r.denied ?? r.declined), r.rate);
      } else {
        for (const [k, v] of Object.entries(r)) {
          if (k === 'date' || v == null || typeof v !== 'object') continue;
          add(k, r.date, num(v.granted ?? v.accepted), num(v.denied ?? v.declined), v.rate);
        }
      }
    }
    const table = el('table', { class: 'breakdown consent' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Category'), el('th', { scope: 'col', class: 'n' }, 'Granted'),
        el('th', { scope: 'col', class: 'n' }, 'Declined'), el('th', { scope: 'col', class: 'n' }, 'Rate'), el('th', { scope: 'col' }, 'Over time'))));
    const tbody = el('tbody');
    for (const [cat, pts] of cats) {
      const g = pts.reduce((a, p) => a + p.granted, 0), d = pts.reduce((a, p) => a + p.denied, 0);
      const rate = g + d ? Math.round((g / (g + d)) * 100) : 0;
      const rates = pts.map((p) => (typeof p.rate === 'number' ? (p.rate <= 1 ? p.rate * 100 : p.rate) : p.granted + p.denied ? (p.granted / (p.granted + p.denied)) * 100 : 0));
      const w = 160, h = 28;
      const pts2 = rates.map((v, i) => `${rates.length === 1 ? w / 2 : (i * w) / (rates.length - 1)},${(h - 2 - (v / 100) * (h - 4)).toFixed(1)}`).join(' ');
      const spark = el('svg:svg', { viewBox: `0 0 ${w} ${h}`, class: 'spark', role: 'img',
        'aria-label': cat + ' consent rate over time: ' + pts.map((p, i) => `${p.date} ${Math.round(rates[i])}%`).join(', ') },
      el('svg:polyline', { points: pts2, class: 'line visitors' }));
      tbody.append(el('tr', { 'data-category': cat }, el('th', { scope: 'row' }, cat), el('td', { class: 'n' }, compact(g)),
        el('td', { class: 'n' }, compact(d)), el('td', { class: 'n', 'data-value': rate }, rate + '%'), el('td', {}, spark)));
    }
    table.append(tbody);
    box.append(el('div', { class: 'scroll' }, table));
  }

  // policyVersions lists the privacy policy's versions, newest first, with
  // the day each took effect: the notice that the statement changed.
  function policyVersions(versions) {
    const box = clear($('policy-versions'));
    if (!versions.length) return;
    const day = (iso) => new Date(iso).toISOString().slice(0, 10);
    const sorted = versions.slice().sort((a, b) => b.version - a.version);
    box.append(el('span', {}, 'Privacy policy: '), el('ol', { class: 'versions', reversed: '' },
      sorted.map((v, i) => el('li', { 'data-version': v.version, 'data-since': day(v.since) },
        el('strong', {}, 'version ' + v.version), ' since ' + day(v.since) + (i === 0 ? ' (current)' : '')))));
  }

  // emailLink splits an e-mail dimension's value, "campaign/link-id" with
  // '%' and '/' escaped in the campaign (store.EmailValue).
  function emailLink(v) {
    const i = v.indexOf('/');
    const campaign = (i < 0 ? v : v.slice(0, i)).replace(/%25|%2F/g, (m) => (m === '%25' ? '%' : '/'));
    return { campaign, link: i < 0 ? '' : v.slice(i + 1) };
  }

  async function newsletter(s, live) {
    // Opens and clicks are not visits: the site's filters do not apply.
    const nq = (extra) => query(Object.assign({}, s, { filters: [] }), extra);
    const ask = (property) => api('/api/v1/stats/breakdown', nq({ property, metrics: 'events', limit: 100, page: 1 }));
    $('newsletter-opens-csv').href = '/api/v1/stats/breakdown?' + nq({ property: 'email_open', metrics: 'events', format: 'csv' });
    $('newsletter-clicks-csv').href = '/api/v1/stats/breakdown?' + nq({ property: 'email_click', metrics: 'events', format: 'csv' });
    for (const id of ['newsletter-opens-csv', 'newsletter-clicks-csv']) $(id).setAttribute('download', '');
    const [opens, clicks] = await Promise.all([ask('email_open'), ask('email_click')]);
    if (!live()) return;
    const links = new Map();
    const add = (rows, dim, key) => {
      for (const r of list(rows)) {
        const v = String(r[dim] ?? r.value ?? '');
        if (!links.has(v)) links.set(v, Object.assign(emailLink(v), { value: v, opens: 0, clicks: 0 }));
        links.get(v)[key] += num(r.events);
      }
    };
    add(opens, 'email_open', 'opens');
    add(clicks, 'email_click', 'clicks');
    const box = clear($('newsletter'));
    box.removeAttribute('aria-busy');
    if (!links.size) { box.append(el('p', { class: 'empty' }, 'No newsletter opens or clicks in this period.')); return; }
    const rows = [...links.values()].sort((a, b) => b.clicks - a.clicks || b.opens - a.opens || a.value.localeCompare(b.value));
    const table = el('table', { class: 'breakdown newsletter' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Campaign'), el('th', { scope: 'col' }, 'Link'),
        el('th', { scope: 'col', class: 'n' }, 'Opens'), el('th', { scope: 'col', class: 'n' }, 'Clicks'),
        el('th', { scope: 'col', class: 'n', title: 'Clicks per open' }, 'Click rate'))));
    const tbody = el('tbody');
    for (const r of rows) {
      const rate = r.opens ? Math.round((r.clicks / r.opens) * 100) + '%' : '–';
      tbody.append(el('tr', { 'data-value': r.value },
        el('th', { scope: 'row' }, r.campaign || '(none)'), el('td', {}, r.link || '(none)'),
        el('td', { class: 'n', 'data-metric': 'opens', 'data-value': r.opens }, compact(r.opens)),
        el('td', { class: 'n', 'data-metric': 'clicks', 'data-value': r.clicks }, compact(r.clicks)),
        el('td', { class: 'n' }, rate)));
    }
    table.append(tbody);
    box.append(el('div', { class: 'scroll' }, table));
  }

  // confirmed is a button that acts on its second click ("Really …"),
  // telling errors in errBox.
  function confirmed(attrs, label, errBox, act) {
    return el('button', Object.assign({
      type: 'button', class: 'ghost small',
      onclick: async (ev) => {
        const b = ev.currentTarget;
        if (b.dataset.confirm !== '1') { b.dataset.confirm = '1'; b.textContent = 'Really ' + label.toLowerCase(); return; }
        b.disabled = true;
        try {
          await act();
        } catch (e) {
          errBox.textContent = `Could not ${label.toLowerCase()}: ${e.message}`;
          b.disabled = false;
        }
      },
    }, attrs), label);
  }

  // --- share links (admins) ------------------------------------------------

  async function shares(s, live) {
    $('shares-card').hidden = role !== 'admin';
    if (role !== 'admin' || !s.site) return;
    const body = await api('/api/v1/admin/shares', new URLSearchParams({ site: s.site }));
    if (!live()) return;
    const box = clear($('shares'));
    const links = (body && body.links) || [];
    if (!links.length) { box.append(el('p', { class: 'empty' }, 'No share links for this site yet.')); return; }
    const day = (iso) => (iso ? iso.slice(0, 10) : 'never');
    const tbody = el('tbody');
    for (const l of links) {
      const revoke = l.state === 'active' ? confirmed({ 'data-revoke': l.id }, 'Revoke', $('share-error'), async () => {
        await send('DELETE', '/api/v1/admin/shares/' + encodeURIComponent(l.id), new URLSearchParams());
        await shares(state(), () => true);
      }) : '';
      tbody.append(el('tr', { 'data-id': l.id, 'data-state': l.state },
        el('th', { scope: 'row' }, l.name || '(no name)'),
        el('td', {}, l.embed ? 'iframe on ' + l.frame_ancestors.join(', ') : 'page'),
        el('td', {}, l.password ? 'yes' : 'no'),
        el('td', {}, day(l.created_at)),
        el('td', {}, day(l.expires_at)),
        el('td', { class: 'state' }, l.state),
        el('td', {}, revoke)));
    }
    box.append(el('div', { class: 'scroll' }, el('table', { class: 'breakdown shares' },
      el('thead', {}, el('tr', {}, ...['Name', 'Shown as', 'Password', 'Created', 'Expires', 'State', ''].map((h) => el('th', { scope: 'col' }, h)))),
      tbody)));
  }

  async function createShare(ev) {
    ev.preventDefault();
    $('share-error').textContent = '';
    const embed = $('share-embed').checked;
    const req = {
      site: state().site, name: $('share-name').value.trim(), expires_days: Number($('share-expires').value) || 0, embed,
    };
    if ($('share-password').value) req.password = $('share-password').value;
    if (embed) req.frame_ancestors = $('share-origins').value.split(/[\s,]+/).filter(Boolean);
    $('share-create').disabled = true;
    try {
      const body = await send('POST', '/api/v1/admin/shares', new URLSearchParams(), req);
      $('share-url').value = body.iframe || body.url;
      $('share-new').hidden = false;
      $('share-form').reset();
      $('share-url').select();
      await shares(state(), () => true);
    } catch (e) {
      $('share-error').textContent = 'Could not create the link: ' + e.message;
    } finally {
      $('share-create').disabled = false;
    }
  }

  // --- goals (admins) ------------------------------------------------------

  const GOAL_SOURCES = { builtin: 'built in', config: 'config file', api: 'added here' };

  async function goalsAdmin(s, live) {
    $('goals-card').hidden = role !== 'admin';
    if (role !== 'admin' || !s.site) return;
    const body = await api('/api/v1/admin/goals', new URLSearchParams({ site: s.site }));
    if (!live()) return;
    const tbody = el('tbody');
    for (const g of (body && body.goals) || []) {
      const props = Object.entries(g.props || {}).map(([k, v]) => k + '=' + v).join(', ');
      const del = g.source === 'api' ? confirmed({ 'data-delete': g.id }, 'Delete', $('goal-error'), async () => {
        await send('DELETE', '/api/v1/admin/goals/' + encodeURIComponent(g.id), new URLSearchParams({ site: state().site }));
        render();
      }) : '';
      tbody.append(el('tr', { 'data-name': g.name, 'data-source': g.source, 'data-active': String(g.active) },
        el('th', { scope: 'row' }, g.name),
        el('td', {}, g.page ? 'pageview of ' + g.page : 'event ' + g.event),
        el('td', {}, props),
        el('td', { class: 'state' }, GOAL_SOURCES[g.source] + (g.active ? '' : ', left out: a goal of the config file has its name')),
        el('td', {}, del)));
    }
    clear($('goals-admin')).append(el('div', { class: 'scroll' }, el('table', { class: 'breakdown goals-admin' },
      el('thead', {}, el('tr', {}, ...['Goal', 'Reached by', 'Properties', 'From', ''].map((h) => el('th', { scope: 'col' }, h)))),
      tbody)));
  }

  async function createGoal(ev) {
    ev.preventDefault();
    $('goal-error').textContent = '';
    const req = { name: $('goal-name').value.trim() };
    req[$('goal-kind').value] = $('goal-what').value.trim();
    const props = $('goal-props').value.split(',').map((p) => p.trim()).filter(Boolean);
    if (props.length) {
      req.props = {};
      for (const p of props) {
        const i = p.indexOf('=');
        req.props[i < 0 ? p : p.slice(0, i).trim()] = i < 0 ? '' : p.slice(i + 1).trim();
      }
    }
    $('goal-create').disabled = true;
    try {
      await send('POST', '/api/v1/admin/goals', new URLSearchParams({ site: state().site }), req);
      $('goal-form').reset();
      render(); // the Goals card counts it now
    } catch (e) {
      $('goal-error').textContent = 'Could not add the goal: ' + e.message;
    } finally {
      $('goal-create').disabled = false;
    }
  }

  async function realtime() {
    const s = state();
    if (!s.site || $('app').hidden) return;
    try {
      const body = await api('/api/v1/stats/realtime', new URLSearchParams({ site: s.site }));
      const r = body && body.results != null ? body.results : body;
      const n = typeof r === 'number' ? r : num(r && (r.visitors ?? r.current_visitors));
      $('realtime-text').textContent = n + (n === 1 ? ' current visitor' : ' current visitors');
      $('realtime').dataset.value = n;
    } catch (e) {
      $('realtime-text').textContent = 'Current visitors unavailable';
    }
  }

  async function aggregator(s, live) {
    const body = await api('/api/v1/aggregator/status', new URLSearchParams({ site: s.site }));
    if (!live()) return;
    const r = (body && body.results) || body || {};
    let last = r.last_run ?? r.last_run_at ?? r.finished_at;
    if (last && typeof last === 'object') last = last.finished ?? last.started;
    const lag = r.lag_seconds ?? r.lag;
    const errs = r.failed_windows ?? r.errors ?? r.last_error;
    const box = clear($('aggregator'));
    box.append(el('span', {}, 'Aggregated ' + (last ? ago(last) : 'never')));
    if (typeof lag === 'number' && lag > 0) box.append(el('span', {}, ' · lag ' + duration(lag)));
    const nerr = Array.isArray(errs) ? errs.length : typeof errs === 'number' ? errs : errs ? 1 : 0;
    if (nerr) {
      const msg = Array.isArray(errs) ? errs.map((e) => (typeof e === 'string' ? e : (e.window_start ? e.window_start + ': ' : '') + (e.error || e.message || ''))).join('; ') : typeof errs === 'string' ? errs : '';
      box.append(el('span', { class: 'bad', title: msg }, ' · ' + nerr + (nerr === 1 ? ' failed window' : ' failed windows')));
    }
    if (last) box.title = 'Last run ' + new Date(last).toLocaleString();
  }

  // --- controls --------------------------------------------------------------

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    $('site').addEventListener('change', (ev) => setState({ site: ev.target.value, filters: [], segment: '' }));
    $('period').addEventListener('change', (ev) => {
      const p = ev.target.value;
      if (p === 'custom') {
        const to = new Date(), from = new Date(Date.now() - 29 * 864e5);
        const iso = (d) => d.toISOString().slice(0, 10);
        $('custom').hidden = false;
        setState({ period: p, from: $('from').value || iso(from), to: $('to').value || iso(to) });
        $('from').focus();
      } else {
        setState({ period: p });
      }
    });
    $('apply').addEventListener('click', () => setState({ period: 'custom', from: $('from').value, to: $('to').value }));
    $('share-form').addEventListener('submit', createShare);
    $('goal-form').addEventListener('submit', createGoal);
    $('compare').addEventListener('change', (ev) => setState({ compare: ev.target.checked }, true));
    window.addEventListener('popstate', () => { if (!$('app').hidden) render(); });
    // The chart is drawn at its container's width: draw it again when that changes.
    let width = 0, redraw = 0;
    window.addEventListener('resize', () => {
      clearTimeout(redraw);
      redraw = setTimeout(() => {
        const w = $('chart').clientWidth;
        if ($('app').hidden || w === width) return;
        width = w;
        const gen = generation;
        chart(state(), () => gen === generation).catch(() => {});
      }, 150);
    });
    start();
  });
})();
