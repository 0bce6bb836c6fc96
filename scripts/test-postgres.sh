#!/usr/bin/env bash
# The platform's tests with PostgreSQL as its storage (issue 19): every test
# binary of homedesk-platform (its unit tests and all of
# crates/platform/tests/*.rs) run once more beside a throwaway PostgreSQL
# server (scripts/with-postgres.sh), where the test harness gives every
# platform a database of its own (crates/platform/tests/support/harness.rs).
# So does the workstation core's crates/core/tests/two_instances.rs (two
# platform instances on one database behind HAProxy, the desks' real sync
# engines in front), which only runs where PostgreSQL is (elsewhere it says
# it is skipped).
#
# Nothing is built anew: the binaries are those `make unit` has just built.
# They are found by asking cargo, with the very command and flags of
# `make unit`, which artifacts it has; with other flags (`cargo test -p
# homedesk-platform`, or without the clippy wrapper) cargo would resolve
# other features and compile the platform and much of its tree again.
# Standalone, that same command builds what is missing first.
#
# Usage: scripts/test-postgres.sh [ARGS...]  (ARGS go to every test binary,
# e.g. a test name to filter on, or --test-threads=1)
#
# Each binary runs as `cargo test` runs it: from its package's folder, with
# the package's CARGO_* variables (the path of the platform binary is also
# compiled into the platform's tests, through option_env!; the core's tests
# find it beside their own binary, where cargo put it). The script runs them
# all and fails if any failed, naming each.
set -euo pipefail

self="$(cd "$(dirname "$0")" && pwd -P)/$(basename "$0")"
cd "$(dirname "$self")/.."
root=$(pwd -P)
package_dir="$root/crates/platform"
manifest="$package_dir/Cargo.toml"
core_dir="$root/crates/core"
core_manifest="$core_dir/Cargo.toml"
# The workstation core's test binaries that need PostgreSQL.
core_tests='["two_instances"]'
CARGO=${CARGO:-cargo}

command -v jq >/dev/null || {
  echo "test-postgres: jq is missing; run 'make bootstrap'" >&2
  exit 1
}

# Lists the platform's test binaries and its program, and the core's test
# binaries named in $core_tests, one per line:
# KIND<TAB>NAME<TAB>PATH<TAB>PACKAGE, KIND being lib, bin or test (a unit or
# integration test binary) or program (the platform binary itself), PACKAGE
# homedesk-platform or homedesk-core.
list_binaries() {
  local json
  json=$(mktemp)
  # The command of `make unit` (Makefile: LINTING_CARGO and `unit`), with
  # JSON messages: the artifacts with their paths, and any diagnostics
  # (shown as cargo would show them).
  if ! RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver)" \
    CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" \
    "$CARGO" test --locked --workspace --exclude homedesk-e2e --all-targets --no-run \
    --message-format=json-diagnostic-rendered-ansi >"$json"; then
    jq -r 'select(.reason == "compiler-message") | .message.rendered // empty' "$json" >&2
    rm -f "$json"
    echo "test-postgres: the workspace does not build (see above)" >&2
    return 1
  fi
  jq -r 'select(.reason == "compiler-message") | .message.rendered // empty' "$json" >&2
  jq -r --arg manifest "$manifest" --arg core "$core_manifest" --argjson core_tests "$core_tests" '
    select(.reason == "compiler-artifact" and .executable != null)
    | (.target.kind | map(select(. == "lib" or . == "bin" or . == "test")) | first) as $kind
    | select($kind != null)
    | if .manifest_path == $manifest then
        if .profile.test then "\($kind)\t\(.target.name)\t\(.executable)\thomedesk-platform"
        elif $kind == "bin" then "program\t\(.target.name)\t\(.executable)\thomedesk-platform"
        else empty end
      elif .manifest_path == $core and .profile.test and $kind == "test"
           and (.target.name | IN($core_tests[])) then
        "\($kind)\t\(.target.name)\t\(.executable)\thomedesk-core"
      else empty end' "$json" | sort -t $'\t' -k4,4r -k1,1 -k2,2
  rm -f "$json"
}

run_binaries() {
  local list=$1
  shift
  local program
  program=$(awk -F'\t' '$1 == "program" && $2 == "homedesk-platform" { print $3; exit }' "$list")
  [ -x "$program" ] || {
    echo "test-postgres: cargo named no homedesk-platform program" >&2
    return 1
  }
  local version
  version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
  local ran=0 ran_core=0 failed=()
  # The list on its own descriptor: the tests keep the script's stdin.
  while IFS=$'\t' read -r -u 3 kind name exe package; do
    [ "$kind" = program ] && continue
    local label dir
    case "$kind" in
      test) label="tests/$name.rs" ;;
      lib) label="unit tests (lib)" ;;
      *) label="unit tests ($kind $name)" ;;
    esac
    case "$package" in
      homedesk-core)
        dir="$core_dir"
        label="crates/core/$label"
        # The core's tests take the platform binary from beside their own
        # (harness.rs, platform_binary): the one listed as the program.
        [ "$(dirname "$(dirname "$exe")")/homedesk-platform" -ef "$program" ] || {
          echo "test-postgres: $exe would not find $program beside it" >&2
          return 1
        }
        ran_core=$((ran_core + 1))
        ;;
      *) dir="$package_dir" ;;
    esac
    echo "test-postgres: $label ($exe)"
    ran=$((ran + 1))
    if ! (cd "$dir" && env \
      "CARGO_BIN_EXE_homedesk-platform=$program" \
      CARGO="$(command -v "$CARGO")" \
      CARGO_MANIFEST_DIR="$dir" \
      CARGO_MANIFEST_PATH="$dir/Cargo.toml" \
      CARGO_PKG_NAME="$package" \
      CARGO_PKG_VERSION="$version" \
      CARGO_CRATE_NAME="${name//-/_}" \
      "$exe" "$@"); then
      failed+=("$label")
    fi
  done 3<"$list"
  [ "$ran" -gt "$ran_core" ] || {
    echo "test-postgres: cargo named no test binaries of homedesk-platform" >&2
    return 1
  }
  [ "$ran_core" -gt 0 ] || {
    echo "test-postgres: cargo named no homedesk-core test binary of $core_tests" >&2
    return 1
  }
  if [ ${#failed[@]} -gt 0 ]; then
    echo "test-postgres: FAILED on PostgreSQL (${#failed[@]} of $ran test binaries):" >&2
    printf '  %s\n' "${failed[@]}" >&2
    return 1
  fi
  echo "test-postgres: all $ran test binaries (homedesk-platform's, and homedesk-core's two_instances) passed on PostgreSQL"
}

if [ -n "${HOMEDESK_TEST_BINARIES:-}" ]; then
  # Second stage, beside the server scripts/with-postgres.sh started.
  run_binaries "$HOMEDESK_TEST_BINARIES" "$@"
  exit
fi

list=$(mktemp)
trap 'rm -f "$list"' EXIT
list_binaries >"$list"
if [ -n "${HOMEDESK_TEST_POSTGRES:-}" ]; then
  # Already beside a server (e.g. inside scripts/with-postgres.sh bash).
  run_binaries "$list" "$@"
else
  HOMEDESK_TEST_BINARIES="$list" scripts/with-postgres.sh "$self" "$@"
fi
