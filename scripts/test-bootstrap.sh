#!/usr/bin/env bash
# Tests of scripts/bootstrap.sh that need no root and change nothing:
#  - on a system that is not Debian-like it stops with a clear message, before
#    installing anything;
#  - on this (fully set-up) machine a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
passed=0 failed=0
check() { if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $*" >&2; fi; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf 'ID=fedora\nPRETTY_NAME="Fedora Linux 41"\n' > "$tmp/fedora"
if OS_RELEASE="$tmp/fedora" scripts/bootstrap.sh > "$tmp/out" 2>&1; then
  echo "FAILED: bootstrap accepted Fedora" >&2; failed=$((failed + 1))
else
  check grep -q "not Debian or Ubuntu. Nothing was installed" "$tmp/out"
  check bash -c "! grep -q 'installing' '$tmp/out'"
fi

if OS_RELEASE="$tmp/missing" scripts/bootstrap.sh > "$tmp/out" 2>&1; then
  echo "FAILED: bootstrap ran without an os-release file" >&2; failed=$((failed + 1))
else
  check grep -q "cannot read $tmp/missing" "$tmp/out"
fi

printf 'ID=ubuntu\nID_LIKE=debian\n' > "$tmp/ubuntu"
OS_RELEASE="$tmp/ubuntu" scripts/bootstrap.sh > "$tmp/out" 2>&1
check bash -c "! grep -q 'installing' '$tmp/out'"
check grep -q "all set" "$tmp/out"

echo "bootstrap: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
