# What the tests leave behind: tables, databases, keys and temporary files,
# counted on the test servers before and after a run so that scripts/test
# fails a run that leaves anything. Sourced by scripts/test (after redis.sh).
#
#   leftovers_snapshot DIR        writes the names found in each place to DIR
#                                 and prints one "place: count" line a place
#   leftovers_compare BEFORE AFTER  prints each place that has new names, how
#                                 many and which; fails if any place has

# What the tests write under the temporary folder (std::env::temp_dir()).
LEFTOVER_TMP="${TMPDIR:-/tmp}"
LEFTOVER_TMP_GLOBS=(
  'session-sql-tests/*' # session-sql's SQLite files
  'express-interop/*'   # express-interop's SQLite files
  'couch-throwaway-*'   # data folders of session-couch's own servers
  'm_*'                 # session-migrate's SQLite files and checkpoints
  'session-migrate-*'   # session-migrate's unit-test checkpoints
  'doc-*.ckpt'          # session-migrate's doc-test checkpoint
)

leftover_places() {
  local port glob
  echo "postgres tables in test"
  echo "postgres databases"
  echo "postgres roles"
  echo "mariadb tables in test"
  echo "mariadb databases"
  echo "redis 6379 keys"
  for port in "${REDIS_CLUSTER_PORTS[@]}"; do echo "redis $port keys"; done
  echo "couch 5984 databases"
  for glob in "${LEFTOVER_TMP_GLOBS[@]}"; do echo "files $LEFTOVER_TMP/$glob"; done
}

leftover_names() { # place: prints the names there, one a line
  local port
  case $1 in
    "postgres tables in test")
      psql -h 127.0.0.1 -U postgres -d test -Atqc "select schemaname || '.' || tablename from pg_tables
        where schemaname not in ('pg_catalog', 'information_schema')" ;;
    "postgres databases")
      psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select datname from pg_database' ;;
    "postgres roles") # a test makes one to log in as
      psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select rolname from pg_roles' ;;
    "mariadb tables in test")
      mariadb -uroot -h127.0.0.1 -N -e "select table_name from information_schema.tables where table_schema = 'test'" ;;
    "mariadb databases")
      mariadb -uroot -h127.0.0.1 -N -e 'show databases' ;;
    "redis "*" keys")
      port=${1#redis }; port=${port% keys}
      # Every logical database: 0 on a cluster node, any on the standalone server.
      local keyspace db
      keyspace=$(redis-cli -h 127.0.0.1 -p "$port" info keyspace)
      for db in $(sed -n 's/^db\([0-9]*\):.*/\1/p' <<<"$keyspace"); do
        redis-cli -h 127.0.0.1 -p "$port" -n "$db" --scan | sed "s|^|db$db/|"
      done ;;
    "couch 5984 databases")
      # Names starting with "_" are the server's own (_users, _replicator).
      curl -fsS http://127.0.0.1:5984/_all_dbs | tr -d '[]"' | tr ',' '\n' | { grep -v '^_' || true; } ;;
    "files "*)
      (shopt -s nullglob; for f in ${1#files }; do echo "$f"; done) ;;
  esac
}

leftovers_snapshot() { # dir
  local place file
  mkdir -p "$1"
  while read -r place; do
    file="$1/${place//[^a-zA-Z0-9]/_}"
    leftover_names "$place" | sort -u >"$file"
    echo "  $place: $(wc -l <"$file")"
  done < <(leftover_places)
}

leftovers_compare() { # before-dir, after-dir
  local place file new grown=0
  while read -r place; do
    file="${place//[^a-zA-Z0-9]/_}"
    # New names, not just a higher count: an old leftover that expired
    # during the run must not hide a new one.
    new=$(comm -13 "$1/$file" "$2/$file")
    [ -n "$new" ] || continue
    grown=1
    echo "LEFT BEHIND: $place grew by $(wc -l <<<"$new")" \
      "($(wc -l <"$1/$file") before, $(wc -l <"$2/$file") after):" >&2
    # Redis keys grouped by their prefix (up to the first ":" or space).
    sed -E 's/([: ]).*/\1*/' <<<"$new" | sort | uniq -c | sort -rn >"$2/$file.new"
    head -n 20 "$2/$file.new" >&2
    [ "$(wc -l <"$2/$file.new")" -le 20 ] || echo "      ... and $(($(wc -l <"$2/$file.new") - 20)) more" >&2
  done < <(leftover_places)
  return "$grown"
}
