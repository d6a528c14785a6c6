// One person in a real browser (headless Chromium), moving between an
// Express app and a Rust app that share a store: log in on Express, be
// logged in on Rust; write on Rust, read on Express; log out on Rust, be
// logged out on Express; log in on Rust, log out on Express. The cookie is
// the browser's own: set by one app, sent to the other (cookies are not
// scoped by port). Started by tests/browser.rs, once per pairing.
//
//   NODE_APP=http://127.0.0.1:P RUST_APP=http://127.0.0.1:Q PAIRING=name \
//   PLAYWRIGHT_DIR=... ARTIFACTS_DIR=... node browser.mjs
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.PLAYWRIGHT_DIR, 'package.json'));
const { chromium } = require('playwright-core');

const apps = { express: process.env.NODE_APP, rust: process.env.RUST_APP };
const pairing = process.env.PAIRING;
const artifacts = process.env.ARTIFACTS_DIR || 'artifacts/e2e';
mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
});
let step = 0;
try {
  const page = await (await browser.newContext()).newPage();

  // Who the app at `side` says is logged in, as the page shows it.
  const whoami = async (side) => {
    await page.goto(`${apps[side]}/whoami`);
    return JSON.parse(await page.innerText('body'));
  };
  // A form-less POST from the app's own page, as a script on it would.
  const post = async (side, route) => {
    await page.goto(`${apps[side]}/whoami`);
    const status = await page.evaluate(async (r) => (await fetch(r, { method: 'POST' })).status, route);
    if (status !== 200) throw new Error(`POST ${route} on ${side}: ${status}`);
  };
  // Polls until `side` shows `expected` for `field` (Node stores may lag).
  const expect = async (side, field, expected, what) => {
    const deadline = Date.now() + 10000;
    for (;;) {
      const seen = await whoami(side);
      const value = field.split('.').reduce((v, k) => (v == null ? v : v[k]), seen);
      if (value === expected) break;
      if (Date.now() > deadline) {
        throw new Error(`${pairing}: ${what}: ${side} shows ${field} = ${JSON.stringify(value)}, not ${expected}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    step += 1;
    await page.screenshot({ path: `${artifacts}/interop-${pairing}-${step}-${side}.png` });
  };

  await post('express', '/login?user=ada');
  await expect('rust', 'user', 'ada', 'login on Express');
  const cookies = await page.context().cookies();
  const sid = cookies.find((c) => c.name === 'connect.sid');
  if (!sid || !decodeURIComponent(sid.value).startsWith('s:')) {
    throw new Error(`${pairing}: the browser holds no signed connect.sid: ${JSON.stringify(cookies)}`);
  }
  await post('rust', '/set?key=color&value=blue');
  await expect('express', 'data.color', 'blue', 'a write on Rust');
  await post('rust', '/logout');
  await expect('express', 'user', null, 'logout on Rust');
  await post('rust', '/login?user=bob');
  await expect('express', 'user', 'bob', 'login on Rust');
  await post('express', '/logout');
  await expect('rust', 'user', null, 'logout on Express');
  console.log(`${pairing}: ${step} steps passed in Chromium`);
} finally {
  await browser.close();
}
