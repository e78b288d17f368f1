// The share page: a read-only view of one site's anonymised release. The
// link is the page's own address (/share/<link>); the figures come from
// /api/share/v1/<link>. A link with a password asks for it once and keeps
// the view key it gets in memory only. Inside an iframe the page tells its
// parent its height and what it shows (postMessage {type: "footfall-share",
// height, state: "report" | "password" | "error"}), so the embedding page can
// fit the frame.
(() => {
  'use strict';
  const link = decodeURIComponent(location.pathname.replace(/^\/share\//, '').replace(/\/$/, ''));
  const api = '/api/share/v1/' + encodeURIComponent(link);
  const $ = (id) => document.getElementById(id);
  const labels = {
    total: 'Total', page: 'Pages', entry_page: 'Entry pages', exit_page: 'Exit pages', referrer_host: 'Referrers',
    source: 'Sources', utm_source: 'UTM sources', utm_medium: 'UTM media', utm_campaign: 'UTM campaigns',
    country: 'Countries', device: 'Devices', browser: 'Browsers', os: 'Operating systems', language: 'Languages',
    event_name: 'Events',
  };
  const metricLabels = { visitors: 'Visitors', visits: 'Visits', pageviews: 'Pageviews', events: 'Events' };
  let key = '';
  let state = { period: 'week', date: '' };

  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const k of kids) e.append(k);
    return e;
  };
  const num = (n) => Number(n).toLocaleString('en');

  function tell(state) {
    if (window.parent !== window) {
      window.parent.postMessage({ type: 'footfall-share', height: document.documentElement.scrollHeight, state }, '*');
    }
  }

  async function load() {
    $('error').textContent = '';
    const q = new URLSearchParams({ period: state.period });
    if (state.date) q.set('date', state.date);
    const headers = key ? { 'X-Share-Key': key } : {};
    let res;
    try {
      res = await fetch(api + '?' + q, { headers, cache: 'no-store', credentials: 'omit' });
    } catch (e) {
      $('error').textContent = 'The statistics could not be loaded.';
      tell('error');
      return;
    }
    const body = await res.json().catch(() => ({}));
    if (res.status === 401) {
      key = '';
      $('report').hidden = true;
      $('controls').hidden = true;
      $('unlock').hidden = false;
      $('password').focus();
      tell('password');
      return;
    }
    if (!res.ok) {
      $('error').textContent = body.error || ('Error ' + res.status);
      tell('error');
      return;
    }
    render(body);
  }

  function render(d) {
    $('unlock').hidden = true;
    $('site').textContent = d.site;
    $('name').textContent = d.name ? '· ' + d.name : '';
    document.title = 'Statistics of ' + d.site;
    $('controls').hidden = false;
    $('period').value = d.period;
    $('window').textContent = d.from + ' – ' + d.to;
    $('prev').disabled = !d.previous;
    $('next').disabled = !d.next;
    $('prev').onclick = () => { state.date = d.previous.from; load(); };
    $('next').onclick = () => { state.date = d.next.from; load(); };
    let note = 'Anonymised figures: every row covers at least ' + d.k + ' visitors; smaller groups are left out or counted under "Other". ' +
      'Visitors are counted per day. Made ' + new Date(d.generated_at).toISOString().slice(0, 16).replace('T', ' ') + ' UTC.';
    if (d.noise === 'laplace') note += ' Random noise (differential privacy, ε = ' + d.epsilon + ') is added to every figure.';
    $('note').textContent = note;

    const metrics = d.metrics;
    const head = (first) => el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, first),
      ...metrics.map((m) => el('th', { scope: 'col', class: 'n' }, metricLabels[m] || m))));
    const total = d.tables.find((t) => t.dimension === 'total');
    $('days').replaceChildren();
    if (total) {
      const rows = total.rows.map((r) => el('tr', { 'data-day': r.day }, el('td', {}, r.day),
        ...metrics.map((m) => el('td', { class: 'n' }, num(r[m])))));
      const sums = metrics.map((m) => total.rows.reduce((s, r) => s + r[m], 0));
      const foot = el('tfoot', {}, el('tr', {}, el('th', { scope: 'row' }, 'Sum'), ...sums.map((s) => el('td', { class: 'n' }, num(s)))));
      $('days').append(rows.length ? el('table', { id: 'table-total' }, head('Day'), el('tbody', {}, ...rows), foot)
        : el('p', { class: 'note' }, 'No day of this period has ' + d.k + ' visitors or more.'));
    }
    $('tables').replaceChildren();
    for (const t of d.tables) {
      if (t.dimension === 'total') continue;
      const byValue = new Map();
      for (const r of t.rows) {
        const acc = byValue.get(r.value) || Object.fromEntries(metrics.map((m) => [m, 0]));
        for (const m of metrics) acc[m] += r[m];
        byValue.set(r.value, acc);
      }
      const sorted = [...byValue.entries()].sort((a, b) => b[1][metrics[0]] - a[1][metrics[0]]);
      const rows = sorted.map(([v, acc]) => el('tr', { 'data-value': v },
        el('td', { class: 'v' }, v === '(other)' ? 'Other' : (v === '' ? '(none)' : v)),
        ...metrics.map((m) => el('td', { class: 'n' }, num(acc[m])))));
      const title = labels[t.dimension] || t.dimension;
      $('tables').append(el('section', { class: 'card', 'aria-label': title }, el('h2', {}, title),
        rows.length ? el('table', { id: 'table-' + t.dimension }, head(title), el('tbody', {}, ...rows))
          : el('p', { class: 'note' }, 'Nothing to show: no value has ' + d.k + ' visitors or more.')));
    }
    $('report').hidden = false;
    document.body.dataset.loaded = d.from;
    tell('report');
  }

  $('period').addEventListener('change', () => { state = { period: $('period').value, date: '' }; load(); });
  $('unlock').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('unlock-error').textContent = '';
    $('unlock-submit').disabled = true;
    try {
      const res = await fetch(api + '/unlock', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, credentials: 'omit',
        body: JSON.stringify({ password: $('password').value }),
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) {
        $('unlock-error').textContent = body.error || ('Error ' + res.status);
        return;
      }
      key = body.key;
      $('password').value = '';
      await load();
    } finally {
      $('unlock-submit').disabled = false;
    }
  });
  load();
})();
