#!/usr/bin/env bash
# Tests scripts/check-package.sh on a good .deb and on copies of it broken one
# way each: it must pass the good one (also after unpacking and packing it
# again) and fail each broken one on exactly the check that covers it.
#
#   scripts/test-check-package.sh target/dist/homedesk_0.1.0_amd64.deb
#
# About a minute (lintian runs on each of the nine packages).
set -euo pipefail
cd "$(dirname "$0")/.."
good=$(realpath "${1:?usage: $0 GOOD.deb}")
check=$PWD/scripts/check-package.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

passed=0 failed=0
unpack() { rm -rf tree; dpkg-deb -R "$good" tree; }
# Packs tree/ as NAME.deb with md5sums that match, so only the break shows.
pack() {
  (cd tree && find . -type f ! -path './DEBIAN/*' -printf '%P\n' | sort | xargs -d '\n' md5sum > DEBIAN/md5sums)
  dpkg-deb -b -Zgzip tree "$1.deb" >/dev/null
}
# expect NAME PASS|"FAILED: text of the one failing check"
expect() {
  local name=$1 wanted=$2 out rc=0
  out=$("$check" "$name.deb" 2>&1) || rc=$?
  local failures
  failures=$(grep '^FAILED: ' <<<"$out" || true)
  if [ "$wanted" = PASS ]; then
    if [ "$rc" -eq 0 ] && [ -z "$failures" ]; then passed=$((passed + 1)); else
      failed=$((failed + 1)); printf 'FAILED: %s should pass, got:\n%s\n' "$name" "$failures" >&2; fi
  else
    if [ "$rc" -ne 0 ] && [ "$(wc -l <<<"$failures")" -eq 1 ] && grep -qF "$wanted" <<<"$failures"; then
      passed=$((passed + 1)); else
      failed=$((failed + 1)); printf 'FAILED: %s should fail only on "%s", got (exit %s):\n%s\n' "$name" "$wanted" "$rc" "$failures" >&2; fi
  fi
}

cp "$good" good.deb
expect good PASS
unpack; pack repacked
expect repacked PASS

unpack; sed -i 's/libwebkit2gtk-4\.1-0 ([^)]*), //; s/, libwebkit2gtk-4\.1-0//' tree/DEBIAN/control; pack no-webkit
expect no-webkit "FAILED: Depends lack libwebkit2gtk-4.1-0"
unpack; sed -i '/^Name\[zh_CN\]/d' tree/usr/share/applications/*.desktop; pack no-zh-name
expect no-zh-name "FAILED: desktop entry lacks Name=Homedesk or a Name[zh_CN]"
unpack; rm tree/usr/share/icons/hicolor/*/apps/homedesk.png; pack no-icon
expect no-icon "FAILED: desktop entry's icon"
unpack; rm -r tree/usr/lib/Homedesk/content/scenarios; pack no-scenarios
expect no-scenarios "FAILED: content: nothing in /usr/lib/Homedesk/content/scenarios"
unpack; rm tree/usr/share/doc/homedesk/copyright; pack no-copyright
expect no-copyright "FAILED: lintian reports"
unpack; head -c 4000000 /dev/urandom > tree/usr/lib/Homedesk/padding.bin; pack too-big
expect too-big "is over 10000000"
unpack; printf 'src-tauri/../content' >> tree/usr/bin/homedesk; pack tree-path
expect tree-path "FAILED: /usr/bin/homedesk holds a path into the source tree"

echo "check-package tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
