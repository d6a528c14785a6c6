// A CouchDB-compatible test server: express-pouchdb over in-memory PouchDB,
// on 127.0.0.1 only. Compression is excluded because it holds back the
// continuous _changes feed from clients that accept gzip.
//
//   node server.js PORT DATA_DIR
'use strict';

const express = require('express');
const expressPouchDB = require('express-pouchdb');
const PouchDB = require('pouchdb-core')
  .plugin(require('pouchdb-adapter-memory'))
  .plugin(require('pouchdb-mapreduce'))
  .plugin(require('pouchdb-replication'))
  .plugin(require('pouchdb-find'));

const port = Number(process.argv[2] || 5984);
const dataDir = process.argv[3] || '.';

const app = express();
app.use('/', expressPouchDB(PouchDB.defaults({ adapter: 'memory' }), {
  mode: 'fullCouchDB',
  overrideMode: { exclude: ['compression'] },
  configPath: `${dataDir}/config.json`,
  logPath: `${dataDir}/log.txt`,
}));
app.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`));
