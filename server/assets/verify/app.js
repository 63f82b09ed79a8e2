// The verify page. Every verdict is computed here, in the browser, by the permitseal verifier
// core compiled to WebAssembly, from the signed bundle kept in IndexedDB and checked against
// the root keys this page was served with. Nothing about a permit leaves the page unless a
// signed-in officer or importing authority records it.

import init, { Verifier, decodeRgba } from './permitseal_web.js';
import * as store from './store.js';
import { LANGS, t, age } from './i18n.js';

const $ = (id) => document.getElementById(id);
const BUNDLE_URL = '/api/v1/bundle?format=2&container=2';
const UPLOADS = {
  scan: ['/api/v1/scans', 'scans'],
  endorsement: ['/api/v1/endorsements', 'endorsements'],
  confirmation: ['/api/v1/confirmations', 'confirmations'],
};

const state = {
  lang: 'en',
  verifier: null,
  /** The last verification: the QR text and the core's view of it. */
  current: null,
  /** `{token, role, country, authority_id}` once signed in. */
  session: null,
  deviceId: null,
  stream: null,
  flushing: null,
};

const now = () => Date.now() / 1000;
const iso = (seconds) => new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
const say = (key, args) => { $('notice').textContent = t(state.lang, key, args); };

function problem(text) {
  $('problem').hidden = !text;
  $('problem').textContent = text || '';
}

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

// ---- language

function applyLanguage() {
  document.documentElement.lang = state.lang;
  $('lang').value = state.lang;
  for (const node of document.querySelectorAll('[data-i18n]')) {
    node.textContent = t(state.lang, node.dataset.i18n);
  }
  showDataAge();
  showSession();
  if (state.current) verify(state.current.qr);
}

// ---- bundle and time floor

function showDataAge() {
  const a = state.verifier && state.verifier.bundleAge(now());
  $('data-age').textContent = a === undefined || a === null
    ? t(state.lang, 'data_none') : t(state.lang, 'data_age', { age: age(a) });
  $('net').textContent = `(${t(state.lang, navigator.onLine ? 'online' : 'offline')})`;
}

async function keepFloor() {
  const floor = state.verifier.newestSignedTime();
  if (floor !== undefined && floor !== null) await store.put('floor', floor);
}

/** Fetches the server's bundle; installs it only when its signatures verify. */
async function refresh() {
  if (!navigator.onLine) return;
  let bytes;
  try {
    const answer = await fetch(BUNDLE_URL, { cache: 'no-store' });
    if (!answer.ok) return;
    bytes = new Uint8Array(await answer.arrayBuffer());
  } catch (e) {
    return; // No network after all: the stored bundle stays.
  }
  try {
    if (state.verifier.loadBundle(bytes) === 'installed') {
      await store.put('bundle', bytes);
      await keepFloor();
    }
    document.body.dataset.bundle = 'fresh';
    problem(null);
  } catch (e) {
    document.body.dataset.bundle = 'refused';
    problem(t(state.lang, 'refused'));
  }
  showDataAge();
}

// ---- verification

function verify(text) {
  const qr = text.trim();
  if (!qr) return;
  let view;
  try {
    view = JSON.parse(state.verifier.verify(qr, now(), $('checkpoint').value, state.lang));
  } catch (e) {
    const why = String(e.message || e);
    problem(why.startsWith('no_bundle') ? t(state.lang, 'data_none') : why);
    return;
  }
  state.current = { qr, view };
  keepFloor();
  render(view);
  showRecording();
}

function verdictKey(view) {
  if (view.verdict === 'invalid') return ['v_invalid', 'next_invalid'];
  if (view.stale) return ['v_stale', 'next_stale'];
  if (view.verdict === 'valid') return ['v_valid', 'next_valid'];
  return ['v_valid_with_warnings', 'next_warn'];
}

function render(view) {
  const [label, next] = verdictKey(view);
  const heading = $('verdict');
  heading.textContent = t(state.lang, label);
  heading.dataset.verdict = view.verdict;
  heading.dataset.stale = String(view.stale);
  $('advice').textContent = `${t(state.lang, next)} ${t(state.lang, 'data_age', { age: age(view.data_age) })}.`;
  const reasons = $('reasons');
  reasons.replaceChildren(...view.reasons.map((r) => {
    const li = el('li', `${r.message} `, { 'data-code': r.code, 'data-severity': r.severity });
    li.append(el('code', r.code));
    return li;
  }));
  const box = $('permit');
  box.replaceChildren();
  if (view.permit) box.append(...permitView(view));
  $('result').hidden = false;
}

function permitView(view) {
  const p = view.permit;
  const L = (k) => t(state.lang, k);
  const coded = (list, code) => {
    const name = view.names[`${list}:${code}`];
    return name ? `${code} — ${name}` : String(code);
  };
  const party = (x) => (x ? `${x.name}, ${coded('country', x.country)}` : '—');
  const docRef = (d) => (d ? `${d.country} ${d.number} ${d.date}` : '');
  const dl = el('dl');
  const row = (k, v, id) => {
    dl.append(el('dt', L(k)));
    dl.append(el('dd', v, id ? { id } : {}));
  };
  row('f_number', p.number, 'permit-number');
  row('f_type', coded('document_type', p.document_type));
  row('f_issuer', `${view.issuer ? view.issuer.authority_name : '—'}, ${coded('country', p.issuing_country)}`);
  row('f_issued', iso(p.issued_at));
  row('f_validity', `${p.valid_from} → ${p.valid_until}`);
  row('f_purpose', coded('purpose', p.purpose));
  if (p.security_stamp) row('f_stamp', p.security_stamp);
  row('f_exporter', party(p.exporter));
  row('f_importer', party(p.importer), 'permit-importer');
  const s = view.status;
  if (s) row('f_status', `${s.state || '—'} (v${s.list_version}, ${iso(s.list_issued_at)})`);
  row('f_details', p.details_digest || L('f_details_none'));

  const table = el('table', null, { id: 'lines' });
  const head = el('tr');
  for (const k of ['c_block', 'c_species', 'c_term', 'c_app', 'c_source', 'c_qty', 'c_origin']) head.append(el('th', L(k)));
  table.append(head);
  for (const l of p.lines) {
    const tr = el('tr', null, { 'data-block': l.block });
    tr.append(el('td', l.block), el('td', l.scientific_name), el('td', coded('term', l.term)),
      el('td', l.appendix), el('td', coded('source', l.source)),
      el('td', `${l.quantity} ${coded('unit', l.unit)}`),
      el('td', [docRef(l.origin), docRef(l.last_reexport), l.operation_number || ''].filter(Boolean).join(' · ')));
    table.append(tr);
  }
  return [dl, table];
}

// ---- camera and photos

let canvas;
function frame(source, width, height) {
  canvas = canvas || document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height);
}

function read(source, width, height) {
  const img = frame(source, width, height);
  return decodeRgba(img.width, img.height, img.data);
}

async function startCamera() {
  problem(null);
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: 'environment', width: { ideal: 640 }, height: { ideal: 480 } },
      audio: false,
    });
  } catch (e) {
    problem(t(state.lang, 'camera_denied'));
    return;
  }
  const video = $('camera');
  video.srcObject = state.stream;
  video.hidden = false;
  $('camera-start').hidden = true;
  $('camera-stop').hidden = false;
  await video.play();
  const tick = () => {
    if (!state.stream) return;
    if (video.videoWidth && video.videoHeight) {
      try {
        const text = read(video, video.videoWidth, video.videoHeight);
        stopCamera();
        $('qr-text').value = text;
        verify(text);
        return;
      } catch (e) { /* no code in this frame: try the next */ }
    }
    video.requestVideoFrameCallback(tick);
  };
  video.requestVideoFrameCallback(tick);
}

function stopCamera() {
  if (state.stream) state.stream.getTracks().forEach((tr) => tr.stop());
  state.stream = null;
  $('camera').hidden = true;
  $('camera-start').hidden = false;
  $('camera-stop').hidden = true;
}

async function readPhoto(file) {
  problem(null);
  try {
    const bitmap = await createImageBitmap(file);
    // Phone photos are large: a QR code stays readable at this size, and decoding is faster.
    const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
    const text = read(bitmap, Math.round(bitmap.width * scale), Math.round(bitmap.height * scale));
    $('qr-text').value = text;
    verify(text);
  } catch (e) {
    problem(t(state.lang, 'no_code'));
  }
}

// ---- session

function showSession() {
  const s = state.session;
  $('signed-out').hidden = !!s;
  $('signed-in').hidden = !s;
  if (s) {
    $('whoami').textContent = t(state.lang, 'signed_in_as',
      { role: s.role, scope: s.country || s.authority_id || '' });
  }
  showRecording();
}

function showRecording() {
  const role = state.session && state.session.role;
  $('officer').hidden = role !== 'officer';
  $('importer').hidden = role !== 'importer';
  const lines = (state.current && state.current.view.permit && state.current.view.permit.lines) || [];
  for (const box of [$('endorse-lines'), $('confirm-lines')]) {
    box.replaceChildren(...lines.map((l) => {
      const label = el('label', `${l.block}: ${l.scientific_name} (${l.quantity} ${l.unit})`);
      label.append(el('input', null, { 'data-block': l.block, inputmode: 'decimal', autocomplete: 'off' }));
      return label;
    }));
  }
  $('server-record').replaceChildren();
}

async function signIn() {
  const token = $('token').value.trim();
  if (!token) return;
  try {
    const answer = await fetch('/api/v1/whoami', { headers: { Authorization: `Bearer ${token}` } });
    if (!answer.ok) throw new Error(String(answer.status));
    const who = await answer.json();
    state.session = { token, role: who.role, country: who.country, authority_id: who.authority_id };
    await store.put('session', state.session);
    $('token').value = '';
    problem(null);
  } catch (e) {
    problem(t(state.lang, 'bad_token'));
  }
  showSession();
  flush();
}

async function signOut() {
  state.session = null;
  await store.remove('session');
  showSession();
}

// ---- records and the outbox

function blockQuantities(box) {
  return [...box.querySelectorAll('input[data-block]')]
    .filter((i) => i.value.trim() !== '')
    .map((i) => ({ block: i.dataset.block, quantity: i.value.trim() }));
}

function locode(input) {
  const code = input.value.trim().toUpperCase();
  return /^[A-Z]{2}[A-Z2-9]{3}$/.test(code) ? code : null;
}

async function record(kind, body) {
  await store.enqueue({ id: body.id, kind, body, created: now() });
  say('queued');
  await showOutbox();
  flush();
}

const newId = () => `w-${crypto.randomUUID()}`;

async function recordScan() {
  const c = state.current;
  if (!c) return say('verify_first');
  const port = locode($('port'));
  if (!port) return say('locode_needed');
  const id = newId();
  await record('scan', {
    id, device_id: state.deviceId, scanned_at: iso(now()), place: { locode: port },
    verdict: c.view.verdict, qr: c.qr,
  });
}

async function recordEndorsement() {
  const c = state.current;
  if (!c || !c.view.permit) return say('verify_first');
  const port = locode($('port'));
  if (!port) return say('locode_needed');
  const lines = blockQuantities($('endorse-lines'));
  if (!lines.length) return say('qty_needed');
  const body = {
    id: newId(), device_id: state.deviceId, endorsed_at: iso(now()), place: { locode: port },
    lines, qr: c.qr,
  };
  const transport = $('transport').value.trim();
  if (transport) body.transport_document = transport;
  await record('endorsement', body);
}

async function recordConfirmation() {
  const c = state.current;
  if (!c || !c.view.permit) return say('verify_first');
  const lines = blockQuantities($('confirm-lines'));
  if (!lines.length) return say('qty_needed');
  const day = $('received').value;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return say('date_needed');
  const port = locode($('entry-port'));
  if (!port) return say('locode_needed');
  await record('confirmation', {
    id: newId(), received_at: `${day}T12:00:00Z`, place: { locode: port }, lines, qr: c.qr,
  });
}

async function showOutbox() {
  const waiting = (await store.queued()).length;
  $('outbox-count').value = String(waiting);
  $('outbox-count').textContent = String(waiting);
  document.body.dataset.outbox = String(waiting);
}

async function post(url, key, bodies) {
  return fetch(url, {
    method: 'POST',
    headers: { Authorization: `Bearer ${state.session.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ [key]: bodies }),
  });
}

/** Uploads what waits, kind by kind. Ids are stable, so a record sent twice is stored once. */
function flush() {
  if (!state.flushing) {
    state.flushing = upload().finally(() => { state.flushing = null; showOutbox(); });
  }
  return state.flushing;
}

async function upload() {
  if (!navigator.onLine || !state.session) return;
  const waiting = (await store.queued()).filter((r) => !r.refused);
  let sent = 0;
  for (const [kind, [url, key]] of Object.entries(UPLOADS)) {
    const batch = waiting.filter((r) => r.kind === kind);
    if (!batch.length) continue;
    let answer;
    try {
      answer = await post(url, key, batch.map((r) => r.body));
    } catch (e) {
      return; // Offline again: everything stays queued.
    }
    if (answer.ok) {
      await store.dequeue(batch.map((r) => r.id));
      sent += batch.length;
    } else if (answer.status >= 400 && answer.status < 500 && answer.status !== 401) {
      // The server stores nothing of a batch it refuses: find the record it refuses, keep it
      // aside with the server's reason, and send the others.
      for (const r of batch) {
        const one = await post(url, key, [r.body]).catch(() => null);
        if (!one) return;
        if (one.ok) {
          await store.dequeue([r.id]);
          sent += 1;
        } else {
          const why = await one.json().catch(() => ({}));
          await store.mark({ ...r, refused: why.message || String(one.status) });
          problem(t(state.lang, 'upload_refused', { msg: why.message || one.status }));
        }
      }
    }
  }
  if (sent) {
    say('uploaded', { n: sent });
    document.body.dataset.uploaded = String(Number(document.body.dataset.uploaded || 0) + sent);
  }
}

// ---- importing authority: the server's record

async function serverStatus() {
  const c = state.current;
  if (!c) return say('verify_first');
  const box = $('server-record');
  box.replaceChildren();
  let body;
  try {
    const answer = await fetch('/api/v1/verify', {
      method: 'POST',
      headers: { Authorization: `Bearer ${state.session.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ qr: c.qr, checkpoint: 'import' }),
    });
    body = await answer.json();
    if (!answer.ok) throw new Error(body.message || String(answer.status));
  } catch (e) {
    problem(String(e.message || e));
    return;
  }
  if (!body.server) {
    box.append(el('p', t(state.lang, 'server_none')));
    return;
  }
  box.append(el('p', t(state.lang, 'server_state', { state: body.server.state }), { id: 'server-state' }));
  const usage = body.usage || { scans: [], endorsements: [], confirmations: [] };
  box.append(el('h4', t(state.lang, 'usage')));
  // The server keeps quantities in millionths of the permit's unit.
  const micro = (q) => {
    const digits = String(Math.abs(q)).padStart(7, '0');
    const frac = digits.slice(-6).replace(/0+$/, '');
    return `${q < 0 ? '-' : ''}${digits.slice(0, -6)}${frac ? `.${frac}` : ''}`;
  };
  const lines = (ls) => (Array.isArray(ls) ? ls.map((l) => `${l.block} ${micro(l.quantity_micro)}`).join(', ') : '');
  const list = (key, id, items, fmt) => {
    box.append(el('h5', t(state.lang, key)));
    const ul = el('ul', null, { id });
    ul.append(...(items.length ? items.map((i) => el('li', fmt(i))) : [el('li', t(state.lang, 'u_none'))]));
    box.append(ul);
  };
  list('u_scans', 'usage-scans', usage.scans, (s) => `${iso(s.scanned_at)} ${s.locode || ''} ${s.verdict}`);
  list('u_endorsements', 'usage-endorsements', usage.endorsements,
    (e) => `${iso(e.endorsed_at)} ${e.locode || ''} ${lines(e.lines)}`);
  list('u_confirmations', 'usage-confirmations', usage.confirmations,
    (c2) => `${iso(c2.confirmed_at)} ${c2.country} ${c2.locode || ''} ${lines(c2.lines)}`);
}

// ---- start

async function main() {
  const stored = await store.get('lang');
  const preferred = (navigator.language || 'en').slice(0, 2).toLowerCase();
  state.lang = LANGS.includes(stored) ? stored : (LANGS.includes(preferred) ? preferred : 'en');

  await init();
  const roots = document.querySelector('meta[name="permitseal-root-keys"]').content;
  state.verifier = new Verifier(roots);
  const floor = await store.get('floor');
  if (typeof floor === 'number') state.verifier.setTimeFloor(floor);
  const kept = await store.get('bundle');
  document.body.dataset.bundle = 'none';
  if (kept) {
    try {
      state.verifier.loadBundle(kept);
      document.body.dataset.bundle = 'stored';
    } catch (e) {
      await store.remove('bundle'); // Not signed by the roots this page pins.
    }
  }
  state.session = (await store.get('session')) || null;
  state.deviceId = await store.get('device');
  if (!state.deviceId) {
    state.deviceId = `web-${crypto.randomUUID()}`;
    await store.put('device', state.deviceId);
  }

  $('lang').addEventListener('change', () => {
    state.lang = $('lang').value;
    applyLanguage();
    store.put('lang', state.lang);
  });
  $('verify-text').addEventListener('click', () => verify($('qr-text').value));
  $('checkpoint').addEventListener('change', () => state.current && verify(state.current.qr));
  $('camera-start').addEventListener('click', startCamera);
  $('camera-stop').addEventListener('click', stopCamera);
  $('photo').addEventListener('change', (e) => e.target.files[0] && readPhoto(e.target.files[0]));
  $('sign-in').addEventListener('click', signIn);
  $('sign-out').addEventListener('click', signOut);
  $('record-scan').addEventListener('click', recordScan);
  $('record-endorsement').addEventListener('click', recordEndorsement);
  $('record-confirmation').addEventListener('click', recordConfirmation);
  $('server-status').addEventListener('click', serverStatus);
  window.addEventListener('online', () => { showDataAge(); refresh().then(flush); });
  window.addEventListener('offline', showDataAge);
  setInterval(() => { showDataAge(); refresh().then(flush); }, 60_000);

  applyLanguage();
  await showOutbox();
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/verify/sw.js', { scope: '/verify' }).catch(() => {});
  }
  await refresh();
  document.body.dataset.ready = 'true';
  flush();
}

main().catch((e) => problem(String(e.message || e)));
