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
  local source_dir
  source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/browser"
  mkdir -p "$BROWSER_DIR"
  if ! cmp -s "$source_dir/package-lock.json" "$BROWSER_DIR/package-lock.json" || [ ! -d "$BROWSER_DIR/node_modules" ]; then
    echo "installing playwright-core from npm" >&2
    cp "$source_dir/package.json" "$source_dir/package-lock.json" "$BROWSER_DIR/"
    (cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  export PLAYWRIGHT_DIR="$BROWSER_DIR"
}
