# Headless Chromium (Debian's) and playwright-core (npm) for the demo's
# browser tests. Sourced by scripts/test.
#
#   ensure_browser   installs both if missing; sets PLAYWRIGHT_DIR

BROWSER_DIR="$SESSION_SERVICES_DIR/browser"

ensure_browser() {
  [ -x /usr/bin/chromium ] || {
    echo "installing Debian's chromium" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  }
  npm_install_pinned browser "$BROWSER_DIR" "playwright-core"
  export PLAYWRIGHT_DIR="$BROWSER_DIR"
}
