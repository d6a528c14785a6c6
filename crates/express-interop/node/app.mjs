// The Express side of the interop tests: express-session with a Node store,
// and the same few routes the Rust side serves. Started by the Rust tests.
//
//   NODE_PATH-free: run from a directory whose node_modules holds the pinned
//   packages (scripts/services/express); the tests pass EXPRESS_PEERS_DIR.
//
// Environment: PORT, STORE (connect-redis), REDIS_URL, PREFIX, SECRETS
// (comma-separated; the first signs), MAX_AGE_MS.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.EXPRESS_PEERS_DIR, 'package.json'));
const express = require('express');
const session = require('express-session');

async function store() {
  switch (process.env.STORE) {
    case 'connect-redis': {
      const { RedisStore } = require('connect-redis');
      const { createClient } = require('redis');
      const client = createClient({ url: process.env.REDIS_URL });
      await client.connect();
      return new RedisStore({ client, prefix: process.env.PREFIX });
    }
    default:
      throw new Error(`unknown STORE ${process.env.STORE}`);
  }
}

const app = express();
app.use(session({
  store: await store(),
  secret: process.env.SECRETS.split(','),
  resave: false,
  saveUninitialized: false,
  cookie: { maxAge: Number(process.env.MAX_AGE_MS || 3600000) },
}));

// Who is logged in, and every key of the session but the cookie.
app.get('/whoami', (req, res) => {
  const { cookie, ...data } = req.session;
  res.json({ user: req.session.user ?? null, data, expires: cookie.expires ?? null });
});

// Log in: a new id (express-session's regenerate), then the user.
app.post('/login', (req, res, next) => {
  const user = String(req.query.user);
  const start = () => {
    req.session.user = user;
    req.session.save((err) => (err ? next(err) : res.json({ user })));
  };
  // regenerate() would destroy a session never stored; only rotate a real one.
  if (req.session.user === undefined) return start();
  req.session.regenerate((err) => (err ? next(err) : start()));
});

app.post('/set', (req, res) => {
  req.session[String(req.query.key)] = String(req.query.value);
  res.json({ ok: true });
});

app.post('/logout', (req, res, next) => {
  req.session.destroy((err) => (err ? next(err) : res.json({ ok: true })));
});

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
