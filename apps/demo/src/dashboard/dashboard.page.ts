/**
 * The dashboard page: plain HTML and CSS, and a script that renders the snapshots the server
 * pushes on /events (server-sent events) and the AsyncAPI document of /asyncapi.json.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nestjs-mqtt demo</title>
<style>
  :root { --bg:#f4f6f8; --card:#fff; --ink:#1d2733; --muted:#6b7785; --line:#e3e8ee;
          --ok:#1f9d55; --warn:#d97706; --bad:#d64545; --accent:#2563eb; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
         background:var(--bg); color:var(--ink); }
  header { display:flex; flex-wrap:wrap; gap:16px 28px; align-items:center; padding:14px 24px;
           background:#17202b; color:#fff; }
  header h1 { font-size:18px; margin:0 12px 0 0; }
  header .field { display:flex; flex-direction:column; font-size:12px; color:#aab6c3; }
  header .field b { font-size:14px; color:#fff; font-weight:600; }
  .badge { display:inline-block; padding:2px 10px; border-radius:999px; font-weight:700;
           font-size:13px; color:#fff; background:var(--muted); text-transform:uppercase; }
  .badge.connected { background:var(--ok); } .badge.connecting, .badge.reconnecting,
  .badge.offline { background:var(--warn); } .badge.closed { background:var(--bad); }
  #live { margin-left:auto; font-size:12px; color:#aab6c3; }
  #live.on::before { content:"\\25CF "; color:#4ade80; }
  main { display:grid; gap:16px; padding:16px 24px;
         grid-template-columns:minmax(0,1fr) minmax(0,1.3fr);
         grid-template-areas:"devices handlers" "alerts handlers" "asyncapi asyncapi"; }
  @media (max-width:1000px) { main { grid-template-columns:minmax(0,1fr);
         grid-template-areas:"devices" "handlers" "alerts" "asyncapi"; } }
  section { background:var(--card); border:1px solid var(--line); border-radius:8px;
            padding:14px 16px; min-width:0; overflow-x:auto; align-self:start; }
  #devices { grid-area:devices; } #handlers { grid-area:handlers; } #alerts { grid-area:alerts; }
  #asyncapi { grid-area:asyncapi; }
  td { white-space:nowrap; } td.wrap { white-space:normal; }
  header .field.error b { max-width:420px; overflow:hidden; text-overflow:ellipsis;
         white-space:nowrap; font-weight:400; font-size:12px; color:#fca5a5; }
  h2 { font-size:15px; margin:0 0 10px; }
  table { width:100%; border-collapse:collapse; }
  th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); }
  th { font-size:12px; color:var(--muted); font-weight:600; }
  td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
  td.failed.nonzero { color:var(--bad); font-weight:700; }
  .hot { color:var(--bad); font-weight:600; }
  code { font:12px ui-monospace,SFMono-Regular,Menlo,monospace; background:#eef2f6;
         padding:1px 5px; border-radius:4px; }
  .muted { color:var(--muted); }
  ul.alerts { list-style:none; margin:0; padding:0; max-height:260px; overflow:auto; }
  ul.alerts li { padding:5px 0; border-bottom:1px solid var(--line); }
  .channel { border:1px solid var(--line); border-radius:6px; padding:10px 12px; margin:0 0 10px; }
  .channel h3 { margin:0 0 6px; font-size:14px; }
  .op { display:inline-block; font-size:11px; font-weight:700; padding:1px 6px; border-radius:4px;
        color:#fff; margin-right:6px; }
  .op.receive { background:var(--accent); } .op.send { background:#7c3aed; }
  .schema td, .schema th { padding:3px 8px; font-size:12px; }
  .totals { color:var(--muted); font-size:12px; margin:6px 0 0; }
</style>
</head>
<body>
<header>
  <h1>nestjs-mqtt demo</h1>
  <div class="field">Connection <span><span class="badge" data-testid="state">…</span></span></div>
  <div class="field">Broker <b data-testid="broker">…</b></div>
  <div class="field">Connected since <b data-testid="since">–</b></div>
  <div class="field">Reconnect attempts <b data-testid="attempts">0</b></div>
  <div class="field error">Last error <b data-testid="last-error">–</b></div>
  <span id="live" data-testid="live">connecting to the app…</span>
</header>
<main>
  <section id="devices">
    <h2>Live telemetry per device</h2>
    <table data-testid="devices"><thead><tr><th>Device</th><th class="num">Last °C</th>
      <th class="num">Avg</th><th class="num">Min</th><th class="num">Max</th>
      <th class="num">Readings</th><th class="num">Alerts</th><th>Last reading</th></tr></thead>
      <tbody><tr><td colspan="8" class="muted">No reading yet</td></tr></tbody></table>
  </section>
  <section id="handlers">
    <h2>Handlers</h2>
    <table data-testid="handlers"><thead><tr><th>Handler</th><th>Filters</th>
      <th class="num">Handled</th><th class="num">Failed</th><th class="num" title="Timed out">T/O</th>
      <th class="num">Running</th><th class="num">Queued</th></tr></thead><tbody></tbody></table>
    <p class="totals" data-testid="totals"></p>
  </section>
  <section id="alerts">
    <h2>Alerts <span class="muted" data-testid="alert-count"></span></h2>
    <ul class="alerts" data-testid="alerts"><li class="muted">No alert yet</li></ul>
  </section>
  <section id="asyncapi" data-testid="asyncapi">
    <h2>AsyncAPI document <a href="/asyncapi.json" class="muted">asyncapi.json</a></h2>
    <div id="asyncapi-body" class="muted">Loading…</div>
  </section>
</main>
<script src="/app.js"></script>
</body>
</html>
`;

export const DASHBOARD_SCRIPT = `'use strict';
const $ = (sel) => document.querySelector(sel);
const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) =>
  ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const time = (v) => (v ? new Date(v).toLocaleTimeString() : '–');
// Lets long names break after a dot or a slash, never inside a word.
const breakable = (v) => esc(v).replace(/([./])/g, '$1<wbr>');

function renderStatus(s) {
  const state = $('[data-testid=state]');
  state.textContent = s.state;
  state.className = 'badge ' + s.state;
  $('[data-testid=broker]').textContent = s.broker;
  $('[data-testid=since]').textContent = s.state === 'connected' ? time(s.connectedSince) : '–';
  $('[data-testid=attempts]').textContent = s.reconnectAttempts;
  const error = $('[data-testid=last-error]');
  error.textContent = s.lastError || '–';
  error.title = s.lastError || '';
}

function renderDevices(devices, alerts) {
  const threshold = alerts.length ? alerts[0].thresholdCelsius : Infinity;
  const rows = Object.entries(devices).map(([id, d]) =>
    '<tr data-device="' + esc(id) + '"><td><b>' + esc(id) + '</b></td>' +
    '<td class="num' + (d.lastCelsius > threshold ? ' hot' : '') + '" data-field="last">' +
    esc(d.lastCelsius) + '</td><td class="num" data-field="avg">' + esc(d.avgCelsius) +
    '</td><td class="num">' + esc(d.minCelsius) + '</td><td class="num">' + esc(d.maxCelsius) +
    '</td><td class="num" data-field="readings">' + esc(d.readings) +
    '</td><td class="num" data-field="alerts">' + esc(d.alerts) + '</td><td>' + time(d.lastAt) +
    '</td></tr>');
  $('[data-testid=devices] tbody').innerHTML =
    rows.join('') || '<tr><td colspan="8" class="muted">No reading yet</td></tr>';
}

function renderHandlers(stats) {
  $('[data-testid=handlers] tbody').innerHTML = stats.handlers.map((h) =>
    '<tr data-handler="' + esc(h.name) + '"><td class="wrap"><code>' + breakable(h.name) +
    '</code></td><td class="wrap">' +
    h.filters.map((f) => '<code>' + breakable(f) + '</code>').join(' ') +
    '</td><td class="num" data-field="handled">' + h.handled + '</td>' +
    '<td class="num failed' + (h.failed ? ' nonzero' : '') + '" data-field="failed">' + h.failed +
    '</td><td class="num" data-field="timedOut">' + h.timedOut + '</td>' +
    '<td class="num" data-field="running">' + h.running + '</td>' +
    '<td class="num" data-field="queued">' + h.queued + '</td></tr>').join('');
  const totals = ['received', 'published', 'dropped', 'queuedOffline']
    .filter((k) => typeof stats[k] === 'number').map((k) => k + ': ' + stats[k]);
  $('[data-testid=totals]').textContent = totals.join(' · ');
}

function renderAlerts(alerts) {
  $('[data-testid=alert-count]').textContent = alerts.length ? '(last ' + alerts.length + ')' : '';
  $('[data-testid=alerts]').innerHTML = alerts.map((a) =>
    '<li data-alert-device="' + esc(a.deviceId) + '"><b>' + esc(a.deviceId) + '</b> <span class="hot">' +
    esc(a.celsius) + ' °C</span> above ' + esc(a.thresholdCelsius) + ' °C <span class="muted">at ' +
    time(a.at) + '</span></li>').join('') || '<li class="muted">No alert yet</li>';
}

function schemaRows(doc, schema, seen) {
  if (schema && schema.$ref) {
    const name = schema.$ref.split('/').pop();
    if (seen.has(name)) return '<tr><td colspan="4"><code>' + esc(name) + '</code> (recursive)</td></tr>';
    return schemaRows(doc, doc.components.schemas[name], new Set([...seen, name]));
  }
  if (!schema || !schema.properties) {
    return '<tr><td colspan="4" class="muted">' + esc(schema && schema.type ? schema.type : 'any payload') + '</td></tr>';
  }
  const required = new Set(schema.required || []);
  return Object.entries(schema.properties).map(([name, p]) => {
    const type = p.$ref ? p.$ref.split('/').pop() : p.type === 'array'
      ? (p.items && p.items.$ref ? p.items.$ref.split('/').pop() : (p.items && p.items.type) || 'any') + '[]'
      : (p.type || 'any') + (p.format ? ' (' + p.format + ')' : '');
    const rules = ['minimum', 'maximum', 'exclusiveMinimum', 'minLength', 'maxLength', 'pattern',
      'enum', 'const', 'minItems', 'maxItems'].filter((k) => p[k] !== undefined)
      .map((k) => k + ' ' + JSON.stringify(p[k]));
    return '<tr><td><code>' + esc(name) + '</code></td><td>' + esc(type) + '</td><td>' +
      (required.has(name) ? 'required' : '<span class="muted">optional</span>') + '</td><td>' +
      esc(rules.join(', ')) + '</td></tr>';
  }).join('');
}

function renderAsyncApi(doc) {
  const servers = Object.entries(doc.servers || {}).map(([id, s]) =>
    '<code>' + esc(id) + '</code> ' + esc(s.protocol) + '://' + esc(s.host) + ' (MQTT ' + esc(s.protocolVersion) + ')');
  const ops = Object.entries(doc.operations);
  const channels = Object.entries(doc.channels).map(([id, ch]) => {
    const mine = ops.filter(([, op]) => op.channel.$ref === '#/channels/' + id);
    const params = Object.keys(ch.parameters || {});
    const messages = Object.keys(ch.messages).map((key) => {
      const m = doc.components.messages[key];
      return '<div><b>' + esc(m.name) + '</b> <span class="muted">' + esc(m.contentType) + '</span>' +
        '<table class="schema"><tbody>' + schemaRows(doc, m.payload, new Set()) + '</tbody></table></div>';
    });
    return '<div class="channel" data-address="' + esc(ch.address) + '"><h3><code>' + esc(ch.address) +
      '</code></h3>' + (params.length ? '<div class="muted">Parameters: ' + params.map(esc).join(', ') + '</div>' : '') +
      mine.map(([opId, op]) => '<div><span class="op ' + op.action + '">' + op.action + '</span><code>' +
        esc(opId) + '</code> <span class="muted">QoS ' + esc(op.bindings && op.bindings.mqtt.qos) +
        (op['x-mqtt-share'] ? ', shared group ' + esc(op['x-mqtt-share']) : '') +
        (op.summary ? ' · ' + esc(op.summary) : '') + '</span></div>').join('') +
      messages.join('') + '</div>';
  });
  $('#asyncapi-body').className = '';
  $('#asyncapi-body').innerHTML = '<p><b>' + esc(doc.info.title) + '</b> ' + esc(doc.info.version) +
    ' · AsyncAPI ' + esc(doc.asyncapi) + (servers.length ? ' · server ' + servers.join(', ') : '') +
    '</p>' + channels.join('');
}

function connect() {
  const live = $('#live');
  const events = new EventSource('/events');
  events.addEventListener('snapshot', (e) => {
    const snap = JSON.parse(e.data);
    renderStatus(snap.status);
    renderDevices(snap.devices, snap.alerts);
    renderHandlers(snap.stats);
    renderAlerts(snap.alerts);
    live.textContent = 'live · ' + time(snap.at);
    live.className = 'on';
  });
  events.onerror = () => { live.textContent = 'app unreachable, retrying…'; live.className = ''; };
}

fetch('/asyncapi.json').then((r) => r.json()).then(renderAsyncApi, (error) => {
  $('#asyncapi-body').textContent = 'Could not load the AsyncAPI document: ' + error;
});
connect();
`;
