#!/usr/bin/env bash
# The load test of issue 19 (`make bench`, docs/benchmarks.md, "Load: agents
# per machine"): how many agents one platform instance serves on this
# machine. For each storage — SQLite, then PostgreSQL beside a throwaway
# server (scripts/with-postgres.sh) — `homedesk-loadgen bench` steps the
# number of agents up, each step on a fresh `serve --demo --demo-agents N`,
# and stops at the first step that misses the targets (p95 action latency
# under 300 ms, p95 event delivery under 1 s, no error, no message lost).
# The platform, the load generator and PostgreSQL share this machine's
# cores; the table says how much CPU each used.
#
# Writes target/bench/load.md (both tables) and, per storage,
# target/bench/load-{sqlite,postgres}.{md,json}; the platforms' logs are in
# target/bench/load-work/. Optimised build (the `bench` profile, in
# target/release), as the other benchmarks.
#
# Settings by environment: LOAD_STEPS (default
# 50,100,150,200,250,300,400,500,750,1000,1500,2000,3000,4000),
# LOAD_WARMUP (seconds, default 30), LOAD_DURATION (measured seconds,
# default 50), LOAD_RATE (new contacts per agent and minute, default 0.5),
# LOAD_STORAGES (default "sqlite postgres").
set -euo pipefail
cd "$(dirname "$0")/.."

steps=${LOAD_STEPS:-50,100,150,200,250,300,400,500,750,1000,1500,2000,3000,4000}
warmup=${LOAD_WARMUP:-30}
duration=${LOAD_DURATION:-50}
rate=${LOAD_RATE:-0.5}
storages=${LOAD_STORAGES:-sqlite postgres}

cargo build --locked --profile bench -p homedesk-platform -p homedesk-loadgen

# Each agent holds two connections (requests and its event stream) on both
# sides: the open-file limit must hold 2 per agent and some.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge 20000 ]; then
  ulimit -n 20000
else
  ulimit -n "$hard"
  echo "bench-load: the open-file limit is $hard; steps above about $(((hard - 256) / 2)) agents will be refused" >&2
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
    postgres)
      if command -v pg_virtualenv >/dev/null; then
        # shellcheck disable=SC2016 # expanded inside, where with-postgres.sh sets it
        scripts/with-postgres.sh bash -c '"$@" --postgres "$HOMEDESK_TEST_POSTGRES"' bench-load \
          "${loadgen[@]}" --label "PostgreSQL, one instance ($when)" \
          --out target/bench/load-postgres.md --json target/bench/load-postgres.json
      else
        printf '### PostgreSQL, one instance\n\nSKIPPED: pg_virtualenv is missing (make bootstrap installs it).\n' \
          >target/bench/load-postgres.md
      fi
      ;;
    *)
      echo "bench-load: unknown storage $storage (sqlite, postgres)" >&2
      exit 2
      ;;
  esac
done

{
  echo "## Load: agents per machine"
  echo
  echo "$(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)), $(free -g | awk '/^Mem:/ {print $2}') GiB."
  echo "The platform, the load generator and PostgreSQL share these cores. CPU columns are"
  echo "percent of one core (200% = both): the platform's; the database's (PostgreSQL's"
  echo "processes; SQLite runs inside the platform); the load generator's own. \"Machine busy\""
  echo "counts every process on the machine, other users' too (steal: other virtual machines)."
  echo
  # Both storages' tables, each headed with when it was measured (a run
  # with LOAD_STORAGES=postgres keeps the last SQLite table).
  for section in target/bench/load-sqlite.md target/bench/load-postgres.md; do
    if [ -f "$section" ]; then
      cat "$section"
      echo
    fi
  done
} >target/bench/load.md
echo "bench-load: wrote target/bench/load.md"
