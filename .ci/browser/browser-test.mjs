#!/usr/bin/env node
// The widget and the demo page in a real Chromium, against a running frontdesk.
//
//   node .ci/browser/browser-test.mjs --api http://127.0.0.1:18180 --out DIR [--token TOKEN]
//
// The admin token (for checking leads and bookings, and for setting up a call type) comes
// from --token (or FRONTDESK_TOKEN), else --email/--password (FRONTDESK_ADMIN_EMAIL,
// FRONTDESK_ADMIN_PASSWORD) to log in, else --bin PATH (FRONTDESK_BIN) to create an owner
// with `frontdesk admin create` on DATABASE_URL. See `run` beside this file for what the
// server must be configured with. Prints one line per check, then "N passed, N failed";
// exits non-zero on any failure.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const WEB = path.join(REPO, 'web');

// ------------------------------------------------------------------ arguments
function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const [k, v] = a.includes('=') ? [a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a.slice(2), null];
    if (['headed'].includes(k)) out[k] = true;
    else out[k] = v ?? argv[++i];
  }
  return out;
}
let args;
try { args = parseArgs(process.argv.slice(2)); } catch (e) { console.error(`usage: browser-test.mjs --api URL --out DIR [--token T]: ${e.message}`); process.exit(2); }
const API = String(args.api || process.env.FRONTDESK_API || '').replace(/\/+$/, '');
const OUT = path.resolve(args.out || process.env.FRONTDESK_BROWSER_OUT || path.join(REPO, 'target', 'browser'));
const DEMO_PORT = Number(args['demo-port'] || 18181);
const OTHER_PORT = Number(args['other-port'] || 18182);
const DEMO_ORIGIN = `http://127.0.0.1:${DEMO_PORT}`;
const OTHER_ORIGIN = `http://127.0.0.1:${OTHER_PORT}`;
const CHROMIUM = args.chromium || process.env.CHROMIUM || '/usr/bin/chromium';
if (!API) { console.error('usage: browser-test.mjs --api http://127.0.0.1:PORT --out DIR [--token TOKEN]'); process.exit(2); }
fs.mkdirSync(OUT, { recursive: true });

const RUN = Date.now().toString(36);
const STEP_TIMEOUT = 20_000;
const TOTAL_TIMEOUT = 6 * 60_000;

// ------------------------------------------------------------------ reporting
const results = [];
let current = '';
async function check(name, fn) {
  current = name;
  const started = Date.now();
  try {
    await withTimeout(fn(), 90_000, `${name} took longer than 90 s`);
    results.push({ name, ok: true });
    console.log(`ok - ${name} (${Date.now() - started} ms)`);
    return true;
  } catch (err) {
    results.push({ name, ok: false, err });
    console.log(`not ok - ${name}\n    ${String(err && err.message ? err.message : err).split('\n').join('\n    ')}`);
    if (page) await page.screenshot({ path: path.join(OUT, `failed-${results.length}.png`) }).catch(() => {});
    return false;
  }
}
class CheckError extends Error {}
function assert(cond, msg) { if (!cond) throw new CheckError(msg); }
function withTimeout(promise, ms, msg) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(msg)), ms); })]).finally(() => clearTimeout(timer));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function poll(fn, { timeout = 8000, every = 250, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

// ------------------------------------------------------------------ the API from node
async function request(pathname, { method = 'GET', body, token, headers = {}, timeout = 15000 } = {}) {
  const h = { accept: 'application/json', ...headers };
  if (body !== undefined) h['content-type'] = 'application/json';
  if (token) h.authorization = `Bearer ${token}`;
  const res = await fetch(API + pathname, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeout) });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  return { status: res.status, headers: res.headers, data };
}
// A list answer's items: every list answers {"items": [...], "next_cursor": ...}.
function listOf(r, what) {
  assert(r.data && Array.isArray(r.data.items), `${what} did not answer {"items": [...]} (status ${r.status}): ${JSON.stringify(r.data).slice(0, 200)}`);
  return r.data.items;
}

async function adminToken() {
  const token = args.token || process.env.FRONTDESK_TOKEN;
  if (token) return token;
  let email = args.email || process.env.FRONTDESK_ADMIN_EMAIL;
  let password = args.password || process.env.FRONTDESK_ADMIN_PASSWORD;
  const bin = args.bin || process.env.FRONTDESK_BIN;
  if (!(email && password) && bin) {
    assert(process.env.DATABASE_URL, '--bin needs DATABASE_URL (the server\'s database) to create an admin');
    email = `widget-ci-${RUN}@example.com`;
    password = crypto.randomBytes(18).toString('base64url');
    const made = spawnSync(bin, ['admin', 'create', '--email', email, '--role', 'owner', '--name', 'Widget CI', '--password-stdin'], { input: `${password}\n`, encoding: 'utf8', timeout: 30000 });
    assert(made.status === 0, `could not create an admin with ${bin}: ${made.stderr || made.stdout}`);
  }
  assert(email && password, 'no admin token: pass --token TOKEN (an owner\'s), or --email and --password, or --bin PATH with DATABASE_URL');
  const r = await request('/v1/auth/login', { method: 'POST', body: { email, password } });
  assert(r.status === 200 && r.data && r.data.token, `logging in as ${email} failed: ${r.status} ${JSON.stringify(r.data)}`);
  return r.data.token;
}

// A call type with a single host who works every day around the clock (UTC), so there are
// always free slots and a booked one certainly disappears from the list.
const CALL = { slug: 'widget-test-call', name: 'Widget test call', hostEmail: 'widget-test-host@example.com' };
async function callTypeFixture(token) {
  let r = await request('/v1/admin/users', { method: 'POST', token, body: { email: CALL.hostEmail, display_name: 'Widget Test Host', role: 'sales', password: crypto.randomBytes(18).toString('base64url') } });
  let hostId = r.status === 201 ? r.data.id : null;
  if (!hostId) {
    assert(r.status === 409, `creating the test host answered ${r.status}: ${JSON.stringify(r.data)}`);
    const users = listOf(await request('/v1/admin/users', { token }), 'GET /v1/admin/users');
    hostId = (users.find((u) => u.email === CALL.hostEmail) || {}).id;
    assert(hostId, 'the test host exists but is not in GET /v1/admin/users');
  }
  const hours = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '00:00', end: '23:59' }));
  r = await request(`/v1/admin/hosts/${hostId}`, { method: 'PUT', token, body: { time_zone: 'UTC', working_hours: hours } });
  assert(r.status === 200, `PUT /v1/admin/hosts/${hostId} answered ${r.status}: ${JSON.stringify(r.data)}`);
  const input = { name: CALL.name, slug: CALL.slug, description: 'Made by the browser test.', duration_minutes: 30, buffer_before_minutes: 0, buffer_after_minutes: 0, min_notice_minutes: 60, horizon_days: 14, slot_step_minutes: 30, host_ids: [hostId],
    location: { kind: 'phone', caller: 'host' },
    questions: [
      { id: 'company', label: 'Your company', kind: 'text', required: true },
      { id: 'stage', label: 'Project stage', kind: 'choice', options: ['Idea', 'Running'] },
    ] };
  const types = listOf(await request('/v1/admin/call-types', { token }), 'GET /v1/admin/call-types');
  const existing = types.find((t) => t.slug === CALL.slug);
  r = existing
    ? await request(`/v1/admin/call-types/${existing.id}`, { method: 'PUT', token, body: input })
    : await request('/v1/admin/call-types', { method: 'POST', token, body: input });
  assert([200, 201].includes(r.status), `saving the test call type answered ${r.status}: ${JSON.stringify(r.data)}`);
}

// ------------------------------------------------------------------ static servers
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml' };
// The demo page is served under a strict Content-Security-Policy, as a careful host page
// would be: the widget must work with nothing inline.
const CSP = () => [`default-src 'none'`, `script-src 'self' ${API}`, `style-src 'self'`, `img-src 'self' https: data:`,
  `connect-src ${API}`, `base-uri 'none'`, `form-action 'none'`, `frame-ancestors 'none'`].join('; ');
function serveFile(res, file) {
  fs.readFile(file, (err, buf) => {
    if (err) { res.writeHead(404, { 'content-type': 'text/plain' }); res.end('not found'); return; }
    const html = path.extname(file) === '.html';
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store', ...(html ? { 'content-security-policy': CSP() } : {}) });
    res.end(buf);
  });
}
function demoServer() {
  return http.createServer((req, res) => {
    const url = new URL(req.url, DEMO_ORIGIN);
    if (url.pathname === '/' || url.pathname === '/demo') { res.writeHead(302, { location: `/demo/${url.search}` }); res.end(); return; }
    if (url.pathname === '/widget.js') { serveFile(res, path.join(WEB, 'widget.js')); return; }
    if (url.pathname === '/embed.html') {
      // A host page with the one tag and hostile CSS that must not reach into the widget.
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': CSP() });
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>One tag</title>
<link rel="stylesheet" href="/embed.css">
<script src="${widgetSrc}" data-api="${API}" data-parts="assistant,newsletter" data-accent="#ffcc00" data-greeting="Hello from the one-tag embed!" defer></script>
</head><body><main><h1>A host page</h1><div data-frontdesk="newsletter"></div><div data-frontdesk="booking" id="ignored"></div></main></body></html>`);
      return;
    }
    if (url.pathname === '/embed.css') {
      res.writeHead(200, { 'content-type': 'text/css', 'cache-control': 'no-store' });
      res.end('button,input,textarea,label,p{background:red!important;color:lime!important;font:40px/1 serif!important;border:9px dotted blue!important;display:inline!important}*{box-sizing:content-box!important}');
      return;
    }
    if (url.pathname.startsWith('/demo/')) {
      const rel = decodeURIComponent(url.pathname.slice('/demo/'.length)) || 'index.html';
      const file = path.resolve(WEB, 'demo', rel);
      if (!file.startsWith(path.join(WEB, 'demo') + path.sep)) { res.writeHead(403); res.end(); return; }
      serveFile(res, file);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }); res.end('not found');
  });
}
function otherServer() {
  return http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end('<!doctype html><html lang="en"><title>Not an allowed origin</title><h1>Not an allowed origin</h1></html>');
  });
}
function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new CheckError(`cannot listen on 127.0.0.1:${port} (${e.code || e.message}): stop what uses it, or pass --demo-port P / --other-port P (and list http://127.0.0.1:P of the demo in CORS_ALLOWED_ORIGINS)`)));
    server.listen(port, '127.0.0.1', resolve);
  });
}

// ------------------------------------------------------------------ the browser
let browser; let context; let page;
let widgetSrc = '';
const servers = [];
async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  browser = null;
  for (const s of servers) { s.closeAllConnections?.(); await new Promise((r) => s.close(() => r())); }
  servers.length = 0;
}
const watchdog = setTimeout(async () => {
  console.log(`not ok - the whole run took longer than ${TOTAL_TIMEOUT / 1000} s (during: ${current})`);
  await cleanup();
  process.exit(1);
}, TOTAL_TIMEOUT);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, async () => { await cleanup(); process.exit(130); });

// Records the widget's events, and at each token how long the streamed text in the live
// region is, so the test sees text grow before the final reply.
function recorder() {
  window.__fd = { events: [] };
  for (const name of ['token', 'restart', 'reply', 'lead', 'booking', 'open', 'close', 'share', 'subscribed']) {
    window.addEventListener(`frontdesk:${name}`, (e) => {
      const host = document.getElementById('frontdesk-widget');
      const log = host && host.shadowRoot && host.shadowRoot.querySelector('[aria-live=polite]');
      const last = log && log.lastElementChild && log.lastElementChild.querySelector('.fd-text');
      window.__fd.events.push({ type: name, t: performance.now(), detail: e.detail, live: last ? last.textContent : null });
    });
  }
}
const events = (type) => page.evaluate((t) => window.__fd.events.filter((e) => !t || e.type === t), type);
const widget = () => page.locator('#frontdesk-widget');

let lastTurn = [];
async function ask(text) {
  const from = (await events()).length;
  const before = (await events('reply')).length;
  const notices = await widget().locator('.fd-msg-notice').count();
  const input = widget().getByLabel('Your message');
  await input.fill(text);
  await input.press('Enter');
  await poll(async () => {
    const n = await widget().locator('.fd-msg-notice').count();
    if (n > notices) throw new Error(`the widget answered "${text}" with: ${await widget().locator('.fd-msg-notice').last().innerText()}`);
    return (await events('reply')).length > before;
  }, { timeout: STEP_TIMEOUT, what: `the reply to "${text}"` });
  lastTurn = (await events()).slice(from);
  return lastTurn.filter((e) => e.type === 'reply').pop().detail;
}

async function axe(label) {
  const source = fs.readFileSync(path.join(HERE, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 4).map((n) => `${JSON.stringify(n.target)} ${n.failureSummary.replace(/\s+/g, ' ')}`) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of violations.filter((x) => !bad.includes(x))) console.log(`    note (${label}, ${v.impact}): ${v.id}: ${v.help} at ${v.nodes[0] || ""}`);
  assert(!bad.length, `axe found ${bad.length} serious or critical violation(s) on ${label}:\n${bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n      ${v.nodes.join('\n      ')}`).join('\n')}`);
}

async function main() {
  console.log(`browser test: API ${API}, demo origin ${DEMO_ORIGIN}, unlisted origin ${OTHER_ORIGIN}, out ${OUT}`);
  assert(fs.existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install -y chromium (or .ci/browser/run does it)`);
  const site = await request('/v1/site').catch((e) => { throw new CheckError(`the API at ${API} cannot be reached: ${e.message}`); });
  assert(site.status === 200, `GET /v1/site answered ${site.status}: seed the database first (frontdesk seed-demo)`);
  const allows = async (origin) => (await fetch(`${API}/v1/site`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' }, signal: AbortSignal.timeout(10000) })).headers.get('access-control-allow-origin') === origin;
  assert(await allows(DEMO_ORIGIN), `the server does not allow the demo origin: start it with CORS_ALLOWED_ORIGINS containing ${DEMO_ORIGIN}`);
  assert(!(await allows(OTHER_ORIGIN)), `the server allows ${OTHER_ORIGIN}, which must stay unlisted: take it out of CORS_ALLOWED_ORIGINS (or pass --other-port)`);
  servers.push(demoServer(), otherServer());
  await listen(servers[0], DEMO_PORT);
  await listen(servers[1], OTHER_PORT);
  const token = await adminToken();
  await callTypeFixture(token);
  const services = listOf(await request('/v1/services'), 'GET /v1/services');

  // widget.js: the API's own when it serves it (it must then be this tree's file); until
  // the Rust side does, the demo origin serves web/widget.js.
  const local = fs.readFileSync(path.join(WEB, 'widget.js'));
  const served = await fetch(`${API}/widget.js`, { signal: AbortSignal.timeout(10000) });
  const servedBody = Buffer.from(await served.arrayBuffer());
  let widgetParam = '';
  if (served.status === 200) {
    await check('GET /widget.js is this tree\'s widget, as JavaScript, with an ETag and a cache policy', async () => {
      assert(servedBody.equals(local), 'the server\'s /widget.js differs from web/widget.js: rebuild the binary');
      assert(/javascript/.test(served.headers.get('content-type') || ''), `content-type is ${served.headers.get('content-type')}`);
      assert(served.headers.get('etag'), 'no ETag');
      assert(served.headers.get('cache-control'), 'no Cache-Control');
    });
  } else {
    console.log(`    note: ${API}/widget.js answered ${served.status}; the demo origin serves web/widget.js instead`);
    widgetParam = `&widget=${encodeURIComponent(`${DEMO_ORIGIN}/widget.js`)}`;
  }
  const demoUrl = `${DEMO_ORIGIN}/demo/?api=${encodeURIComponent(API)}${widgetParam}`;
  widgetSrc = widgetParam ? `${DEMO_ORIGIN}/widget.js` : `${API}/widget.js`;


  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: !args.headed,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    timeout: 30000,
  });
  context = await browser.newContext({ timezoneId: 'Europe/Berlin', locale: 'en-GB', viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: DEMO_ORIGIN });
  context.setDefaultTimeout(STEP_TIMEOUT);
  await context.addInitScript(recorder);
  // Share buttons open the networks' pages; nothing leaves this machine.
  await context.route((url) => !/^(127\.0\.0\.1|localhost|\[::1\])$/.test(url.hostname), (route) => route.fulfill({ status: 204, body: '' }));
  page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && /Content.Security.Policy/i.test(m.text())) pageErrors.push(m.text()); });
  let consultationPosts = 0;
  page.on('request', (r) => { if (r.method() === 'POST' && r.url() === `${API}/v1/consultations`) consultationPosts++; });

  let post = null;
  await check('the demo page, on another origin, renders the article from the public API', async () => {
    await page.goto(demoUrl, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('html[data-ready=true]');
    const first = listOf(await request('/v1/posts?limit=1'), 'GET /v1/posts')[0];
    post = (await request(`/v1/posts/${first.slug}`)).data;
    assert((await page.locator('h1').innerText()).trim() === post.title, 'the h1 is not the newest post\'s title');
    assert((await page.locator('#reading-time').innerText()).includes(String(post.reading_minutes)), 'no reading time');
    if (post.toc.length) assert(await page.locator('#toc a').count() >= post.toc.length, 'the table of contents is missing entries');
    await poll(async () => (await page.locator('#services-list li').count()) === services.length, { what: '"Our expertise" to list every service' });
    assert((await page.locator('#contact-details').innerText()).includes(site.data.contact_email), 'no contact email in the footer');
    await poll(async () => (await page.locator('#related-list li').count()) > 0, { what: 'related articles' });
  });

  await check('a post in a series shows its series navigation', async () => {
    const inSeries = listOf(await request('/v1/posts?limit=50'), 'GET /v1/posts').find((p) => p.series);
    assert(inSeries, 'no post of the demo data is in a series');
    const p2 = await context.newPage();
    try {
      await p2.goto(`${demoUrl}&post=${encodeURIComponent(inSeries.slug)}`);
      await p2.waitForSelector('html[data-ready=true]');
      await p2.locator('#series a').first().waitFor();
      const series = (await request(`/v1/posts/${inSeries.slug}`)).data.series;
      const links = await p2.locator('#series a').count();
      assert(links === (series.previous ? 1 : 0) + (series.next ? 1 : 0), 'series links do not match previous/next');
    } finally { await p2.close(); }
  });

  await check('share buttons show live counts and count a share', async () => {
    const copy = page.locator('[data-frontdesk=shares] [data-network=copy_link]');
    await copy.waitFor();
    assert(await page.locator('[data-frontdesk=shares] .fd-share').count() === 7, 'not one button per network');
    const before = Number(await copy.locator('.fd-count').innerText());
    assert(before === post.shares.counts.copy_link, `the button shows ${before}, the API ${post.shares.counts.copy_link}`);
    await copy.click();
    await poll(async () => Number(await copy.locator('.fd-count').innerText()) === before + 1, { what: 'the count to go up' });
    await poll(async () => ((await request(`/v1/posts/${post.slug}`)).data.shares.counts.copy_link === before + 1), { what: 'the API to count the share' });
  });

  await page.screenshot({ path: path.join(OUT, 'demo-page.png'), fullPage: true });

  await check('accessibility: axe finds nothing serious or critical on the demo page', () => axe('the demo page'));

  await check('the chat opens from the keyboard, focuses its input, closes with Esc and gives focus back', async () => {
    const bubble = widget().locator('.fd-bubble');
    await poll(async () => /Northwind|Chat/.test(await bubble.getAttribute('aria-label') || ''), { what: 'the bubble' });
    await bubble.focus();
    await page.keyboard.press('Enter');
    await widget().locator('[role=dialog]').waitFor({ state: 'visible' });
    const focused = () => page.evaluate(() => { const a = document.getElementById('frontdesk-widget').shadowRoot.activeElement; return a ? `${a.tagName}.${a.className}` : null; });
    assert((await focused()).startsWith('TEXTAREA'), `focus is on ${await focused()}, not the message box`);
    const title = await widget().locator('[role=dialog] h2').innerText();
    assert(/Northwind Software AI Assistant/.test(title) && /online/i.test(title), `the title reads "${title}"`);
    const greeting = (await request('/v1/site')).data.firm_name;
    await poll(async () => (await widget().locator('.fd-msg-assistant .fd-text').first().innerText()).includes(greeting), { what: 'the greeting' });
    await page.keyboard.press('Escape');
    await widget().locator('[role=dialog]').waitFor({ state: 'hidden' });
    assert((await focused()).includes('fd-bubble'), `after Esc focus is on ${await focused()}`);
    assert(await bubble.getAttribute('aria-expanded') === 'false', 'aria-expanded stayed true');
    await bubble.click();
    await widget().locator('[role=dialog]').waitFor({ state: 'visible' });
  });

  await check('"What services do you offer?" streams tokens into the live region, then shows the services', async () => {
    const reply = await ask('What services do you offer?');
    const turn = lastTurn;
    const tokens = turn.filter((e) => e.type === 'token');
    assert(tokens.length >= 2, `only ${tokens.length} token events before the reply`);
    assert(tokens[0].t < turn.find((e) => e.type === 'reply').t, 'the first token did not arrive before the reply');
    const lengths = tokens.map((e) => (e.live || '').length);
    assert(lengths.every((n, i) => i === 0 || n > lengths[i - 1]), `the live region's text did not grow with each token: ${lengths.join(',')}`);
    assert(lengths[0] < reply.text.length, 'the first token already held the whole text');
    const last = widget().locator('.fd-msg-assistant').last();
    assert((await last.locator('.fd-text').innerText()).trim() === reply.text.trim(), 'the final text is not the reply\'s');
    assert(await last.locator('.fd-service').count() === services.length, 'not one card per service');
    const href = await last.locator('.fd-sources a').first().getAttribute('href');
    assert(href && href.startsWith(DEMO_ORIGIN) && href.includes('#service-'), `a source links to ${href}, not to the host page`);
  });

  const visitor = { name: 'Ada Lovelace', email: `ada.${RUN}@example.com` };
  let reference = null;
  await check('a quote conversation ends in a real lead (admin API)', async () => {
    const first = await ask('I need a quote for a patient portal, budget 30k, within 3 months');
    assert(first.parts.some((p) => p.type === 'quote_form'), 'no quote_form part');
    assert(await widget().locator('.fd-quote').count() === 1, 'the prefilled form is not shown exactly once');
    await ask(visitor.name);
    await ask(visitor.email);
    await ask('Analytical Engines Ltd');
    const done = await ask('yes');
    const part = done.parts.find((p) => p.type === 'lead_created');
    assert(part, `no lead_created part: ${done.text}`);
    reference = part.reference;
    const quote = widget().locator('.fd-quote').last();
    await quote.getByRole('button', { name: 'Review and send the details as a form' }).click();
    assert(await quote.getByLabel('Name').inputValue() === visitor.name, 'the quote form is not prefilled with the name');
    assert(await quote.getByLabel('Company').inputValue() === 'Analytical Engines Ltd', 'the quote form is not prefilled with the company');
    assert(await quote.getByLabel('Budget').inputValue() === '25k_50k', 'the quote form is not prefilled with the budget');
    assert((await widget().locator('.fd-ref').last().innerText()) === reference, 'the reference is not shown');
    const leads = listOf(await request(`/v1/admin/leads?q=${encodeURIComponent(reference)}`, { token }), 'GET /v1/admin/leads');
    assert(leads.length === 1 && leads[0].kind === 'plan' && leads[0].email === visitor.email, `admin leads for ${reference}: ${JSON.stringify(leads).slice(0, 300)}`);
  });

  await check('a question the site does not cover offers a person and the consultation form', async () => {
    const reply = await ask('What is the capital of Peru?');
    assert(reply.parts.some((p) => p.type === 'human'), 'no human part');
    const last = widget().locator('.fd-msg-assistant').last();
    assert(await last.locator('a[href^="mailto:"]').count() === 1, 'no email link');
    await last.getByRole('button', { name: 'Leave your details' }).click();
    await last.getByLabel('First name').waitFor();
  });

  await check('choosing a slot in the chat books a real call, and the slot is gone', async () => {
    const reply = await ask(`Yes, please book a ${CALL.name}`);
    const slots = reply.parts.find((p) => p.type === 'slots');
    assert(slots && slots.call_type === CALL.slug, `no slots of ${CALL.slug}: ${reply.text}`);
    const chosen = slots.items[0];
    const around = (iso, mins) => new Date(Date.parse(iso) + mins * 60000).toISOString();
    const free = async () => (await request(`/v1/call-types/${CALL.slug}/slots?${new URLSearchParams({ from: around(chosen.start_utc, -60), to: around(chosen.start_utc, 60), tz: 'UTC' })}`)).data.slots.map((s) => Date.parse(s.start_utc));
    assert((await free()).includes(Date.parse(chosen.start_utc)), 'the offered slot is not free before booking');
    const part = widget().locator('.fd-msg-assistant').last();
    await part.locator('.fd-slot').first().click();
    assert(await part.getByLabel('First name').inputValue() === 'Ada', 'the name from the chat is not prefilled');
    assert(await part.getByLabel('Email').inputValue() === visitor.email, 'the email from the chat is not prefilled');
    await part.getByLabel('Your company').fill('Analytical Engines Ltd');
    await part.getByLabel('Phone number to call you on').fill('+44 20 7946 0000');
    await part.getByLabel(/store these details/).check();
    await part.getByRole('button', { name: 'Book this call' }).click();
    await part.locator('.fd-booked').waitFor();
    const manage = await part.getByRole('link', { name: 'Move or cancel this call' }).getAttribute('href');
    const booked = (await events('booking')).pop().detail;
    assert(manage && manage === booked.manage_url, 'no manage link');
    const list = listOf(await request(`/v1/admin/bookings?${new URLSearchParams({ from: around(chosen.start_utc, -1), to: around(chosen.start_utc, 1) })}`, { token }), 'GET /v1/admin/bookings');
    const found = list.find((b) => b.id === booked.booking.id);
    assert(found && found.status === 'confirmed' && found.email === visitor.email, `the booking is not in GET /v1/admin/bookings: ${JSON.stringify(list).slice(0, 300)}`);
    assert(!(await free()).includes(Date.parse(chosen.start_utc)), 'the booked slot is still offered');
  });

  await page.screenshot({ path: path.join(OUT, 'widget-open.png') });
  await check('accessibility: axe finds nothing serious or critical with the chat open (inside its shadow root too)', () => axe('the open widget'));

  await check('the conversation survives a page load (sessionStorage), and a gone one starts afresh', async () => {
    const key = await page.evaluate(() => Object.keys(sessionStorage).find((k) => k.startsWith('frontdesk.conversation:')));
    const id = await page.evaluate((k) => sessionStorage.getItem(k), key);
    assert(id, 'no conversation id in sessionStorage');
    assert(await page.evaluate(() => localStorage.length) === 0, 'the widget wrote to localStorage');
    assert((await context.cookies()).length === 0, 'cookies were set');
    await page.reload();
    await page.waitForSelector('html[data-ready=true]');
    await widget().locator('.fd-bubble').click();
    await poll(async () => (await widget().locator('.fd-msg-visitor').allInnerTexts()).some((t) => t.includes('Analytical Engines Ltd')), { what: 'the restored history' });
    assert(await page.evaluate((k) => sessionStorage.getItem(k), key) === id, 'the conversation id changed');
    await page.evaluate((k) => sessionStorage.setItem(k, '01a00000-0000-7000-8000-000000000000'), key);
    await page.reload();
    await page.waitForSelector('html[data-ready=true]');
    await widget().locator('.fd-bubble').click();
    await poll(async () => { const v = await page.evaluate((k) => sessionStorage.getItem(k), key); return v && v !== '01a00000-0000-7000-8000-000000000000' && v !== id; }, { what: 'a new conversation' });
    await widget().locator('.fd-msg-assistant').first().waitFor();
    await page.keyboard.press('Escape');
  });

  await check('the chat handles restart, 409 conversation-busy, 429 Retry-After, a stream error and a JSON answer (mocked)', async () => {
    const mock = await context.newPage();
    const cors = { 'access-control-allow-origin': DEMO_ORIGIN, 'access-control-expose-headers': 'retry-after, etag, x-request-id' };
    const sse = (evs) => evs.map(([e, d]) => `event: ${e}\ndata: ${JSON.stringify(d)}\n\n`).join('');
    const problem = (status, type, detail) => JSON.stringify({ type: `urn:frontdesk:problem:${type}`, title: 'x', status, detail });
    const answers = [
      { status: 200, contentType: 'text/event-stream', body: `: keep-alive\n\n${sse([['token', { text: 'The model' }], ['token', { text: ' started' }], ['restart', {}], ['token', { text: 'Built-in' }], ['reply', { text: 'Built-in answer.', intent: 'question', parts: [], engine: 'builtin' }]])}` },
      { status: 409, contentType: 'application/problem+json', body: problem(409, 'conversation-busy', 'busy') },
      { status: 429, contentType: 'application/problem+json', body: problem(429, 'rate-limited', 'slow down'), headers: { 'retry-after': '7' } },
      { status: 200, contentType: 'text/event-stream', body: sse([['token', { text: 'Half' }], ['error', { status: 503, detail: 'The assistant could not answer in time; please try again.' }]]) },
      { status: 200, contentType: 'application/json', body: JSON.stringify({ text: 'A JSON answer.', intent: 'question', parts: [{ type: 'sources', items: [{ kind: 'post', title: 'A post', path: '/v1/posts/a-post' }] }], engine: 'llm' }) },
    ];
    let n = 0;
    await mock.route((url) => url.href.startsWith(`${API}/v1/assistant/conversations/`) && url.pathname.endsWith('/messages'), async (route) => {
      if (route.request().method() === 'OPTIONS') { await route.fulfill({ status: 204, headers: { ...cors, 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type' } }); return; }
      const a = answers[Math.min(n++, answers.length - 1)];
      await route.fulfill({ status: a.status, contentType: a.contentType, body: a.body, headers: { ...cors, ...(a.headers || {}) } });
    });
    try {
      await mock.goto(demoUrl);
      await mock.waitForSelector('html[data-ready=true]');
      const w = mock.locator('#frontdesk-widget');
      await w.locator('.fd-bubble').click();
      await w.locator('.fd-msg-assistant').first().waitFor();
      const say = async (text) => {
        const count = await w.locator('.fd-msg-assistant').count();
        await w.getByLabel('Your message').fill(text);
        await w.getByLabel('Your message').press('Enter');
        await poll(async () => (await w.locator('.fd-msg-assistant').count()) > count && !(await w.locator('.fd-typing').count()), { what: `an answer to ${text}` });
        return w.locator('.fd-msg-assistant').last();
      };
      let m = await say('one');
      assert((await m.locator('.fd-text').innerText()) === 'Built-in answer.', `after a restart: ${await m.innerText()}`);
      const restarts = await mock.evaluate(() => window.__fd.events.filter((e) => e.type === 'restart').length);
      assert(restarts === 1, 'no restart event');
      m = await say('two');
      assert(/still answering your previous message/.test(await m.innerText()), `409 busy shown as: ${await m.innerText()}`);
      assert(await w.getByLabel('Your message').inputValue() === 'two', 'the busy message was not given back to resend');
      m = await say('three');
      assert(/try again in 7 seconds/.test(await m.innerText()), `429 shown as: ${await m.innerText()}`);
      m = await say('four');
      assert(/could not answer in time/.test(await m.innerText()), `the error event shown as: ${await m.innerText()}`);
      m = await say('five');
      assert((await m.locator('.fd-text').innerText()) === 'A JSON answer.' && await m.getAttribute('data-engine') === 'llm', 'the JSON answer is not shown');
      assert((await m.locator('.fd-sources a').getAttribute('href')).includes('post=a-post'), 'the source does not link to the host page');
    } finally { await mock.close(); }
  });

  await check('the consultation form shows each field error, then makes exactly one lead from a double click', async () => {
    const form = page.locator('[data-frontdesk=consultation]');
    await form.getByLabel('Email').fill('not-an-email');
    await form.getByRole('button', { name: 'Request a consultation' }).click();
    await form.locator('.fd-alert').waitFor();
    const fields = ['first_name', 'last_name', 'email', 'message', 'consent'];
    const shown = await page.evaluate((names) => {
      const root = document.querySelector('[data-frontdesk=consultation]').shadowRoot;
      return names.map((n) => {
        const c = root.querySelector(`[name=${n}]`);
        const id = c.getAttribute('aria-describedby');
        const e = id && root.getElementById(id);
        return { n, invalid: c.getAttribute('aria-invalid'), text: e && !e.hidden ? e.textContent : '', beside: !!(e && c.closest('.fd-field').contains(e)) };
      });
    }, fields);
    for (const f of shown) assert(f.invalid === 'true' && f.text && f.beside, `no error shown beside ${f.n}: ${JSON.stringify(f)}`);
    const email = `grace.${RUN}@example.com`;
    await form.getByLabel('First name').fill('Grace');
    await form.getByLabel('Last name').fill('Hopper');
    await form.getByLabel('Email').fill(email);
    await form.getByLabel('How can we help?').fill('We need a partner to rebuild our customer portal.');
    await form.getByLabel(/store these details/).check();
    consultationPosts = 0;
    await form.getByRole('button', { name: 'Request a consultation' }).dblclick();
    await form.locator('.fd-done').waitFor();
    assert(!(await form.locator('.fd-field [aria-invalid=true]').count()), 'errors stayed');
    await sleep(500);
    const leads = listOf(await request(`/v1/admin/leads?q=${encodeURIComponent(email)}`, { token }), 'GET /v1/admin/leads');
    assert(leads.length === 1 && leads[0].kind === 'consultation', `${leads.length} leads for ${email}, not one`);
    assert(consultationPosts >= 1, 'no POST was seen');
    console.log(`    (${consultationPosts} POST /v1/consultations sent for the double click)`);
  });

  await check('the booking picker books a call in the visitor\'s zone, asking the call type\'s questions', async () => {
    const picker = page.locator('[data-frontdesk=booking]');
    await picker.getByRole('radio', { name: new RegExp(CALL.name) }).check();
    await picker.getByText('Times shown in Europe/Berlin.').waitFor();
    await picker.locator('.fd-day .fd-slot').first().click();
    await picker.getByLabel('First name').fill('Grace');
    await picker.getByLabel('Last name').fill('Hopper');
    await picker.getByLabel('Email').fill(`grace.${RUN}@example.com`);
    await picker.getByLabel(/store these details/).check();
    // The required question and the phone (the host calls) are asked, and checked by the API.
    await picker.getByRole('button', { name: 'Book this call' }).click();
    await picker.locator('.fd-alert').waitFor();
    for (const n of ['answers.company', 'phone']) {
      assert(await picker.locator(`[name="${n}"][aria-invalid=true]`).count() === 1, `no error beside ${n}`);
    }
    await picker.getByLabel('Your company').fill('Navy Labs');
    await picker.getByLabel('Project stage').selectOption('Running');
    await picker.getByLabel('Phone number to call you on').fill('+49 30 1234 5678');
    await picker.getByRole('button', { name: 'Book this call' }).click();
    await picker.locator('.fd-booked').waitFor();
    const booked = (await events('booking')).pop().detail;
    assert(booked.booking.call_type === CALL.slug && booked.booking.time_zone === 'Europe/Berlin', JSON.stringify(booked.booking));
    const answers = Object.fromEntries(booked.booking.answers.map((a) => [a.id, a.answer]));
    assert(answers.company === 'Navy Labs' && answers.stage === 'Running', JSON.stringify(booked.booking.answers));
    assert(booked.booking.location && booked.booking.location.phone === '+49 30 1234 5678', JSON.stringify(booked.booking.location));
    assert(/calls you on \+49 30 1234 5678/.test(await picker.locator('.fd-where').innerText()), 'the booked card says where');
    assert(await picker.getByRole('link', { name: 'Move or cancel this call' }).count() === 1, 'no manage link');
  });

  await check('the plan form lists every field error, and the newsletter signup is accepted', async () => {
    const plan = page.locator('[data-frontdesk=plan]');
    await plan.getByRole('button', { name: 'Send plan request' }).click();
    await plan.locator('.fd-alert').waitFor();
    for (const n of ['name', 'email', 'company', 'project_type', 'budget_range', 'timeline', 'description', 'consent']) {
      assert(await plan.locator(`[name=${n}][aria-invalid=true]`).count() === 1, `no error on the plan form's ${n}`);
    }
    const news = page.locator('[data-frontdesk=newsletter]');
    await news.getByLabel('Email').fill(`reader.${RUN}@example.com`);
    await news.getByLabel(/receive the newsletter/).check();
    await news.getByRole('button', { name: 'Subscribe' }).click();
    await news.locator('.fd-done').waitFor();
  });

  await check('CORS: an unlisted origin is refused by the browser, a listed one works, preflights are cached', async () => {
    const probe = async (p) => p.evaluate(async (api) => {
      const out = {};
      try { const r = await fetch(`${api}/v1/site`); out.get = `status ${r.status}`; } catch (e) { out.get = `rejected ${e.name}`; }
      try { const r = await fetch(`${api}/v1/newsletter/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }); out.post = `status ${r.status}`; } catch (e) { out.post = `rejected ${e.name}`; }
      return out;
    }, API);
    const other = await context.newPage();
    try {
      await other.goto(`${OTHER_ORIGIN}/`);
      const refused = await probe(other);
      assert(refused.get === 'rejected TypeError' && refused.post === 'rejected TypeError', `from ${OTHER_ORIGIN}: ${JSON.stringify(refused)}`);
    } finally { await other.close(); }
    const allowed = await probe(page);
    assert(allowed.get === 'status 200' && allowed.post === 'status 422', `from ${DEMO_ORIGIN}: ${JSON.stringify(allowed)}`);
    const pre = await fetch(`${API}/v1/consultations`, { method: 'OPTIONS', headers: { origin: DEMO_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,idempotency-key' }, signal: AbortSignal.timeout(10000) });
    assert(pre.status < 300, `the preflight answered ${pre.status}`);
    assert(pre.headers.get('access-control-allow-origin') === DEMO_ORIGIN, `preflight allow-origin: ${pre.headers.get('access-control-allow-origin')}`);
    assert(/idempotency-key/i.test(pre.headers.get('access-control-allow-headers') || ''), 'Idempotency-Key is not an allowed header');
    const age = Number(pre.headers.get('access-control-max-age'));
    assert(age > 0, `no Access-Control-Max-Age on the preflight (${pre.headers.get('access-control-max-age')})`);
    const nope = await fetch(`${API}/v1/consultations`, { method: 'OPTIONS', headers: { origin: OTHER_ORIGIN, 'access-control-request-method': 'POST' }, signal: AbortSignal.timeout(10000) });
    assert(!nope.headers.get('access-control-allow-origin'), `the unlisted origin got allow-origin ${nope.headers.get('access-control-allow-origin')}`);
    const exposed = (await fetch(`${API}/v1/site`, { headers: { origin: DEMO_ORIGIN }, signal: AbortSignal.timeout(10000) })).headers.get('access-control-expose-headers') || '';
    assert(/retry-after/i.test(exposed), `Retry-After is not exposed to the widget (${exposed})`);
  });

  const servedDemo = await fetch(`${API}/demo/`, { signal: AbortSignal.timeout(10000) }).catch(() => null);
  if (servedDemo && servedDemo.status === 200) {
    await check('GET /demo/ from the binary works on its own origin (under its headers, CSP included)', async () => {
      assert(/text\/html/.test(servedDemo.headers.get('content-type') || ''), `content-type ${servedDemo.headers.get('content-type')}`);
      const own = await context.newPage();
      const errors = [];
      own.on('pageerror', (e) => errors.push(e.message));
      own.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text()); });
      try {
        await own.goto(`${API}/demo/`);
        await own.waitForSelector('html[data-ready=true]');
        await own.locator('h1').waitFor();
        await own.locator('#frontdesk-widget .fd-bubble').waitFor();
        await own.locator('[data-frontdesk=consultation] form').waitFor();
        assert(!errors.length, errors.join('\n'));
      } finally { await own.close(); }
    });
  } else {
    console.log(`    note: ${API}/demo/ answered ${servedDemo ? servedDemo.status : 'nothing'}; not checked`);
  }

  await check('one script tag with data attributes: parts, accent, greeting, and host CSS cannot reach inside', async () => {
    const one = await context.newPage();
    const errors = [];
    one.on('pageerror', (e) => errors.push(e.message));
    one.on('console', (m) => { if (m.type() === 'error' && /Content.Security.Policy/i.test(m.text())) errors.push(m.text()); });
    try {
      await one.goto(`${DEMO_ORIGIN}/embed.html`);
      const w = one.locator('#frontdesk-widget');
      const bubble = w.locator('.fd-bubble');
      await bubble.waitFor();
      const look = await bubble.evaluate((b) => { const c = getComputedStyle(b); return { bg: c.backgroundColor, fg: c.color, border: c.borderTopStyle }; });
      assert(look.bg === 'rgb(255, 204, 0)', `the bubble is ${look.bg}, not the accent`);
      assert(look.fg === 'rgb(17, 17, 17)', `text on a light accent is ${look.fg}, not dark`);
      assert(look.border !== 'dotted', 'the host page\'s CSS reached the bubble');
      await one.locator('[data-frontdesk=newsletter]').getByRole('button', { name: 'Subscribe' }).waitFor();
      const font = await one.locator('[data-frontdesk=newsletter]').getByRole('button', { name: 'Subscribe' }).evaluate((b) => getComputedStyle(b).fontSize);
      assert(font !== '40px', 'the host page\'s CSS reached the newsletter form');
      assert(await one.evaluate(() => !document.getElementById('ignored').shadowRoot), 'a part not in data-parts was mounted');
      await bubble.click();
      await poll(async () => (await w.locator('.fd-msg-assistant .fd-text').first().innerText().catch(() => '')) === 'Hello from the one-tag embed!', { what: 'the data-greeting' });
      assert(!errors.length, errors.join('\n'));
    } finally { await one.close(); }
  });

  await check('no uncaught errors and no Content-Security-Policy violations on the page', async () => { assert(!pageErrors.length, pageErrors.join('\n')); });
}

let crashed = null;
try {
  await main();
} catch (err) {
  crashed = err;
  console.log(`not ok - ${current || 'set-up'}: ${err instanceof CheckError ? err.message : (err && err.stack) || err}`);
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
const failed = results.filter((r) => !r.ok).length + (crashed ? 1 : 0);
const passed = results.filter((r) => r.ok).length;
console.log(`\nscreenshots: ${OUT}`);
console.log(`${passed} passed, ${failed} failed`);
if (failed) console.error(`FAIL: ${failed} browser check(s) failed (see "not ok" above)`);
process.exit(failed ? 1 : 0);
