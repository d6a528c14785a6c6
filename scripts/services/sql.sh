# PostgreSQL and MariaDB for the tests, on 127.0.0.1. Sourced by scripts/test.
#
#   ensure_postgres   answers on 127.0.0.1:5432 (started if stopped), database `test`
#   ensure_mariadb    answers on 127.0.0.1:3306 (started if stopped), database `test`
#
# Each also drops the tables a failed earlier test run left in `test` (names
# starting with `sc_`, from the conformance suite, `t_`, from the SQL tests,
# `m_`, from session-migrate's, `tw_`, from session-tower's, or `interop_`,
# from the Express interop tests).

postgres_answers() {
  psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1
}

ensure_postgres() {
  if ! postgres_answers; then
    command -v pg_ctlcluster >/dev/null || {
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    }
    echo "starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    wait_for 30 "PostgreSQL on 127.0.0.1:5432 answers" postgres_answers || return 1
  fi
  psql -h 127.0.0.1 -U postgres -d postgres -Atqc "select 1 from pg_database where datname = 'test'" | grep -q 1 ||
    psql -h 127.0.0.1 -U postgres -d postgres -qc 'create database test'
  psql -h 127.0.0.1 -U postgres -d test -qAt >/dev/null <<'SQL'
DO $$ DECLARE t record; BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND (tablename LIKE 'sc\_%' OR tablename LIKE 't\_%' OR tablename LIKE 'm\_%' OR tablename LIKE 'tw\_%' OR tablename LIKE 'interop\_%') LOOP
    -- CASCADE: a test's child table may reference it (clear_scale's foreign key).
    EXECUTE format('DROP TABLE IF EXISTS public.%I CASCADE', t.tablename);
  END LOOP;
END $$;
SQL
}

mariadb_answers() {
  mariadb -uroot -h127.0.0.1 -e 'select 1' >/dev/null 2>&1
}

ensure_mariadb() {
  if ! mariadb_answers; then
    command -v mariadbd >/dev/null || {
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
    }
    echo "starting MariaDB" >&2
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_for 30 "MariaDB on 127.0.0.1:3306 answers" mariadb_answers || return 1
  fi
  mariadb -uroot -h127.0.0.1 -e 'create database if not exists test'
  local drops
  drops=$(mariadb -uroot -h127.0.0.1 -N -e "select concat('drop table if exists test.\`', table_name, '\`;') from information_schema.tables where table_schema = 'test' and (table_name like 'sc\\_%' or table_name like 't\\_%' or table_name like 'm\\_%' or table_name like 'tw\\_%' or table_name like 'interop\\_%')")
  # Child tables with foreign keys may come in any order.
  [ -z "$drops" ] || mariadb -uroot -h127.0.0.1 test -e "SET FOREIGN_KEY_CHECKS = 0; $drops"
}
