# Helpers shared by the service scripts. Sourced by scripts/test, and first
# by anyone starting one service by hand.

# Where the servers the scripts install and start keep their files.
: "${SESSION_SERVICES_DIR:=/var/tmp/session-stores-services}"

wait_for() { # seconds, description, command...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq $((seconds * 10))); do
    "$@" && return 0
    sleep 0.1
  done
  echo "FAILED: $what (waited ${seconds}s)" >&2
  return 1
}

# Installs the npm packages pinned by scripts/services/NAME/package-lock.json
# into DEST (once, and again whenever the lock file changes), installing
# Debian's nodejs and npm first if they are missing.
npm_install_pinned() { # name, dest, description
  local source_dir
  source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$1"
  command -v node >/dev/null && command -v npm >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  }
  mkdir -p "$2"
  if ! cmp -s "$source_dir/package-lock.json" "$2/package-lock.json" || [ ! -d "$2/node_modules" ]; then
    echo "installing $3 from npm" >&2
    cp "$source_dir/package.json" "$source_dir/package-lock.json" "$2/"
    # Native add-ons (sqlite3) build against the headers Node ships in
    # /usr/include/node: node-gyp would fetch them from nodejs.org, which
    # this machine cannot reach.
    local nodedir="${npm_config_nodedir:-}"
    [ -z "$nodedir" ] && [ -d /usr/include/node ] && nodedir=/usr
    (cd "$2" && npm_config_nodedir="$nodedir" npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}
