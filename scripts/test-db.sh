#!/usr/bin/env bash
# A throwaway PostgreSQL for a test run that ./platform test did not start (dotnet test from an IDE or the command line).
# The test fixture (tests/Platform.Tests/DatabaseFixture.cs) calls it; it uses the same functions as ./platform test.
#   scripts/test-db.sh start DIR   creates DIR/pg, starts it on a free loopback port, creates the roles and the database;
#                                  prints PORT=, DATABASE=, OWNER_PASSWORD=, APP_PASSWORD=, SOCKET= and BIN= lines
#   scripts/test-db.sh stop DIR    stops that cluster and deletes DIR
#   scripts/test-db.sh pause DIR   stops that cluster (fast shutdown) and keeps DIR: a database outage for the fault tests
#   scripts/test-db.sh resume DIR PORT   starts it again on the same port
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/pg.sh
source "$ROOT/scripts/pg.sh"

secret() { head -c 24 /dev/urandom | base64 | tr -d '\n=' | tr '+/' '-_'; }

case "${1:-}" in
  start)
    dir=${2:?usage: test-db.sh start DIR}
    mkdir -p "$dir"
    # The cluster runs as the postgres system user when we are root: it must reach its folder.
    chmod 755 "$dir"
    owner_pw=$(secret); app_pw=$(secret)
    port=$(pg_test_start "$dir/pg" platform_test "$owner_pw" "$app_pw" "$ROOT")
    printf 'PORT=%s\nDATABASE=platform_test\nOWNER_PASSWORD=%s\nAPP_PASSWORD=%s\nSOCKET=%s\nBIN=%s\n' \
      "$port" "$owner_pw" "$app_pw" "$dir/pg" "$(pg_bindir)"
    ;;
  stop)
    dir=${2:?usage: test-db.sh stop DIR}
    [[ -d "$dir/pg" ]] && pg_stop "$dir/pg"
    rm -rf "$dir"
    ;;
  pause)
    dir=${2:?usage: test-db.sh pause DIR}
    pg_stop "$dir/pg"
    ;;
  resume)
    dir=${2:?usage: test-db.sh resume DIR PORT}
    pg_start "$dir/pg" "${3:?usage: test-db.sh resume DIR PORT}"
    ;;
  *)
    echo "usage: scripts/test-db.sh start|stop|pause DIR, resume DIR PORT" >&2
    exit 2
    ;;
esac
