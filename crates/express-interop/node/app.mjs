// The Express side of the interop tests: express-session with a Node store,
// and the same few routes the Rust side serves. Started by the Rust tests.
//
//   NODE_PATH-free: run from a directory whose node_modules holds the pinned
//   packages (scripts/services/express); the tests pass EXPRESS_PEERS_DIR.
//
// Environment: PORT, SECRETS (comma-separated; the first signs), MAX_AGE_MS,
// and STORE with its own settings:
//   connect-redis              REDIS_URL, PREFIX
//   connect-pg-simple          DATABASE_URL (postgres://), TABLE (default session),
//                              TIME_ZONE (the connections' TimeZone; default: the database's)
//   connect-session-sequelize  DATABASE_URL (postgres://, mariadb://, mysql://
//                              or sqlite:/path/file.db), TABLE (default Sessions),
//                              TIME_ZONE (Sequelize's `timezone` option, e.g. +09:00)
//   session-pouchdb-store      COUCH_DB_URL (the database, http://host:5984/db)
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const peers = process.env.EXPRESS_PEERS_DIR;
const require = createRequire(path.join(peers, 'package.json'));
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
    case 'connect-pg-simple': {
      const PgStore = require('connect-pg-simple')(session);
      const { Pool } = require('pg');
      const pool = new Pool({ connectionString: process.env.DATABASE_URL });
      // As an app whose connections run in a zone of their own (a role's
      // setting, or options: '-c TimeZone=...'): every connection sets it first.
      const zone = process.env.TIME_ZONE;
      if (zone) pool.on('connect', (client) => client.query(`SET TimeZone = '${zone}'`));
      const table = process.env.TABLE || 'session';
      // Not the store's createTableIfMissing: it renames only the table in
      // table.sql, so a second table clashes on "session_pkey", and two apps
      // starting at once race, and the store keeps failing after either. Here:
      // the same table.sql with every name from TABLE, once, under a lock.
      const ddl = fs.readFileSync(path.join(peers, 'node_modules/connect-pg-simple/table.sql'), 'utf8');
      await pool.query(`SELECT pg_advisory_xact_lock(hashtext('${table}'));
        DO $$ BEGIN IF to_regclass('"${table}"') IS NULL THEN
        ${ddl.replaceAll('session', table)} END IF; END $$`);
      // No pruning: the tests decide when rows expire and look at them.
      return new PgStore({ pool, tableName: table, pruneSessionInterval: false });
    }
    case 'connect-session-sequelize': {
      const { Sequelize } = require('sequelize');
      const url = process.env.DATABASE_URL;
      // Sequelize takes the dialect from the scheme and cannot parse
      // sqlite:/path; mysql:// goes through the mariadb driver, the one pinned.
      const timezone = process.env.TIME_ZONE ? { timezone: process.env.TIME_ZONE } : {};
      const db = url.startsWith('sqlite:')
        ? new Sequelize({ dialect: 'sqlite', storage: url.replace(/^sqlite:(\/\/)?/, ''), logging: false, ...timezone })
        : new Sequelize(url.replace(/^mysql:/, 'mariadb:'), { logging: false, ...timezone });
      const SequelizeStore = require('connect-session-sequelize')(session.Store);
      // The sweep of expired rows is effectively off (2^31-1 ms is setInterval's
      // maximum; anything larger fires every millisecond).
      const store = new SequelizeStore({
        db,
        tableName: process.env.TABLE || 'Sessions',
        checkExpirationInterval: 2 ** 31 - 1,
      });
      await store.sync();
      return store;
    }
    case 'session-pouchdb-store': {
      // 0.4.1's destroy() awaits get(), which answers only through its
      // callback, so it removes `undefined` and every logout and regenerate
      // fails with a TypeError. The same steps (drop the cached copy, remove
      // the document), the document read from the database: the cached
      // copy's revision may be behind another process's write. An unknown
      // sid is no error.
      class PouchStore extends require('session-pouchdb-store') {
        destroy(sid, cb) {
          delete this.sessions[sid];
          this.pouch.get(sid).then(
            (doc) => this.pouch.remove(doc).then(() => cb(), cb),
            (err) => (err.status === 404 ? cb() : cb(err)),
          );
        }
      }
      // A URL string: the store opens it with its own PouchDB (an instance
      // made here fails inside it). Writes reach CouchDB on a 1 s commit timer.
      return new PouchStore(process.env.COUCH_DB_URL);
    }
    default:
      throw new Error(`unknown STORE ${process.env.STORE}`);
  }
}

// session-pouchdb-store cannot hold an id starting with `_` (CouchDB
// reserves them; its commit rejects and the process ends), and one
// express-session id in 64 does: make ids without, as the Rust side does
// with session_couch::node_shareable_id.
const shareableId = () => {
  for (;;) {
    const id = randomBytes(24).toString('base64url');
    if (!id.startsWith('_')) return id;
  }
};

const app = express();
// Behind a proxy on 127.0.0.1, as a deployment behind TLS is: a request that
// says `X-Forwarded-Proto: https` is secure, so express-session sends a
// session's Secure cookie on it (over plain http it sends none).
app.set('trust proxy', 'loopback');
app.use(session({
  store: await store(),
  ...(process.env.STORE === 'session-pouchdb-store' && { genid: shareableId }),
  secret: process.env.SECRETS.split(','),
  resave: false,
  saveUninitialized: false,
  cookie: { maxAge: Number(process.env.MAX_AGE_MS || 3600000) },
}));

// Who is logged in, every key of the session but the cookie, and the
// cookie's expiry and own lifetime (ms; null for a browser-session cookie).
app.get('/whoami', (req, res) => {
  const { cookie, ...data } = req.session;
  res.json({
    user: req.session.user ?? null,
    data,
    expires: cookie.expires ?? null,
    originalMaxAge: cookie.originalMaxAge ?? null,
  });
});

// Log in: a new id (express-session's regenerate), then the user. With
// maxAge=MS the session gets a lifetime of its own (express-session's
// `req.session.cookie.maxAge = MS`); maxAge=null makes its cookie last for
// the browser session (`req.session.cookie.maxAge = null`).
app.post('/login', (req, res, next) => {
  const user = String(req.query.user);
  const { maxAge } = req.query;
  if (maxAge !== undefined && maxAge !== 'null' && !Number.isFinite(Number(maxAge))) {
    return res.status(400).json({ error: 'maxAge: milliseconds or null' });
  }
  const start = () => {
    if (maxAge === 'null') req.session.cookie.maxAge = null;
    else if (maxAge !== undefined) req.session.cookie.maxAge = Number(maxAge);
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
