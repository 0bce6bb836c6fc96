#!/usr/bin/env bash
# Checks a built desktop .deb before anyone installs it (the installed-package
# test stage runs it; so can a release manager):
#
#   scripts/check-package.sh target/dist/homedesk_0.1.0_amd64.deb
#
#  - lintian reports no error (warnings are printed; kept ones are explained
#    in docs/decisions/0026-desktop-packages.md);
#  - the package is at most 10 MB;
#  - its Depends include the WebKitGTK 4.1 runtime (libwebkit2gtk-4.1-0);
#  - it installs /usr/bin/homedesk, with no path into the source tree, and a
#    desktop entry that names the app in English and Chinese (Name[zh_CN])
#    and whose icon is in the package;
#  - the practice content is inside, where the app looks for it
#    (/usr/lib/Homedesk/content: knowledge base in both languages, canned
#    replies, call scripts, scenarios).
# Exits non-zero, naming each failed check, if any fails.
set -euo pipefail

MAX_BYTES=$((10 * 1000 * 1000))
RESOURCES=usr/lib/Homedesk

deb=${1:-}
[ -n "$deb" ] && [ -f "$deb" ] || { echo "usage: $0 PACKAGE.deb" >&2; exit 2; }
dpkg-deb --info "$deb" >/dev/null 2>&1 || { echo "check-package: $deb is not a Debian package" >&2; exit 1; }
command -v lintian >/dev/null || { echo "check-package: lintian is missing (scripts/bootstrap.sh installs it)" >&2; exit 2; }

passed=0 failed=0
pass() { passed=$((passed + 1)); printf 'ok:     %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf 'FAILED: %s\n' "$1"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp/root"

# lintian: errors fail (its exit status 1), everything else is shown.
rc=0
lintian --fail-on error --tag-display-limit 0 --display-level '>=info' "$deb" > "$tmp/lintian" 2>&1 || rc=$?
sed 's/^/  lintian: /' "$tmp/lintian"
errors=$(grep -c '^E: ' "$tmp/lintian" || true)
if [ "$rc" -eq 0 ] && [ "$errors" -eq 0 ]; then
  pass "lintian: no errors ($(grep -c '^W: ' "$tmp/lintian" || true) warnings)"
elif [ "$errors" -gt 0 ]; then
  fail "lintian reports $errors errors"
else
  fail "lintian did not run (exit status $rc)"
fi

size=$(stat -c %s "$deb")
if [ "$size" -le "$MAX_BYTES" ]; then
  pass "size $size bytes (at most $MAX_BYTES)"
else
  fail "size $size bytes is over $MAX_BYTES"
fi

depends=$(dpkg-deb -f "$deb" Depends)
if printf '%s\n' "$depends" | tr ',' '\n' | sed 's/^ *//' | grep -Eq '^libwebkit2gtk-4\.1-0( |$)'; then
  pass "Depends include the WebKitGTK 4.1 runtime"
else
  fail "Depends lack libwebkit2gtk-4.1-0: '$depends'"
fi

binary=$tmp/root/usr/bin/homedesk
if [ -x "$binary" ]; then
  pass "installs /usr/bin/homedesk"
  if grep -aq 'src-tauri/\.\./content' "$binary"; then
    fail "/usr/bin/homedesk holds a path into the source tree's content/"
  else
    pass "no path into the source tree in /usr/bin/homedesk"
  fi
else
  fail "no executable /usr/bin/homedesk"
fi

desktop=$(grep -lsx 'Exec=homedesk' "$tmp"/root/usr/share/applications/*.desktop | head -n1 || true)
if [ -z "$desktop" ]; then
  fail "no desktop entry with Exec=homedesk in /usr/share/applications"
else
  entry() { sed -n "s/^$1=//p" "$desktop" | head -n1; }
  zh_name=$(entry 'Name\[zh_CN\]')
  if [ "$(entry Name)" = Homedesk ] && [ -n "$zh_name" ]; then
    pass "desktop entry names the app: Homedesk / $zh_name"
  else
    fail "desktop entry lacks Name=Homedesk or a Name[zh_CN]"
  fi
  if [ -n "$(entry 'Comment')" ] && [ -n "$(entry 'Comment\[zh_CN\]')" ]; then
    pass "desktop entry has a Comment in English and Chinese"
  else
    fail "desktop entry lacks Comment or Comment[zh_CN]"
  fi
  icon=$(entry Icon)
  if [ -n "$icon" ] && compgen -G "$tmp/root/usr/share/icons/hicolor/*/apps/$icon.png" >/dev/null; then
    pass "desktop entry's icon '$icon' is in the package"
  else
    fail "desktop entry's icon '$icon' is not in /usr/share/icons/hicolor"
  fi
fi

content=$tmp/root/$RESOURCES/content
for part in kb/zh-CN kb/en canned-replies scripts scenarios; do
  count=0
  if [ -d "$content/$part" ]; then
    count=$(find "$content/$part" -maxdepth 1 -type f \( -name '*.md' -o -name '*.toml' \) | wc -l)
  fi
  if [ "$count" -gt 0 ]; then
    pass "content: $count files in /$RESOURCES/content/$part"
  else
    fail "content: nothing in /$RESOURCES/content/$part"
  fi
done

echo "check-package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
