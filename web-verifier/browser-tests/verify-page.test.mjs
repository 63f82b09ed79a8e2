// The /verify page in headless Chromium against the real permitseal binary: conformance
// vectors through the page's WebAssembly module, camera, offline use, recording, the importing
// authority's confirmation, a tampered bundle, and what leaves the page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ROOT, startServer, launch, launchProfile, openPage, verifyIn, shown, cameraVideo } from './harness.mjs';

let server;
let browser;
let serial = 0;
const nextNumber = () => `KE/WEB/${String((serial += 1)).padStart(4, '0')}`;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fresh browser profile: nothing stored, no service worker. */
const freshContext = () => browser.newContext();

test('every conformance vector gives the Rust core\'s verdict and reasons in the page', async () => {
  // Every vector file of test-vectors/v1 (vectors.json, vectors-2.json, …): bundles refused or
  // accepted, status deltas applied or refused, then the verdict, as the Rust core gives them.
  const dir = join(ROOT, 'test-vectors/v1');
  const files = readdirSync(dir).filter((f) => /^vectors(-\d+)?\.json$/.test(f)).sort();
  assert.ok(files.length >= 5, `vector files: ${files}`);
  const context = await freshContext();
  const page = await openPage(context, server.base);
  let total = 0;
  for (const file of files) {
    const doc = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const results = await page.evaluate(async ({ cases, roots }) => {
      const m = await import('/verify/permitseal_web.js');
      await m.default();
      const bytes = (hex) => Uint8Array.from(hex.match(/../g) || [], (h) => parseInt(h, 16));
      return cases.map((c) => {
        const v = new m.Verifier(roots.join(','));
        const out = { name: c.name };
        try {
          v.loadBundle(bytes(c.bundle));
          out.bundle = 'accepted';
        } catch {
          return { ...out, bundle: 'refused', deltas: [], permit_number: null, reasons: [], verdict: null, tree_head: null };
        }
        const head = v.treeHead();
        out.tree_head = head == null ? null : JSON.parse(head);
        out.deltas = (c.deltas || []).map((d) => {
          try {
            v.applyStatusDelta(bytes(d));
            return 'applied';
          } catch {
            return 'refused';
          }
        });
        if (c.time_floor !== null) v.setTimeFloor(c.time_floor);
        const r = JSON.parse(v.verify(c.qr, c.now, c.checkpoint, 'en'));
        out.verdict = r.verdict;
        out.reasons = r.reasons.map((x) => x.code).sort();
        out.permit_number = r.permit ? r.permit.number : null;
        return out;
      });
    }, { cases: doc.cases, roots: doc.root_public_keys });
    assert.equal(results.length, doc.cases.length, file);
    for (const [i, c] of doc.cases.entries()) {
      // Files without deltas leave `bundle` and `deltas` out of what they expect.
      const want = { name: c.name, bundle: 'accepted', deltas: [], ...c.expected };
      // From vectors-6.json on, the tree head an accepted bundle carries.
      if (!('tree_head' in c.expected)) delete results[i].tree_head;
      assert.deepEqual(results[i], want, `${file}: vector ${c.name}`);
    }
    total += results.length;
  }
  assert.ok(total >= 90, `the vector files hold the whole suite (${total} cases)`);
  await context.close();
});

test('pasted QR text of an issued permit is verified and its details shown, in three languages', async () => {
  const permit = await server.issue(nextNumber());
  const context = await freshContext();
  const page = await openPage(context, server.base);
  const seen = await verifyIn(page, permit.qr);
  assert.equal(seen.verdict, 'valid');
  assert.deepEqual(seen.reasons, []);
  assert.equal(seen.number, permit.number);
  assert.match(await page.textContent('#lines'), /Aloe ferox/);
  assert.match(await page.textContent('#permit-importer'), /Germany/);
  await page.selectOption('#lang', 'fr');
  assert.equal(await page.textContent('#verdict'), 'VALIDE');
  await page.selectOption('#lang', 'es');
  assert.equal(await page.textContent('#verdict'), 'VÁLIDO');
  const garbage = await verifyIn(page, 'HC1:NOT-A-PERMIT');
  assert.equal(garbage.verdict, 'invalid');
  assert.deepEqual(garbage.reasons, ['NOT_A_PERMIT']);
  assert.match(await page.textContent('#reasons'), /permitseal/);
  await context.close();
});

test('a permit QR shown to the camera is decoded in WebAssembly and verified', async () => {
  const permit = await server.issue(nextNumber());
  const png = Buffer.from(await (await fetch(`${server.base}${permit.path}/qr.png`, {
    headers: { Authorization: `Bearer ${server.tokens.PERMITSEAL_ISSUER_TOKEN}` },
  })).arrayBuffer());
  const dir = mkdtempSync(join(tmpdir(), 'permitseal-cam-'));
  const video = cameraVideo(png, dir);
  const camBrowser = await launch(['--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`]);
  try {
    const context = await camBrowser.newContext();
    await context.grantPermissions(['camera'], { origin: server.base });
    const page = await openPage(context, server.base);
    await page.click('#camera-start');
    await page.waitForSelector('#result:not([hidden])', { timeout: 20000 });
    const seen = await shown(page);
    assert.equal(seen.verdict, 'valid');
    assert.equal(seen.number, permit.number);
    assert.equal(await page.inputValue('#qr-text'), permit.qr);
    assert.equal(await page.isHidden('#camera'), true, 'the camera stops after a read');
  } finally {
    await camBrowser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('offline after the first visit: the page reloads, verifies, shows a synced revocation, sends nothing', async () => {
  const kept = await server.issue(nextNumber());
  const revoked = await server.issue(nextNumber());
  const context = await freshContext();
  const page = await openPage(context, server.base);
  await page.evaluate(() => navigator.serviceWorker.ready);
  // Revoked after the first visit, synced by a reload before going offline.
  await server.api('POST', `${revoked.path}/revoke`, server.tokens.PERMITSEAL_ISSUER_TOKEN,
    { reason: 'reported stolen' });
  await page.reload();
  await page.waitForSelector('body[data-ready="true"][data-bundle="fresh"]');

  const requests = [];
  page.on('request', (r) => requests.push({ url: r.url(), body: r.postData() || '' }));
  await context.setOffline(true);
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.getAttribute('body', 'data-bundle'), 'stored');
  assert.match(await page.textContent('#net'), /offline/);

  const ok = await verifyIn(page, kept.qr);
  assert.equal(ok.verdict, 'valid');
  assert.equal(ok.number, kept.number);
  const bad = await verifyIn(page, revoked.qr);
  assert.equal(bad.verdict, 'invalid');
  assert.ok(bad.reasons.includes('REVOKED'), `reasons ${bad.reasons}`);
  assert.equal(await page.textContent('#verdict'), 'NOT VALID');

  for (const r of requests) {
    assert.ok(r.url.startsWith(`${server.base}/`), `request to another origin: ${r.url}`);
    for (const secret of [kept.qr, revoked.qr, kept.number, revoked.number, kept.name, revoked.name]) {
      assert.ok(!r.url.includes(secret) && !r.body.includes(secret), `permit data sent: ${r.url}`);
    }
    assert.ok(!r.url.includes('/api/v1/verify'), 'no online verification while offline');
  }
  await context.close();
});

test('an endorsement recorded offline uploads once when the network is back', async () => {
  const permit = await server.issue(nextNumber());
  const context = await freshContext();
  const page = await openPage(context, server.base);
  await page.fill('#token', server.tokens.PERMITSEAL_OFFICER_TOKEN);
  await page.click('#sign-in');
  await page.waitForSelector('#officer:not([hidden])');
  await context.setOffline(true);
  await verifyIn(page, permit.qr);
  await page.fill('#port', 'KEMBA');
  await page.fill('#endorse-lines input[data-block="A"]', '12.5');
  await page.click('#record-endorsement');
  await page.waitForSelector('body[data-outbox="1"]');
  assert.equal((await server.usage(permit.qr)).endorsements.length, 0, 'nothing left while offline');

  await context.setOffline(false);
  await page.waitForSelector('body[data-outbox="0"][data-uploaded="1"]', { timeout: 15000 });
  // Back online twice more and reloaded: nothing is sent again.
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await context.setOffline(true);
  await context.setOffline(false);
  await page.waitForTimeout(500);
  const usage = await server.usage(permit.qr);
  assert.equal(usage.endorsements.length, 1);
  assert.equal(usage.endorsements[0].locode, 'KEMBA');
  assert.deepEqual(usage.endorsements[0].lines.map((l) => l.block), ['A']);
  // The permit is now used: the page says so after its next sync.
  await page.reload();
  await page.waitForSelector('body[data-ready="true"][data-bundle="fresh"]');
  const again = await verifyIn(page, permit.qr);
  assert.equal(again.verdict, 'invalid');
  assert.ok(again.reasons.includes('USED'), `reasons ${again.reasons}`);
  await context.close();
});

test('the importing authority sees status and usage and its confirmation reaches the exporter', async () => {
  const permit = await server.issue(nextNumber());
  const context = await freshContext();
  const page = await openPage(context, server.base);
  await page.fill('#token', server.tokens.PERMITSEAL_IMPORTER_TOKEN);
  await page.click('#sign-in');
  await page.waitForSelector('#importer:not([hidden])');
  const seen = await verifyIn(page, permit.qr, 'import');
  assert.equal(seen.verdict, 'valid_with_warnings');
  assert.deepEqual(seen.reasons, ['NOT_ENDORSED']);
  await page.click('#server-status');
  await page.waitForSelector('#server-state');
  assert.match(await page.textContent('#server-state'), /valid/);
  assert.match(await page.textContent('#usage-confirmations'), /none/);

  await page.fill('#confirm-lines input[data-block="A"]', '12.5');
  // Received today: a confirmation dated before the permit's issue day is refused.
  await page.fill('#received', new Date().toISOString().slice(0, 10));
  await page.click('#record-confirmation');
  assert.match(await page.textContent('#notice'), /UN\/LOCODE/, 'no confirmation without its port');
  assert.equal(await page.getAttribute('body', 'data-outbox'), '0');
  await page.fill('#entry-port', 'defra');
  await page.click('#record-confirmation');
  await page.waitForSelector('body[data-outbox="0"][data-uploaded="1"]', { timeout: 15000 });

  const usage = await server.usage(permit.qr);
  assert.equal(usage.confirmations.length, 1);
  assert.equal(usage.confirmations[0].country, 'DE');
  assert.equal(usage.confirmations[0].locode, 'DEFRA', 'the port of entry reaches the exporter');
  await page.click('#server-status');
  await page.waitForFunction(() => /DE DEFRA A 12\.5/.test(document.querySelector('#usage-confirmations')?.textContent || ''));
  await context.close();
});

test('a tampered bundle is refused and never used', async () => {
  const permit = await server.issue(nextNumber());
  const context = await freshContext();
  await context.route('**/api/v1/bundle?format=2&container=2', async (route) => {
    const answer = await route.fetch();
    const body = Buffer.from(await answer.body());
    // Inside the last status list's signature, which ends where the tree head's length (a
    // two-byte varint: the signed note is 128 to 16383 bytes) begins.
    const head = body.lastIndexOf(Buffer.from('permitseal/v1/log\n'));
    assert.ok(head > 12, 'the bundle carries a tree head');
    body[head - 2 - 10] ^= 0x01;
    await route.fulfill({ response: answer, body });
  });
  const page = await openPage(context, server.base);
  assert.equal(await page.getAttribute('body', 'data-bundle'), 'refused');
  assert.match(await page.textContent('#problem'), /signature/);
  await page.fill('#qr-text', permit.qr);
  await page.click('#verify-text');
  assert.equal(await page.isHidden('#result'), true, 'no verdict without verified data');
  assert.match(await page.textContent('#problem'), /No verified data/);
  const stored = await page.evaluate(() => new Promise((resolve) => {
    const req = indexedDB.open('permitseal');
    req.onsuccess = () => {
      const get = req.result.transaction('kv').objectStore('kv').get('bundle');
      get.onsuccess = () => resolve(get.result === undefined);
    };
  }));
  assert.equal(stored, true, 'the refused bundle was not stored');
  await context.close();
});

test('the page and its files carry a strict content security policy', async () => {
  for (const path of ['/verify', '/verify/app.js', '/verify/permitseal_web_bg.wasm']) {
    const answer = await fetch(`${server.base}${path}`);
    assert.equal(answer.status, 200, path);
    const csp = answer.headers.get('content-security-policy');
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval';/);
    assert.match(csp, /connect-src 'self';/);
    assert.doesNotMatch(csp, /unsafe-inline/);
  }
  const html = await (await fetch(`${server.base}/verify`)).text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)/, 'no inline script');
  assert.doesNotMatch(html, /https?:\/\//, 'no external resource');
  const root = await server.api('GET', '/api/v1/trust/root-key');
  const hex = Buffer.from(root.public_key, 'base64').toString('hex');
  assert.match(html, new RegExp(`name="permitseal-root-keys" content="${hex}"`));
  const manifest = await (await fetch(`${server.base}/verify/manifest.webmanifest`)).json();
  assert.equal(manifest.start_url, '/verify');
});

test('the page is installable as a home-screen app', async () => {
  const manifest = await (await fetch(`${server.base}/verify/manifest.webmanifest`)).json();
  assert.equal(manifest.display, 'standalone');
  assert.equal(manifest.scope, '/verify');
  for (const icon of manifest.icons.filter((i) => i.type === 'image/png')) {
    const answer = await fetch(`${server.base}${icon.src}`);
    assert.equal(answer.headers.get('content-type'), 'image/png', icon.src);
    assert.match(answer.headers.get('content-security-policy'), /img-src 'self'/);
  }
  // Chromium does not install apps from off-the-record profiles (every `newContext` is one):
  // its own check runs in a real profile, in a directory of its own.
  const dir = mkdtempSync(join(tmpdir(), 'permitseal-profile-'));
  const context = await launchProfile(dir);
  try {
    const page = await openPage(context, server.base);
    const cdp = await context.newCDPSession(page);
    const { url, errors } = await cdp.send('Page.getAppManifest');
    assert.equal(url, `${server.base}/verify/manifest.webmanifest`);
    assert.deepEqual(errors, [], 'the manifest parses without a complaint');
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors, [], 'Chromium would offer to install the page');
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
