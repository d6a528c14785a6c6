// End-to-end: two demo processes share one store; a person logs in on the
// first, sees the session on the second's admin page, logs out on the first,
// and sees it gone on the second. Once on Redis, once on CouchDB (with the
// synced cache). Screenshots go to $ARTIFACTS_DIR. What the demos stored
// is removed afterwards (redis-cli for Redis).
//
//   DEMO_BIN=... REDIS_URL=... COUCH_URL=... PLAYWRIGHT_DIR=... node browser.mjs
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';

const require = createRequire(path.join(process.env.PLAYWRIGHT_DIR, 'package.json'));
const { chromium } = require('playwright-core');

const demoBin = process.env.DEMO_BIN;
const artifacts = process.env.ARTIFACTS_DIR || 'artifacts/e2e';
mkdirSync(artifacts, { recursive: true });
const backends = [
  ['redis', process.env.REDIS_URL || 'redis://127.0.0.1:6379'],
  ['couchdb', process.env.COUCH_URL || 'http://127.0.0.1:5984'],
];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function startDemo(store) {
  const port = await freePort();
  const adminToken = randomBytes(18).toString('base64url');
  const child = spawn(demoBin, ['--store', store, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, DEMO_ADMIN_TOKEN: adminToken },
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const deadline = Date.now() + 20000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the demo exited: ${stderr}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/`);
      if (response.ok) return { child, base: `http://127.0.0.1:${port}`, adminToken };
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`the demo did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The demo's fixed namespace on each shared server: its Redis keys are
// "demo: <id>" (the prefix, a space, the id), its CouchDB database
// demo_sessions.
async function removeDemoSessions(name, store) {
  if (name === 'redis') {
    const keys = execFileSync('redis-cli', ['-u', store, '--scan', '--pattern', 'demo: *'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    if (keys.length > 0) execFileSync('redis-cli', ['-u', store, 'del', ...keys], { stdio: 'ignore' });
  } else {
    const response = await fetch(`${store}/demo_sessions`, { method: 'DELETE' });
    if (!response.ok && response.status !== 404) throw new Error(`DELETE demo_sessions: ${response.status}`);
  }
}

async function usersOnAdmin(page) {
  return page.$$eval('#sessions td.user', (cells) => cells.map((c) => c.textContent.trim()));
}

async function expect(what, condition) {
  if (!(await condition())) throw new Error(what);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});
let passed = 0;
let failed = 0;
for (const [name, store] of backends) {
  const demos = [];
  try {
    demos.push(await startDemo(store), await startDemo(store));
    const [first, second] = demos;
    const user = `ada-${name}-${Date.now()}`;
    const person = await (await browser.newContext()).newPage();
    const admin = await (await browser.newContext()).newPage();

    await person.goto(`${first.base}/`);
    await person.fill('#name', user);
    await person.click('#login');
    await person.waitForSelector('#logout');
    await expect(`${name}: logged in as ${user}`, async () => (await person.textContent('#user')).includes(user));
    await expect(`${name}: the page names its store's kind`, async () => (await person.textContent('#store')).includes(name === 'redis' ? 'Redis' : 'Couch'));
    await expect(`${name}: the page names no server address`, async () => !(await person.textContent('#store')).includes('127.0.0.1'));
    await person.screenshot({ path: `${artifacts}/${name}-1-logged-in-on-first.png` });

    const locked = await admin.goto(`${second.base}/admin`);
    await expect(`${name}: the admin page is locked without the token`, async () => locked.status() === 401);
    await admin.goto(`${second.base}/admin?token=${second.adminToken}`);
    await expect(`${name}: the token is dropped from the address`, async () => admin.url() === `${second.base}/admin`);
    await expect(`${name}: the second process lists ${user}`, async () => (await usersOnAdmin(admin)).includes(user));
    await admin.screenshot({ path: `${artifacts}/${name}-2-listed-on-second.png` });

    await person.click('#logout');
    await person.waitForSelector('#login');
    await person.screenshot({ path: `${artifacts}/${name}-3-logged-out-on-first.png` });
    await admin.reload();
    await expect(`${name}: the second process no longer lists ${user}`, async () => !(await usersOnAdmin(admin)).includes(user));
    await admin.screenshot({ path: `${artifacts}/${name}-4-gone-on-second.png` });
    console.log(`ok ${name}: log in on one process, seen and then gone on the other`);
    passed += 1;
  } catch (error) {
    console.error(`FAILED ${name}: ${error.message}`);
    failed += 1;
  } finally {
    // Stopped first, so that nothing is written after the removal.
    await Promise.all(demos.map(({ child }) => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', resolve).kill();
    })));
    try {
      await removeDemoSessions(name, store);
    } catch (error) {
      console.error(`FAILED ${name}: removing the demo's sessions: ${error.message}`);
      failed += 1;
    }
  }
}
await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
