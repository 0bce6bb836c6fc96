#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL server, for the platform's
# tests on PostgreSQL (issue 19): Debian's pg_virtualenv makes a new cluster
# in a temporary place, runs the command with PG* variables set, and drops
# the cluster when the command ends, also on failure. The command gets
# HOMEDESK_TEST_POSTGRES, the URL of the cluster's `postgres` database; the
# test harness makes a fresh database per platform from it.
#
# fsync is off: the tests kill platform instances, never the database
# server, so nothing they check depends on it, and each commit is faster.
#
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]
set -euo pipefail

command -v pg_virtualenv >/dev/null || {
  echo "with-postgres: pg_virtualenv is missing; run 'make bootstrap' (it installs Debian's postgresql)" >&2
  exit 1
}
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

# As root, pg_virtualenv makes its cluster system-wide under the fixed name
# "regress" and refuses to start when one exists. A run that was killed (a
# session stopped mid-test) leaves its cluster behind, stopped: drop it, so
# the next run does not fail on a leftover. A running one belongs to a run
# going on now; say so rather than break it.
if [ "$(id -u)" = 0 ]; then
  for conf in /etc/postgresql/*/regress; do
    [ -f "$conf/.by_pg_virtualenv" ] || continue
    version=$(basename "$(dirname "$conf")")
    status=$(pg_lsclusters --no-header | awk -v v="$version" '$1 == v && $2 == "regress" { print $4 }')
    if [ "$status" = online ]; then
      echo "with-postgres: the throw-away cluster $version/regress is running (another test run?); wait for it, or stop it with 'pg_dropcluster --stop $version regress'" >&2
      exit 1
    fi
    echo "with-postgres: dropping the leftover throw-away cluster $version/regress of a run that was stopped" >&2
    rm -f "$conf/.by_pg_virtualenv"
    pg_dropcluster "$version" regress 2>/dev/null || true
    rm -rf "$conf"
  done
fi

exec pg_virtualenv -o fsync=off -o max_connections=400 -o shared_buffers=64MB \
  sh -c 'HOMEDESK_TEST_POSTGRES="postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/postgres" exec "$@"' \
  with-postgres "$@"
