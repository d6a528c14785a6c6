# The pinned npm packages of the Express interop tests (express,
# express-session and the Node stores). Sourced by scripts/test.
#
#   ensure_express_peers   installs them if missing; sets EXPRESS_PEERS_DIR

EXPRESS_PEERS_DIR="$SESSION_SERVICES_DIR/express"

ensure_express_peers() {
  npm_install_pinned express "$EXPRESS_PEERS_DIR" "express, express-session and the Node stores"
  export EXPRESS_PEERS_DIR
}
