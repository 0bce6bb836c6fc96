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

exec pg_virtualenv -o fsync=off -o max_connections=400 -o shared_buffers=64MB \
  sh -c 'HOMEDESK_TEST_POSTGRES="postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/postgres" exec "$@"' \
  with-postgres "$@"
