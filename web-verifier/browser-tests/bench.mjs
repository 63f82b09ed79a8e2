// Measures the page's WebAssembly module in headless Chromium, for docs/PERFORMANCE.md (not a
// test: nothing here fails on a number). Same work as `cargo bench -p permitseal-web --bench
// page`: one conformance vector's QR text to the JSON verdict, and reading the QR code of a
// 640×480 RGBA frame.
//
//   node bench.mjs        (after `cargo build -p permitseal-server`; run.sh installs the rest)

import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { ROOT, startServer, launch, openPage } from './harness.mjs';

// PKG=dir measures another build of the module (an experiment) instead of the committed one.
const PKG = process.env.PKG || join(ROOT, 'server/assets/verify/pkg');
const wasm = readFileSync(join(PKG, 'permitseal_web_bg.wasm'));
const glue = readFileSync(join(PKG, 'permitseal_web.js'));
console.log(`module: ${wasm.length} bytes, gzip -9: ${gzipSync(wasm, { level: 9 }).length} bytes`);
console.log(`glue: ${glue.length} bytes, gzip -9: ${gzipSync(glue, { level: 9 }).length} bytes`);

const doc = JSON.parse(readFileSync(join(ROOT, 'test-vectors/v1/vectors.json'), 'utf8'));
const server = await startServer();
const browser = await launch();
try {
  // The module and glue come from PKG on disk, so a fresh
  // web-verifier/build.sh is measured without rebuilding the server; no service worker, so
  // nothing older is served from its cache.
  const context = await browser.newContext({ serviceWorkers: 'block' });
  for (const name of ['permitseal_web.js', 'permitseal_web_bg.wasm']) {
    const type = name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
    await context.route(`**/verify/${name}`, (route) => route.fulfill({
      contentType: type,
      body: readFileSync(join(PKG, name)),
    }));
  }
  const page = await openPage(context, server.base);
  const permit = await server.issue('KE/BENCH/0001');
  const png = await (await fetch(`${server.base}${permit.path}/qr.png?scale=3`, {
    headers: { Authorization: `Bearer ${server.tokens.PERMITSEAL_ISSUER_TOKEN}` },
  })).arrayBuffer();
  const c = doc.cases[0];
  const unknown = doc.cases.find((k) => k.name === 'invalid-unknown-key');
  const out = await page.evaluate(async ({ c, unknown, roots, png, text }) => {
    const m = await import('/verify/permitseal_web.js');
    await m.default();
    const bytes = (hex) => Uint8Array.from(hex.match(/../g), (h) => parseInt(h, 16));
    const v = new m.Verifier(roots.join(','));
    v.loadBundle(bytes(c.bundle));
    // V8 runs a module's functions in its baseline compiler (Liftoff) first and moves the hot
    // ones to its optimising compiler (TurboFan) in the background, so the call is repeated for
    // at least a second before timing (as criterion warms up for three seconds natively). Then
    // ten rounds of n/10 calls; the fastest round is reported (the least disturbed by the
    // machine's other work), with the median beside it.
    const time = (n, fn) => {
      const warm = performance.now();
      while (performance.now() - warm < 1000) fn();
      const rounds = [];
      for (let r = 0; r < 10; r += 1) {
        const t0 = performance.now();
        for (let i = 0; i < n / 10; i += 1) fn();
        rounds.push(((performance.now() - t0) * 1000) / (n / 10));
      }
      rounds.sort((a, b) => a - b);
      return { min: +rounds[0].toFixed(1), median: +rounds[5].toFixed(1) };
    };
    const verifyUs = time(5000, () => JSON.parse(v.verify(c.qr, c.now, c.checkpoint, 'en')));
    // The same without JSON.parse, and a code whose key is unknown (decoded, no signature
    // check): what the JSON round trip and everything but Ed25519 cost.
    const verifyTextUs = time(5000, () => v.verify(c.qr, c.now, c.checkpoint, 'en'));
    const jsonBytes = v.verify(c.qr, c.now, c.checkpoint, 'en').length;
    const u = unknown;
    const w = new m.Verifier(roots.join(','));
    w.loadBundle(bytes(u.bundle));
    const unknownKeyUs = time(5000, () => w.verify(u.qr, u.now, u.checkpoint, 'en'));

    // The QR at 3 px per module on a light-grey 640×480 frame, as in the native bench.
    const img = await createImageBitmap(new Blob([new Uint8Array(png)], { type: 'image/png' }));
    const canvas = new OffscreenCanvas(640, 480);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = 'rgb(230,230,230)';
    ctx.fillRect(0, 0, 640, 480);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(img, (640 - img.width) / 2, (480 - img.height) / 2);
    const frame = ctx.getImageData(0, 0, 640, 480).data;
    if (m.decodeRgba(640, 480, frame) !== text) throw new Error('frame not read');
    const decodeUs = time(100, () => m.decodeRgba(640, 480, frame));
    return { verifyUs, verifyTextUs, jsonBytes, unknownKeyUs, decodeUs, side: img.width };
  }, { c, unknown, roots: doc.root_public_keys, png: [...new Uint8Array(png)], text: permit.qr });
  // One line of JSON for ratio.sh.
  console.log(`browser: ${JSON.stringify(out)}`);
} finally {
  await browser.close();
  await server.stop();
}
