// The dashboard page: one websocket to the server, which sends a tick every ~250 ms with the
// counters, the rows of the stream list this page shows (the server sorts and slices, so the page
// only ever renders the visible rows), new alerts and the selected stream's new points. Every value
// from a stream is put in the DOM with textContent, never as markup.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const MAX_POINTS = 5000; // points kept for the detail chart
  const ROW = 26;
  const state = {
    ws: null, sort: 'score', desc: true, filter: '', selected: null, channel: 'x0',
    offset: 0, limit: 60, windowSec: 300, live: true, total: 0, rows: [], now: Date.now(),
    series: null, dirtyChart: false, alerts: [],
  };
  // Read by the browser tests and the benchmark.
  const stats = (window.__dashboard = { ticks: 0, firstRowsAt: null, rowsRendered: 0, seriesPoints: 0, alertsSeen: 0, lastTickBytes: 0 });

  // ---------- connection ----------
  function connect() {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    state.ws = ws;
    setStatus('connecting', 'connecting');
    ws.onopen = () => { setStatus('live', 'live'); sendView(); };
    ws.onmessage = (e) => { stats.lastTickBytes = e.data.length; onTick(JSON.parse(e.data)); };
    ws.onclose = () => { setStatus('down', 'disconnected, retrying'); setTimeout(connect, 1500); };
  }
  function setStatus(cls, text) {
    $('status').className = 'status ' + cls;
    $('status-text').textContent = text;
  }
  function sendView() {
    if (!state.ws || state.ws.readyState !== 1) return;
    state.ws.send(JSON.stringify({ type: 'view', sort: state.sort, desc: state.desc, offset: state.offset, limit: state.limit, filter: state.filter, selected: state.selected, hidden: document.hidden }));
  }
  document.addEventListener('visibilitychange', sendView);

  // ---------- ticks ----------
  function onTick(m) {
    if (m.type !== 'tick') return;
    stats.ticks++;
    state.now = m.now;
    renderCounters(m.counters, m.dropped);
    if (m.model) renderInfo(m.model);
    if (m.rows) {
      state.total = m.total;
      state.rows = m.rows;
      state.rowsOffset = m.offset;
      renderRows();
      if (state.selected === null && m.rows.length > 0) select(m.rows[0][0]);
    }
    if (m.alerts && m.alerts.length) addAlerts(m.alerts);
    if (m.series !== undefined) mergeSeries(m.series);
  }

  // ---------- counters and info ----------
  const fmt = (v, digits) => (v === null || v === undefined || Number.isNaN(v) ? '–' : Math.abs(v) >= 1e4 ? v.toExponential(2) : v.toFixed(digits));
  const int = (n) => n.toLocaleString('en-US');
  function renderCounters(c, droppedHere) {
    $('c-rate').textContent = int(Math.round(c.eventsPerSec));
    $('c-events').textContent = int(c.events);
    $('c-keys').textContent = int(c.keys);
    $('c-alerts').textContent = int(c.alerts);
    $('c-alerts').classList.toggle('bad', c.alerts > 0);
    $('c-dropped').textContent = int(c.droppedFrames);
    $('c-dropped').title = 'updates not sent to slow pages: ' + c.droppedFrames + ' (this page: ' + droppedHere + ')';
    $('c-evicted').textContent = int(c.evictedKeys);
    const codes = Object.keys(c.errors).sort();
    const errors = codes.reduce((s, k) => s + c.errors[k], 0);
    $('c-errors').textContent = int(errors);
    $('c-errors').classList.toggle('bad', errors > 0);
    const table = $('error-codes');
    table.replaceChildren();
    if (codes.length === 0) addKv(table, 'none', '');
    for (const code of codes) addKv(table, code, int(c.errors[code]), true);
  }
  let infoJson = '';
  function renderInfo(info) {
    const json = JSON.stringify(info);
    if (json === infoJson) return;
    infoJson = json;
    if (info.title) { $('title').textContent = String(info.title); document.title = String(info.title) + ' · seqstream'; }
    const table = $('model-info');
    table.replaceChildren();
    for (const k of Object.keys(info)) if (k !== 'title' && info[k] !== null && info[k] !== undefined) addKv(table, k, String(info[k]));
  }
  function addKv(table, k, v, bad) {
    const tr = document.createElement('tr');
    const a = document.createElement('td');
    const b = document.createElement('td');
    a.textContent = k;
    b.textContent = v;
    if (bad) b.className = 'bad';
    tr.append(a, b);
    table.append(tr);
  }

  // ---------- stream list (virtual: only the visible rows exist in the DOM) ----------
  const body = $('table-body');
  const spacer = $('table-spacer');
  const rowPool = [];
  function ago(ms) {
    const s = Math.max(0, (state.now - ms) / 1000);
    return s < 1 ? 'now' : s < 60 ? s.toFixed(0) + 's' : s < 3600 ? (s / 60).toFixed(0) + 'm' : (s / 3600).toFixed(0) + 'h';
  }
  function renderRows() {
    spacer.style.height = state.total * ROW + 'px';
    $('stream-total').textContent = '(' + int(state.total) + ')';
    const rows = state.rows;
    while (rowPool.length < rows.length) {
      const el = document.createElement('div');
      el.className = 'row';
      for (const cls of ['key', 'num value', 'num score', 'num rate', 'num seen']) {
        const span = document.createElement('span');
        span.className = cls;
        el.append(span);
      }
      // pointerdown, not click: rows re-sort every tick, so the row under the pointer must be read at once.
      el.addEventListener('pointerdown', () => select(el.dataset.key));
      body.append(el);
      rowPool.push(el);
    }
    for (let i = 0; i < rowPool.length; i++) {
      const el = rowPool[i];
      const r = rows[i];
      if (!r) { el.hidden = true; continue; }
      el.hidden = false;
      const [key, value, score, rate, seen, alert] = r;
      el.dataset.key = key;
      el.style.top = (state.rowsOffset + i) * ROW + 'px';
      el.classList.toggle('alert', alert === 1);
      el.classList.toggle('selected', key === state.selected);
      const c = el.children;
      c[0].textContent = key;
      c[0].title = key;
      c[1].textContent = fmt(value, 3);
      c[2].textContent = fmt(score, 3);
      c[3].textContent = fmt(rate, 1);
      c[4].textContent = ago(seen);
      c[4].classList.toggle('stale', state.now - seen > 10000);
    }
    stats.rowsRendered = rows.length;
    if (stats.firstRowsAt === null && rows.length > 0) stats.firstRowsAt = performance.now();
  }
  let scrollQueued = false;
  body.addEventListener('scroll', () => {
    if (scrollQueued) return;
    scrollQueued = true;
    requestAnimationFrame(() => { scrollQueued = false; updateWindow(); });
  });
  function updateWindow() {
    const first = Math.max(0, Math.floor(body.scrollTop / ROW) - 10);
    const limit = Math.ceil(body.clientHeight / ROW) + 20;
    if (first !== state.offset || limit !== state.limit) {
      state.offset = first;
      state.limit = limit;
      sendView();
    }
  }
  window.addEventListener('resize', updateWindow);
  for (const b of document.querySelectorAll('#table-head .col')) {
    b.addEventListener('click', () => {
      const sort = b.dataset.sort;
      state.desc = state.sort === sort ? !state.desc : sort !== 'key';
      state.sort = sort;
      markSort();
      sendView();
    });
  }
  function markSort() {
    for (const b of document.querySelectorAll('#table-head .col')) {
      b.classList.toggle('sorted', b.dataset.sort === state.sort);
      b.classList.toggle('asc', b.dataset.sort === state.sort && !state.desc);
    }
  }
  $('filter').addEventListener('input', (e) => { state.filter = e.target.value; body.scrollTop = 0; state.offset = 0; sendView(); });

  // ---------- selection and detail chart ----------
  function select(key) {
    if (key === state.selected) return;
    state.selected = key;
    state.series = null;
    $('detail-key').textContent = key;
    $('detail-empty').hidden = true;
    for (const el of rowPool) el.classList.toggle('selected', el.dataset.key === key);
    sendView();
  }
  function mergeSeries(s) {
    if (s === null) { $('detail-state').textContent = 'gone'; $('detail-state').className = 'badge'; return; }
    if (s.key !== state.selected) return;
    let cur = state.series;
    if (!cur || s.reset || cur.next !== s.from) {
      cur = state.series = { next: s.from, t: [], x: [], y: [], score: [], alert: [], threshold: null };
    }
    cur.t.push(...s.t);
    for (let i = 0; i < s.x.length; i++) { (cur.x[i] ||= new Array(cur.t.length - s.t.length).fill(null)).push(...s.x[i]); }
    for (let i = 0; i < s.y.length; i++) { (cur.y[i] ||= new Array(cur.t.length - s.t.length).fill(null)).push(...s.y[i]); }
    cur.score.push(...s.score);
    cur.alert.push(...s.alert);
    cur.threshold = s.threshold;
    cur.next = s.next;
    const extra = cur.t.length - MAX_POINTS;
    if (extra > 0) for (const arr of [cur.t, cur.score, cur.alert, ...cur.x, ...cur.y]) arr.splice(0, extra);
    stats.seriesPoints = cur.t.length;
    updateChannels(cur);
    const last = cur.alert.length ? cur.alert[cur.alert.length - 1] : 0;
    $('detail-state').textContent = cur.t.length === 0 ? '' : last ? 'ALERT' : 'normal';
    $('detail-state').className = 'badge ' + (cur.t.length === 0 ? '' : last ? 'alert' : 'ok');
    if (s.t.length > 0 || s.reset) queueChart();
  }
  function updateChannels(cur) {
    const sel = $('channel');
    const want = cur.x.map((_, i) => 'x' + i).concat(cur.x.length === 0 ? cur.y.map((_, i) => 'y' + i) : []);
    if (sel.options.length === want.length && [...sel.options].every((o, i) => o.value === want[i])) return;
    sel.replaceChildren(...want.map((v) => { const o = document.createElement('option'); o.value = v; o.textContent = (v[0] === 'x' ? 'input ' : 'output ') + v.slice(1); return o; }));
    if (!want.includes(state.channel)) state.channel = want[0] || 'x0';
    sel.value = state.channel;
  }
  $('channel').addEventListener('change', (e) => { state.channel = e.target.value; queueChart(); });
  let chartQueued = false;
  function queueChart() {
    if (chartQueued) return;
    chartQueued = true;
    requestAnimationFrame(() => { chartQueued = false; drawChart(); });
  }
  let charts = null;
  function drawChart() {
    const cur = state.series;
    if (!cur) return;
    charts ||= SeqCharts.create($('chart-value'), $('chart-score'), () => state.series && state.series.alert, () => setLive(false));
    const ch = Number(state.channel.slice(1));
    const inputs = state.channel[0] === 'x';
    const t = cur.t.map((ms) => ms / 1000);
    const value = (inputs ? cur.x[ch] : cur.y[ch]) || t.map(() => null);
    const prediction = inputs ? cur.y[ch] || t.map(() => null) : t.map(() => null);
    const threshold = t.map(() => cur.threshold);
    const alertMarks = cur.score.map((s, i) => (cur.alert[i] ? s : null));
    let range = null;
    if (state.live && t.length > 0) {
      const end = t[t.length - 1];
      const start = state.windowSec > 0 ? end - state.windowSec : t[0];
      range = [Math.max(start, t[0]), end];
      if (range[1] <= range[0]) range = null;
    }
    if (!state.live) range = undefined;
    charts.set({ t, value, prediction, score: cur.score, threshold, alertMarks }, range === undefined ? 'keep' : range);
  }
  function setLive(on) {
    state.live = on;
    $('live').classList.toggle('on', on);
    if (on) queueChart();
  }
  $('live').addEventListener('click', () => setLive(!state.live));
  for (const b of document.querySelectorAll('#windows button')) {
    b.addEventListener('click', () => {
      state.windowSec = Number(b.dataset.window);
      for (const o of document.querySelectorAll('#windows button')) o.classList.toggle('on', o === b);
      setLive(true);
    });
  }
  document.addEventListener('dblclick', (e) => { if (e.target.closest('.chart')) setLive(true); });

  // ---------- alert feed ----------
  const feed = $('alert-feed');
  function addAlerts(alerts) {
    stats.alertsSeen += alerts.length;
    const none = feed.querySelector('.none');
    if (none) none.remove();
    for (const a of alerts) {
      const li = document.createElement('li');
      li.dataset.key = a.key;
      const when = document.createElement('span');
      when.className = 'when';
      when.textContent = new Date(a.timestamp).toLocaleTimeString('en-GB');
      const key = document.createElement('span');
      key.className = 'key';
      key.textContent = a.key;
      const val = document.createElement('span');
      val.className = 'val';
      val.textContent = 'score ' + fmt(a.score, 3);
      li.append(when, key, val);
      li.addEventListener('click', () => select(a.key));
      feed.prepend(li);
    }
    while (feed.children.length > 200) feed.lastChild.remove();
  }
  function emptyFeed() {
    const li = document.createElement('li');
    li.className = 'none';
    li.textContent = 'no alerts yet';
    feed.append(li);
  }

  emptyFeed();
  markSort();
  updateWindow();
  connect();
})();
