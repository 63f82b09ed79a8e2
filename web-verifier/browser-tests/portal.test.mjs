// The portal in real headless Chromium against the real permitseal binary: a trader registers
// and applies, a clerk reviews and asks for a change, the trader answers, the Scientific
// Authority advises, a signatory approves and issues, the PDF downloads and its QR code
// verifies, the clerk revokes the permit and its page shows it; in English on SQLite and
// PostgreSQL, in French and in Spanish on SQLite, with every page checked by axe-core and for
// labels left in English. Also: another authority's pages are 403, a form without its CSRF
// token is refused, and failed logins are throttled.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { ROOT, startServer, launch } from './harness.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const SHOTS = process.env.PORTAL_SCREENSHOTS ? join(ROOT, 'docs/screenshots') : null;

/** The catalogue's labels, read from its source: name → { en, fr, es }. */
function catalogue() {
  const source = readFileSync(join(ROOT, 'server/src/http/portal/i18n.rs'), 'utf8');
  const labels = {};
  const re = /^\s+(\w+): "((?:[^"\\]|\\.)*)", "((?:[^"\\]|\\.)*)", "((?:[^"\\]|\\.)*)";$/gm;
  for (const m of source.matchAll(re)) labels[m[1]] = { en: m[2], fr: m[3], es: m[4] };
  assert.ok(Object.keys(labels).length > 100, 'catalogue read');
  return labels;
}
const LABELS = catalogue();

/** The core's purpose, source, term, unit and document names in three languages, kept equal
 * to the core by the server's unit test `the_browser_test_reads_the_cores_code_names`. A page
 * shows a code as its name alone or as "CODE · name". */
const CODE_NAMES = JSON.parse(readFileSync(join(ROOT, 'web-verifier/browser-tests/code-names.json'), 'utf8'));
assert.ok(CODE_NAMES.length > 100, 'code names read');

/** Checks the open page: no serious or critical axe-core violation, no English label or code
 * name left in a French or Spanish page, nothing wider than the window, and under 100 KB on
 * the wire. */
async function checkPage(page, lang, seen) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert.deepEqual(result, [], `axe on ${page.url()}`);
  if (lang !== 'en') {
    const texts = await page.evaluate(() => {
      const out = [];
      const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const t = n.textContent.trim();
        if (t) out.push(t);
      }
      for (const el of document.querySelectorAll('[aria-label],[alt],option')) {
        out.push((el.getAttribute('aria-label') || el.getAttribute('alt') || '').trim());
      }
      return out;
    });
    const english = new Map(Object.values(LABELS)
      .filter((l) => l[lang] !== l.en)
      .map((l) => [l.en, l[lang]]));
    for (const c of CODE_NAMES.filter((n) => n[lang] !== n.en)) {
      english.set(c.en, c[lang]);
      english.set(`${c.code} · ${c.en}`, `${c.code} · ${c[lang]}`);
    }
    const left = texts.filter((t) => english.has(t));
    assert.deepEqual(left, [], `untranslated labels on ${page.url()} (${lang})`);
  }
  // A select whose longest option is a long French or Spanish code name must not widen its
  // form past the window (a fieldset is as wide as its widest content unless told otherwise).
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${page.url()} (${lang}) is ${overflow} px wider than the window`);
  const weight = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource');
    return {
      bytes: (nav ? nav.transferSize : 0) + res.reduce((n, r) => n + r.transferSize, 0),
      ttfb: nav ? nav.responseStart - nav.requestStart : 0,
    };
  });
  assert.ok(weight.bytes < 100 * 1024, `${page.url()} weighs ${weight.bytes} bytes`);
  const path = new URL(page.url()).pathname.replace(/[A-Za-z]{2}\/applications\/app_[^/]+/, 'KE/applications/{id}');
  if (seen) {
    const entry = seen.get(path) ?? { bytes: 0, ttfb: [] };
    entry.bytes = Math.max(entry.bytes, weight.bytes);
    entry.ttfb.push(weight.ttfb);
    seen.set(path, entry);
  }
}

async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** A signed-in browser session of one user, in `lang`, with every page it opens checked. */
async function session(browser, server, email, password, lang, seen) {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  const check = () => checkPage(page, lang, seen);
  await page.goto(`${server.base}/login`);
  if (lang !== 'en') {
    await page.click(`a[hreflang="${lang}"]`);
    assert.equal(await page.getAttribute('html', 'lang'), lang);
  }
  await check();
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('form.card button[type=submit]')]);
  assert.match(new URL(page.url()).pathname, /^\/a\/KE\/$/);
  // The language is remembered across the login.
  assert.equal(await page.getAttribute('html', 'lang'), lang);
  await check();
  return { context, page, check };
}

async function submit(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

/** The button of a workflow step on the application page. */
const step = (name) => `form:has(input[name=action][value=${name}]) button[type=submit]`;

async function story(database, lang) {
  const server = await startServer({ postgres: database === 'postgres' });
  const browser = await launch();
  const seen = new Map();
  // Screenshots of the English story on SQLite only, so the languages do not overwrite them.
  const snap = (page, name) => (database === 'sqlite' ? shot(page, lang === 'en' ? name : `${name}-${lang}`) : null);
  try {
    const t = server.tokens;
    const L = (name) => LABELS[name][lang];

    // A trader registers with the authority.
    const visitor = await browser.newContext({ bypassCSP: true });
    const reg = await visitor.newPage();
    await reg.goto(`${server.base}/register`);
    if (lang !== 'en') await reg.click(`a[hreflang="${lang}"]`);
    await checkPage(reg, lang, seen);
    await reg.selectOption('#authority', 'KE');
    await reg.fill('#name', 'Wanjiru Kamau');
    await reg.fill('#company', 'Naivasha Succulents Ltd');
    await reg.fill('#address', 'PO Box 7, Naivasha');
    await reg.fill('#country', 'KE');
    await reg.fill('#email', 'wanjiru@naivasha.example');
    // Too short first: the form comes back with the reason beside the password.
    await reg.fill('#password', 'short');
    await reg.evaluate(() => document.querySelector('#password').removeAttribute('minlength'));
    await submit(reg, 'form.card button[type=submit]');
    assert.notEqual(await reg.textContent('#password-error'), '');
    assert.equal(await reg.inputValue('#company'), 'Naivasha Succulents Ltd');
    await checkPage(reg, lang, seen);
    await reg.fill('#password', 'a long enough passphrase');
    await submit(reg, 'form.card button[type=submit]');
    assert.equal((await reg.textContent('h1')).trim(), L('register_done_title'));
    await visitor.close();

    // The clerk approves the registration.
    const clerk = await session(browser, server, t.PERMITSEAL_CLERK_EMAIL, t.PERMITSEAL_CLERK_PASSWORD, lang, seen);
    await clerk.page.goto(`${server.base}/a/KE/users`);
    await clerk.check();
    await snap(clerk.page, 'users');
    await submit(clerk.page, 'form[action$="/approve"] button');
    assert.ok(!(await clerk.page.textContent('main')).includes('wanjiru@naivasha.example')
      || (await clerk.page.locator('form[action$="/approve"]').count()) === 0);

    // The trader applies.
    const trader = await session(browser, server, 'wanjiru@naivasha.example', 'a long enough passphrase', lang, seen);
    await trader.page.goto(`${server.base}/a/KE/applications/new`);
    await trader.check();
    await trader.page.selectOption('#document_type', 'export');
    await trader.page.fill('#importer_name', 'Hamburg Botanicals GmbH');
    await trader.page.fill('#importer_country', 'DE');
    await trader.page.fill('#scientific_name', 'Aloe ferox');
    await trader.page.selectOption('#appendix', 'II');
    await trader.page.selectOption('#source', 'A');
    await trader.page.selectOption('#term', 'EXT');
    await trader.page.selectOption('#unit', 'KIL');
    // A species not among the reference taxa: refused beside the field, nothing else lost.
    await trader.page.fill('#scientific_name', 'Aloe imaginaria');
    await trader.page.fill('#quantity', '12.5');
    await submit(trader.page, 'form.card button[type=submit]');
    assert.equal(await trader.page.textContent('#scientific_name-error'), L('err_not_a_taxon'));
    assert.equal(await trader.page.inputValue('#importer_name'), 'Hamburg Botanicals GmbH');
    await trader.check();
    await trader.page.fill('#scientific_name', 'Aloe ferox');
    await snap(trader.page, 'application-form');
    await submit(trader.page, 'form.card button[type=submit]');
    const appUrl = trader.page.url();
    assert.match(appUrl, /\/a\/KE\/applications\/app_/);
    assert.equal((await trader.page.textContent('#app-state')).trim(), L('st_draft'));
    await trader.check();
    // Supporting documents: a text file is refused beside the field, a PNG is attached.
    const notes = join(mkdtempSync(join(tmpdir(), 'portal-att-')), 'notes.txt');
    writeFileSync(notes, 'not a document');
    await trader.page.setInputFiles('#file', notes);
    await submit(trader.page, 'form[enctype="multipart/form-data"] button');
    assert.notEqual((await trader.page.textContent('#file-error')).trim(), '');
    await trader.page.setInputFiles('#file', join(ROOT, 'server/assets/verify/icon-192.png'));
    await submit(trader.page, 'form[enctype="multipart/form-data"] button');
    assert.equal(await trader.page.textContent('.attachments a'), 'icon-192.png');
    await submit(trader.page, step('submit'));
    assert.equal((await trader.page.textContent('#app-state')).trim(), L('st_submitted'));

    // The clerk reviews and asks for a change.
    // The queue filters by species as well as by state.
    await clerk.page.goto(`${server.base}/a/KE/applications`);
    await clerk.page.fill('#taxon', 'Python reticulatus');
    await submit(clerk.page, 'form.filters button');
    assert.equal(await clerk.page.locator(`a[href="${new URL(appUrl).pathname}"]`).count(), 0);
    await clerk.page.fill('#taxon', 'Aloe ferox');
    await clerk.page.selectOption('#state', 'submitted');
    await submit(clerk.page, 'form.filters button');
    await clerk.check();
    await snap(clerk.page, 'queue');
    await submit(clerk.page, `a[href="${new URL(appUrl).pathname}"]`);
    await submit(clerk.page, step('review'));
    assert.equal((await clerk.page.textContent('#app-state')).trim(), L('st_under_review'));
    // The clerk opens the trader's attachment.
    const attached = await clerk.page.request.get(new URL(await clerk.page.getAttribute('.attachments a', 'href'), server.base).toString());
    assert.equal(attached.status(), 200);
    assert.equal(attached.headers()['content-type'], 'image/png');
    assert.deepEqual(Buffer.from(await attached.body()), readFileSync(join(ROOT, 'server/assets/verify/icon-192.png')));
    // A change request needs its reason: without one, the page says so beside the field.
    await submit(clerk.page, step('request_changes'));
    assert.equal(await clerk.page.textContent('#comment-request_changes-error'), L('err_reason_required'));
    await clerk.page.fill('#comment-request_changes', 'Please declare 10 kg: the rest stays for the local market.');
    await submit(clerk.page, step('request_changes'));
    assert.equal((await clerk.page.textContent('#app-state')).trim(), L('st_changes_requested'));
    await clerk.check();

    // The trader answers the change request.
    await trader.page.goto(appUrl);
    assert.ok((await trader.page.textContent('.history')).includes('Please declare 10 kg'));
    await submit(trader.page, `a[href$="/edit"]`);
    await trader.check();
    await trader.page.fill('#quantity', '10');
    await submit(trader.page, 'form.card button[type=submit]');
    await submit(trader.page, step('submit'));
    assert.equal((await trader.page.textContent('#app-state')).trim(), L('st_resubmitted'));

    // The clerk sends it for the Scientific Authority's advice.
    await clerk.page.goto(appUrl);
    await submit(clerk.page, step('review'));
    await submit(clerk.page, step('request_advice'));
    assert.equal((await clerk.page.textContent('#app-state')).trim(), L('st_advice_requested'));

    // The Scientific Authority advises.
    const sa = await session(browser, server, t.PERMITSEAL_SCIENTIFIC_EMAIL, t.PERMITSEAL_SCIENTIFIC_PASSWORD, lang, seen);
    await sa.page.goto(`${server.base}/a/KE/applications?state=advice_requested`);
    await sa.check();
    await submit(sa.page, `a[href="${new URL(appUrl).pathname}"]`);
    await sa.check();
    await sa.page.selectOption('#opinion', 'positive');
    await sa.page.fill('#advice-text', 'Cultivated stock; harvest within the national quota.');
    await submit(sa.page, 'form[action$="/advice"] button');
    assert.equal((await sa.page.textContent('#app-state')).trim(), L('st_advice_given'));

    // A signatory approves and issues; the page names who reviewed it.
    const sig = await session(browser, server, t.PERMITSEAL_SIGNATORY_EMAIL, t.PERMITSEAL_SIGNATORY_PASSWORD, lang, seen);
    await sig.page.goto(appUrl);
    await sig.check();
    assert.ok((await sig.page.textContent('main')).includes('Demo Clerk'));
    await snap(sig.page, 'application-signatory');
    await submit(sig.page, step('approve'));
    assert.equal((await sig.page.textContent('#app-state')).trim(), L('st_approved'));
    await submit(sig.page, step('issue'));
    assert.equal((await sig.page.textContent('#app-state')).trim(), L('st_issued'));
    const number = (await sig.page.textContent('#permit-number')).trim();

    // The trader downloads the PDF; its QR code, read from the rendered page, verifies.
    await trader.page.goto(appUrl);
    await trader.check();
    const pdf = await trader.page.request.get(`${appUrl}/permit.pdf`);
    assert.equal(pdf.status(), 200);
    assert.equal(pdf.headers()['content-type'], 'application/pdf');
    const work = mkdtempSync(join(tmpdir(), 'portal-pdf-'));
    writeFileSync(join(work, 'permit.pdf'), await pdf.body());
    execFileSync('pdftoppm', ['-r', '200', '-png', '-f', '1', '-l', '1', join(work, 'permit.pdf'), join(work, 'page')]);
    const png = execFileSync('ls', [work]).toString().split('\n').find((f) => f.endsWith('.png'));
    const qr = execFileSync('zbarimg', ['--raw', '-q', join(work, png)]).toString().trim();
    rmSync(work, { recursive: true, force: true });
    assert.match(qr, /^PS1:/);
    const verdict = await server.api('POST', '/api/v1/verify', undefined, { qr });
    assert.equal(verdict.verification.verdict, 'valid', JSON.stringify(verdict));

    // The clerk revokes the permit after the confirmation step; its page shows it.
    await clerk.page.goto(`${server.base}/a/KE/permits?number=${encodeURIComponent(number)}`);
    await clerk.check();
    await submit(clerk.page, `a[href*="/permit?number="]`);
    await clerk.check();
    await snap(clerk.page, 'permit');
    // The QR code on the permit page is the permit's own.
    const img = await clerk.page.getAttribute('img.qr', 'src');
    const qrPng = await clerk.page.request.get(new URL(img, server.base).toString());
    assert.equal(qrPng.headers()['content-type'], 'image/png');
    const pngDir = mkdtempSync(join(tmpdir(), 'portal-qr-'));
    writeFileSync(join(pngDir, 'qr.png'), await qrPng.body());
    assert.equal(execFileSync('zbarimg', ['--raw', '-q', join(pngDir, 'qr.png')]).toString().trim(), qr);
    rmSync(pngDir, { recursive: true, force: true });
    await submit(clerk.page, 'a[href*="action=revoke"]');
    await clerk.check();
    await clerk.page.selectOption('#kind', 'fraud');
    await clerk.page.fill('#reason', 'Specimens found to be wild-collected.');
    await submit(clerk.page, 'form[action$="/permit/change"] button');
    assert.equal((await clerk.page.textContent('#permit-state')).trim(), L('pst_revoked'));
    const after = await server.api('POST', '/api/v1/verify', undefined, { qr });
    assert.equal(after.verification.verdict, 'invalid');
    assert.ok(after.verification.reasons.some((r) => (r.code ?? r) === 'REVOKED'), JSON.stringify(after.verification.reasons));
    await clerk.page.goto(`${server.base}/a/KE/alerts`);
    await clerk.check();

    // Another authority's pages: 403, whatever the user's role.
    await server.api('POST', '/api/v1/authorities', t.PERMITSEAL_ADMIN_TOKEN,
      { id: 'TZ', country: 'TZ', name: 'Wildlife Division (Tanzania)' });
    for (const path of ['/a/TZ/', '/a/TZ/applications', '/a/TZ/permits', '/a/TZ/users']) {
      const answer = await clerk.page.goto(`${server.base}${path}`);
      assert.equal(answer.status(), 403, path);
      assert.equal((await clerk.page.textContent('p.error')).trim(), L('err_other_authority'));
    }

    // A form posted without its CSRF token (or with another session's) is refused, and
    // nothing changes.
    const id = new URL(appUrl).pathname.split('/').pop();
    const forged = await clerk.page.request.post(`${appUrl}/act`, {
      form: { version: '1', action: 'refuse', comment: 'forged' },
    });
    assert.equal(forged.status(), 403);
    const other = await trader.page.evaluate(() => document.querySelector('input[name=csrf]').value);
    const crossed = await clerk.page.request.post(`${server.base}/a/KE/permit/change`, {
      form: { csrf: other, number, action: 'reinstate', reason: 'forged' },
    });
    assert.equal(crossed.status(), 403);
    const still = await server.api('GET', `/api/v1/authorities/KE/applications/${id}`, undefined)
      .catch((e) => e.message);
    assert.match(String(still), /401/);

    // Logging out ends the session on the server: the old cookie opens nothing.
    const cookies = await trader.context.cookies();
    await submit(trader.page, 'form[action="/logout"] button');
    assert.match(new URL(trader.page.url()).pathname, /^\/login/);
    const again = await browser.newContext({ bypassCSP: true });
    await again.addCookies(cookies);
    const p2 = await again.newPage();
    await p2.goto(`${server.base}/a/KE/applications`);
    assert.match(new URL(p2.url()).pathname, /^\/login/);
    await again.close();

    for (const s of [clerk, trader, sa, sig]) await s.context.close();
    return seen;
  } finally {
    await browser.close();
    await server.stop();
  }
}

for (const [database, lang] of [['sqlite', 'en'], ['postgres', 'en'], ['sqlite', 'fr'], ['sqlite', 'es']]) {
  test(`portal story on ${database} in ${lang}`, async () => {
    const seen = await story(database, lang);
    if (process.env.PORTAL_WEIGHTS && database === 'sqlite' && lang === 'en') {
      const rows = [...seen.entries()].map(([path, w]) => {
        const sorted = [...w.ttfb].sort((a, b) => a - b);
        return { path, bytes: w.bytes, ttfb_ms: sorted[Math.floor(sorted.length / 2)], samples: sorted.length };
      });
      writeFileSync(process.env.PORTAL_WEIGHTS, JSON.stringify(rows, null, 2));
    }
  });
}

test('failed logins are throttled per account, with a message on the page', async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    for (let i = 0; i < 5; i += 1) {
      await page.goto(`${server.base}/login`);
      await page.fill('#email', server.tokens.PERMITSEAL_CLERK_EMAIL);
      await page.fill('#password', 'not the password at all');
      const [answer] = await Promise.all([page.waitForNavigation(), page.click('form.card button[type=submit]')]);
      assert.equal(answer.status(), 401);
      assert.equal((await page.textContent('p.error')).trim(), LABELS.err_login.en);
    }
    await page.goto(`${server.base}/login`);
    await page.fill('#email', server.tokens.PERMITSEAL_CLERK_EMAIL);
    await page.fill('#password', server.tokens.PERMITSEAL_CLERK_PASSWORD);
    const [answer] = await Promise.all([page.waitForNavigation(), page.click('form.card button[type=submit]')]);
    assert.equal(answer.status(), 429, 'even the right password waits');
    assert.match(await page.textContent('p.error'), /try again in \d+ minutes/);
    // The API's login is throttled alike.
    const api = await fetch(`${server.base}/api/v1/sessions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: server.tokens.PERMITSEAL_CLERK_EMAIL, password: server.tokens.PERMITSEAL_CLERK_PASSWORD }),
    });
    assert.equal(api.status, 429);
    assert.ok(Number(api.headers.get('retry-after')) > 0);
    assert.equal((await api.json()).code, 'too_many_logins');
  } finally {
    await browser.close();
    await server.stop();
  }
});

for (const lang of ['en', 'es']) {
  test(`the authority administrator's pages in ${lang}: keys, quotas, species, report, staff`, async () => {
    const server = await startServer();
    const browser = await launch();
    try {
      const t = server.tokens;
      const L = (name) => LABELS[name][lang];
      const admin = await session(browser, server, t.PERMITSEAL_AUTHORITY_ADMIN_EMAIL, t.PERMITSEAL_AUTHORITY_ADMIN_PASSWORD, lang);
      const { page, check } = admin;

      // Keys: the rotation says what follows before it happens.
      await page.goto(`${server.base}/a/KE/keys`);
      await check();
      assert.equal(await page.locator('tbody tr').count(), 1);
      await submit(page, 'a[href*="action=rotate"]');
      await check();
      assert.equal((await page.textContent('p.warning')).trim(), L('confirm_rotate'));
      await submit(page, 'form[action$="/keys/act"] button');
      const states = await page.$$eval('tbody tr .state', (els) => els.map((e) => e.textContent.trim()).sort());
      assert.deepEqual(states, [L('ks_active'), L('ks_retired')].sort());
      // Marking the retired key compromised: the consequences first, then it is so.
      const retired = await page.$eval(`tbody tr:has(.state.retired) code`, (e) => e.textContent);
      await submit(page, `a[href*="action=compromise"][href*="kid=${retired}"]`);
      await check();
      assert.equal((await page.textContent('p.warning')).trim(), L('confirm_compromise'));
      await submit(page, 'form[action$="/keys/act"] button');
      assert.equal((await page.textContent(`tbody tr:has(code:text-is("${retired}")) .state`)).trim(), L('ks_compromised'));
      if (lang === 'en') await shot(page, 'keys');

      // Quotas: a bad quantity comes back beside its field; a good one is listed.
      await page.goto(`${server.base}/a/KE/quotas`);
      await check();
      await page.fill('#scientific_name', 'Aloe ferox');
      await page.selectOption('#unit', 'KIL');
      await page.fill('#quantity', 'lots');
      await submit(page, 'form[action$="/quotas"] button');
      assert.notEqual((await page.textContent('#quantity-error')).trim(), '');
      assert.equal(await page.inputValue('#scientific_name'), 'Aloe ferox');
      await check();
      await page.fill('#quantity', '5000');
      await submit(page, 'form[action$="/quotas"] button');
      assert.ok((await page.textContent('tbody')).includes('Aloe ferox'));
      assert.ok((await page.textContent('tbody')).includes('5000'));

      // Species: a new reference taxon, then offered to traders.
      await page.goto(`${server.base}/a/KE/taxa`);
      await check();
      await page.fill('#scientific_name', 'Testudo graeca');
      await page.selectOption('#kingdom', 'animal');
      await page.selectOption('#appendices', 'II');
      await page.fill('#common_name', 'Spur-thighed tortoise');
      await submit(page, 'form[action$="/taxa"] button');
      assert.ok((await page.textContent('tbody')).includes('Testudo graeca'));
      const taxa = await server.api('GET', '/api/v1/taxa');
      assert.ok(taxa.taxa.some((x) => x.scientific_name === 'Testudo graeca'));

      // The annual report downloads as CSV.
      await page.goto(`${server.base}/a/KE/report`);
      await check();
      const year = await page.inputValue('#year');
      const csv = await page.request.get(`${server.base}/a/KE/report.csv?year=${year}&view=exports&basis=permits`);
      assert.equal(csv.status(), 200);
      assert.match(csv.headers()['content-type'], /^text\/csv/);

      // A new staff member, who can then sign in.
      await page.goto(`${server.base}/a/KE/users`);
      await check();
      await page.fill('#name', 'Second Clerk');
      await page.fill('#email', 'clerk2@demo.example');
      await page.fill('#password', 'another long passphrase');
      await page.check('form[action$="/users/new"] input[name=role][value=clerk]');
      await submit(page, 'form[action$="/users/new"] button');
      assert.ok((await page.textContent('main')).includes('clerk2@demo.example'));
      const clerk2 = await session(browser, server, 'clerk2@demo.example', 'another long passphrase', lang);
      await clerk2.page.goto(`${server.base}/a/KE/keys`);
      assert.equal((await clerk2.page.textContent('p.error')).trim(), L('err_role'));
      // New roles end the session, so they hold from the next sign-in.
      await page.goto(`${server.base}/a/KE/users`);
      const rolesForm = 'form.roles:has(button:text-matches("clerk2@"))';
      await page.check(`${rolesForm} input[value=signatory]`);
      await submit(page, `${rolesForm} button`);
      assert.ok(await page.isChecked(`${rolesForm} input[value=signatory]`));
      assert.ok(await page.isChecked(`${rolesForm} input[value=clerk]`));
      await check();
      await clerk2.page.goto(`${server.base}/a/KE/`);
      assert.match(new URL(clerk2.page.url()).pathname, /^\/login/);
      await clerk2.context.close();
      const again = await session(browser, server, 'clerk2@demo.example', 'another long passphrase', lang);
      assert.ok((await again.page.textContent('nav')).includes(L('nav_queue')));
      // Disabling the account ends its session at once.
      await submit(page, 'form[action$="/disable"]:has(button:text-matches("clerk2@")) button');
      assert.ok((await page.textContent('main')).includes(L('us_disabled')));
      await again.page.goto(`${server.base}/a/KE/`);
      assert.match(new URL(again.page.url()).pathname, /^\/login/);
      await again.context.close();
      await admin.context.close();
    } finally {
      await browser.close();
      await server.stop();
    }
  });
}
