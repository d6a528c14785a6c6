# Sourced by bench/run and bench/verify: brings up the servers the benchmark
# needs (as the test command does) and exports their URLs.
: "${SESSION_SERVICES_DIR:=/var/tmp/session-stores-services}"
source scripts/services/common.sh
source scripts/services/redis.sh
source scripts/services/sql.sh
source scripts/services/couch.sh
ensure_redis
ensure_postgres
ensure_mariadb
ensure_couch
# A database of its own: a full run leaves hundreds of thousands of keys
# behind for an hour, and the stores' tests SCAN database 0.
export REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/15}"
export POSTGRES_URL="${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
export MYSQL_URL="${MYSQL_URL:-mysql://root@127.0.0.1:3306/test}"
export COUCH_URL="${COUCH_URL:-http://127.0.0.1:5984}"
