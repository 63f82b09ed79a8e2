// Test harness: the real permitseal binary on a random port with a fresh data directory
// (SQLite, --demo), and Debian's Chromium driven by playwright-core.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.PERMITSEAL_BIN || join(ROOT, 'target/debug/permitseal');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolvePort(port));
    });
  });
}

const PG = process.env.PERMITSEAL_TEST_PG || 'postgres://postgres@127.0.0.1:5432/postgres';

/** Runs SQL on the PostgreSQL server of the tests (its maintenance database). */
function psql(sql) {
  execFileSync('psql', [PG, '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], { stdio: 'pipe' });
}

/**
 * Starts `permitseal serve --demo` in a new directory; `stop()` ends it and removes it. With
 * `{ postgres: true }` its database is a new PostgreSQL database, dropped at `stop()`.
 */
export async function startServer(options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'permitseal-web-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, RUST_LOG: 'warn' };
  delete env.DATABASE_URL;
  let database = null;
  if (options.postgres) {
    database = `portal_${process.pid}_${port}`;
    psql(`CREATE DATABASE ${database}`);
    const url = new URL(PG);
    url.pathname = `/${database}`;
    env.DATABASE_URL = url.toString();
  }
  const child = spawn(BIN, ['serve', '--demo', '--listen', `127.0.0.1:${port}`],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const tokensFile = join(dir, 'data/demo-tokens.env');
  for (let i = 0; ; i += 1) {
    if (existsSync(tokensFile)) {
      try {
        if ((await fetch(`${base}/readyz`)).ok) break;
      } catch (e) { /* not listening yet */ }
    }
    if (i > 600 || child.exitCode !== null) throw new Error(`server did not start:\n${log}`);
    await sleep(100);
  }
  const tokens = {};
  for (const line of readFileSync(tokensFile, 'utf8').split('\n')) {
    const m = line.match(/^export (\w+)=(.*)$/);
    if (m) tokens[m[1]] = m[2].replace(/^'|'$/g, '');
  }
  const server = {
    base,
    dir,
    tokens,
    demoPermit: JSON.parse(readFileSync(join(dir, 'data/demo-permit.json'), 'utf8')),
    async api(method, path, token, body) {
      const headers = {};
      if (token) headers.Authorization = `Bearer ${token}`;
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const answer = await fetch(`${base}${path}`,
        { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await answer.text();
      let json;
      try { json = JSON.parse(text); } catch (e) { json = text; }
      if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status} ${text}`);
      return json;
    },
    /** Issues a copy of the demo permit under `number`; answers its path name and QR text. */
    async issue(number) {
      const issuer = tokens.PERMITSEAL_ISSUER_TOKEN;
      const authority = tokens.PERMITSEAL_AUTHORITY;
      await server.api('POST', `/api/v1/authorities/${authority}/permits`, issuer,
        { ...server.demoPermit, permit: { ...server.demoPermit.permit, number } });
      const name = number.replace(/\//g, '-');
      const path = `/api/v1/authorities/${authority}/permits/${name}`;
      const qr = (await server.api('GET', `${path}/qr.txt`, issuer)).trim();
      return { number, name, path, qr };
    },
    /** The server's usage history of a permit as the exporting authority (issuer) sees it. */
    async usage(qr) {
      const answer = await server.api('POST', '/api/v1/verify', tokens.PERMITSEAL_ISSUER_TOKEN, { qr });
      return answer.usage;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
      if (database) psql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    },
  };
  return server;
}

/** Debian's Chromium, headless; `extra` adds flags (the fake camera). */
export function launch(extra = []) {
  return chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, ...extra] });
}

/** Debian's Chromium, headless, with a real (not off-the-record) profile kept in `dir`. */
export function launchProfile(dir) {
  return chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, args: FLAGS });
}

/** Opens the verify page and waits until it has started (module loaded, bundle tried). */
export async function openPage(context, base) {
  const page = await context.newPage();
  await page.goto(`${base}/verify`);
  await page.waitForSelector('body[data-ready="true"]');
  return page;
}

/** Pastes QR text and answers what the page shows. */
export async function verifyIn(page, qr, checkpoint = 'export') {
  await page.selectOption('#checkpoint', checkpoint);
  await page.fill('#qr-text', qr);
  await page.click('#verify-text');
  await page.waitForSelector('#result:not([hidden])');
  return shown(page);
}

/** The verdict, reason codes and permit number on the screen. */
export function shown(page) {
  return page.evaluate(() => ({
    verdict: document.querySelector('#verdict').dataset.verdict,
    stale: document.querySelector('#verdict').dataset.stale,
    heading: document.querySelector('#verdict').textContent,
    reasons: [...document.querySelectorAll('#reasons li')].map((li) => li.dataset.code).sort(),
    number: document.querySelector('#permit-number')?.textContent ?? null,
  }));
}

/** A Y4M video of `png` centred on a white 640×480 frame, for Chromium's fake camera. */
export function cameraVideo(png, dir) {
  const input = join(dir, 'permit.png');
  const output = join(dir, 'camera.y4m');
  writeFileSync(input, png);
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-loop', '1', '-i', input, '-vf',
    'scale=-2:400,pad=640:480:(ow-iw)/2:(oh-ih)/2:white', '-t', '3', '-r', '10',
    '-pix_fmt', 'yuv420p', output]);
  return output;
}
