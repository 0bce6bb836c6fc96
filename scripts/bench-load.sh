#!/usr/bin/env bash
# The load test of issue 19 (`make bench`, docs/benchmarks.md, "Load: agents
# per machine"): how many agents the platform serves on this machine. For
# each storage — SQLite with one instance, then PostgreSQL beside a throwaway
# server (scripts/with-postgres.sh) with one instance and with two sharing
# the database (decision 0042) — `homedesk-loadgen bench` steps the number
# of agents up, each step on a fresh `serve --demo --demo-agents N` (two of
# them on one database for postgres2: agents' event streams split between
# them, requests to both in turn), and stops at the first step that misses
# the targets (p95 action latency under 300 ms, p95 event delivery under
# 1 s, no error, no message lost). The platform instances, the load
# generator and PostgreSQL share this machine's cores; the table says how
# much CPU each used.
#
# Writes target/bench/load.md (every table) and, per storage,
# target/bench/load-{sqlite,postgres,postgres2}.{md,json}; the platforms'
# logs are in target/bench/load-work/. Optimised build (the `bench` profile,
# in target/release), as the other benchmarks.
#
# Settings by environment: LOAD_STEPS (default
# 250,500,1000,1500,2000,2500,3000,4000),
# LOAD_WARMUP (seconds, default 30), LOAD_DURATION (measured seconds,
# default 50), LOAD_RATE (new contacts per agent and minute, default 0.5),
# LOAD_STORAGES (default "sqlite postgres postgres2": SQLite, PostgreSQL
# with one instance, PostgreSQL with two).
set -euo pipefail
cd "$(dirname "$0")/.."

steps=${LOAD_STEPS:-250,500,1000,1500,2000,2500,3000,4000}
warmup=${LOAD_WARMUP:-30}
duration=${LOAD_DURATION:-50}
rate=${LOAD_RATE:-0.5}
storages=${LOAD_STORAGES:-sqlite postgres postgres2}

cargo build --locked --profile bench -p homedesk-platform -p homedesk-loadgen

# Each agent holds two connections (requests and its event stream) on both
# sides, three with two instances (requests to each): the open-file limit
# must hold 3 per agent and some.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge 20000 ]; then
  ulimit -n 20000
else
  ulimit -n "$hard"
  echo "bench-load: the open-file limit is $hard; steps above about $(((hard - 256) / 3)) agents will be refused" >&2
fi

mkdir -p target/bench
loadgen=(target/release/homedesk-loadgen bench
  --platform target/release/homedesk-platform --content content
  --steps "$steps" --warmup "$warmup" --duration "$duration"
  --contacts-per-agent-minute "$rate" --work-dir target/bench/load-work)

when=$(date -u '+%Y-%m-%d %H:%M UTC')
for storage in $storages; do
  case "$storage" in
    sqlite)
      "${loadgen[@]}" --label "SQLite, one instance ($when)" \
        --out target/bench/load-sqlite.md --json target/bench/load-sqlite.json
      ;;
    postgres | postgres2)
      if [ "$storage" = postgres ]; then
        instances=1 label="PostgreSQL, one instance"
      else
        instances=2 label="PostgreSQL, two instances"
      fi
      if command -v pg_virtualenv >/dev/null; then
        # shellcheck disable=SC2016 # expanded inside, where with-postgres.sh sets it
        scripts/with-postgres.sh bash -c '"$@" --postgres "$HOMEDESK_TEST_POSTGRES"' bench-load \
          "${loadgen[@]}" --instances "$instances" --label "$label ($when)" \
          --out "target/bench/load-$storage.md" --json "target/bench/load-$storage.json"
      else
        printf '### %s\n\nSKIPPED: pg_virtualenv is missing (make bootstrap installs it).\n' "$label" \
          >"target/bench/load-$storage.md"
      fi
      ;;
    *)
      echo "bench-load: unknown storage $storage (sqlite, postgres, postgres2)" >&2
      exit 2
      ;;
  esac
done

{
  echo "## Load: agents per machine"
  echo
  echo "$(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)), $(free -g | awk '/^Mem:/ {print $2}') GiB."
  echo "The platform instances, the load generator and PostgreSQL share these cores. CPU"
  echo "columns are percent of one core (200% = both): the platform's (with two instances"
  echo "their sum, then each's); the database's (PostgreSQL's processes; SQLite runs inside"
  echo "the platform); the load generator's own. \"Machine busy\" counts every process on the"
  echo "machine, other users' too (steal: other virtual machines)."
  echo
  # Every storage's table, each headed with when it was measured (a run
  # with LOAD_STORAGES=postgres keeps the last SQLite table).
  for section in target/bench/load-sqlite.md target/bench/load-postgres.md target/bench/load-postgres2.md; do
    if [ -f "$section" ]; then
      cat "$section"
      echo
    fi
  done
} >target/bench/load.md
echo "bench-load: wrote target/bench/load.md"
