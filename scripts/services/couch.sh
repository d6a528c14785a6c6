# A CouchDB-compatible test server: express-pouchdb (PouchDB Server's core)
# over in-memory PouchDB, installed from npm, on 127.0.0.1. Sourced by
# scripts/test.
#
#   ensure_couch   answers on 127.0.0.1:5984 (installed and started if needed)

COUCH_PORT=5984
COUCH_DIR="$SESSION_SERVICES_DIR/couch"

couch_answers() {
  curl -fsS "http://127.0.0.1:$COUCH_PORT/" 2>/dev/null | grep -q '"express-pouchdb"'
}

ensure_couch() {
  # Installed even when a server already answers: tests start servers of
  # their own from these files.
  npm_install_pinned couch "$COUCH_DIR" "the CouchDB-compatible test server"
  cp "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/couch/server.js" "$COUCH_DIR/"
  couch_answers && return
  echo "starting the CouchDB-compatible test server on 127.0.0.1:$COUCH_PORT" >&2
  (cd "$COUCH_DIR" && nohup node server.js "$COUCH_PORT" "$COUCH_DIR" >"$COUCH_DIR/server.log" 2>&1 & echo $! >"$COUCH_DIR/server.pid")
  wait_for 30 "the CouchDB-compatible server on 127.0.0.1:$COUCH_PORT answers" couch_answers
}
