# A CouchDB-compatible test server: express-pouchdb (PouchDB Server's core)
# over in-memory PouchDB, installed from npm, on 127.0.0.1. Sourced by
# scripts/test.
#
#   ensure_couch   answers on 127.0.0.1:5984 (installed if needed; started
#                  afresh, empty, unless a server not ours answers there)

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
  # The server keeps every database in memory and tests leave theirs
  # behind; one that has served many runs answers slowly enough to fail
  # timing checks. Each run starts on an empty one: the server an earlier
  # run started (its PID on file) is stopped first. Any other is left alone.
  local recorded pid
  recorded=$(cat "$COUCH_DIR/server.pid" 2>/dev/null || true)
  # (Older runs recorded the shell that started node; node is its child.)
  for pid in $recorded $( [ -n "$recorded" ] && pgrep -P "$recorded" || true); do
    if ps -p "$pid" -o args= 2>/dev/null | grep -q "^node server.js $COUCH_PORT"; then
      echo "restarting the CouchDB-compatible test server (empty, in memory)" >&2
      kill "$pid"
      wait_for 10 "the earlier test server (pid $pid) stops" bash -c "! kill -0 $pid 2>/dev/null"
    fi
  done
  couch_answers && return
  echo "starting the CouchDB-compatible test server on 127.0.0.1:$COUCH_PORT" >&2
  (cd "$COUCH_DIR" && { nohup node server.js "$COUCH_PORT" "$COUCH_DIR" >"$COUCH_DIR/server.log" 2>&1 & echo $! >"$COUCH_DIR/server.pid"; })
  wait_for 30 "the CouchDB-compatible server on 127.0.0.1:$COUCH_PORT answers" couch_answers
}
