#!/usr/bin/env bash
# Builds the platform's Debian package:
#   target/dist/homedesk-platform_<version>_<arch>.deb
# with /usr/bin/homedesk-platform (release profile), the systemd unit, the
# maintainer scripts from packaging/platform/ and the documentation Debian
# asks for (copyright, changelog, manual page). Made with dpkg-deb, Debian's
# own tool, not cargo-deb (docs/decisions/0029-platform-package.md).
#
#   scripts/dist-platform.sh            build, package, print the path and size
#
# HOMEDESK_VERSION overrides the version (default: the workspace's, as the
# binary reports it); a pre-release `1.2.0-rc.1` becomes `1.2.0~rc.1`, which
# Debian sorts before 1.2.0. HOMEDESK_DIST_DIR overrides target/dist (both as
# scripts/dist.sh reads them).
set -euo pipefail

cd "$(dirname "$0")/.."

say() { printf 'dist-platform: %s\n' "$*"; }
die() { printf 'dist-platform: error: %s\n' "$*" >&2; exit 1; }

for tool in dpkg-deb dpkg-shlibdeps python3; do
  command -v "$tool" >/dev/null || die "$tool is missing (Debian package dpkg-dev or python3); run scripts/bootstrap.sh"
done

PACKAGE=homedesk-platform
SRC=packaging/platform
DIST_DIR=${HOMEDESK_DIST_DIR:-target/dist}

# --- 1. The binary, release profile (thin LTO, stripped, panics unwind).
say "building $PACKAGE (release profile)"
cargo build --release --locked -p homedesk-platform
BIN=target/release/homedesk-platform

VERSION=${HOMEDESK_VERSION:-$("$BIN" --version | awk '{print $2}')}
DEB_VERSION=${VERSION/-/\~}
[[ "$DEB_VERSION" =~ ^[0-9][A-Za-z0-9.+~]*$ ]] ||
  die "version '$VERSION' is not a Debian version (digits, letters, '.', '+', '~'; starting with a digit)"
ARCH=$(dpkg --print-architecture)
MAINTAINER="Homedesk maintainers <maintainers@homedesk.invalid>"
# Every date and timestamp in the package comes from the last commit, so two
# builds of one commit give the same package (dpkg-deb reads it too).
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH

mkdir -p "$DIST_DIR"
OUT="$DIST_DIR/${PACKAGE}_${DEB_VERSION}_${ARCH}.deb"
stage=$(realpath "$(mktemp -d "$DIST_DIR/.${PACKAGE}-root.XXXXXX")")
work=$(realpath "$(mktemp -d "$DIST_DIR/.${PACKAGE}-work.XXXXXX")")
trap 'rm -rf "$stage" "$work"' EXIT
chmod 0755 "$stage"

# --- 2. The files.
doc="$stage/usr/share/doc/$PACKAGE"
install -D -m 0755 "$BIN" "$stage/usr/bin/$PACKAGE"
install -D -m 0644 "$SRC/$PACKAGE.service" "$stage/lib/systemd/system/$PACKAGE.service"
install -d -m 0755 "$doc" "$stage/usr/share/man/man1"
gzip -9n <"$SRC/$PACKAGE.1" >"$stage/usr/share/man/man1/$PACKAGE.1.gz"

# Debian changelog of this native package: one entry for the version built.
changelog_date=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
cat >"$work/changelog" <<EOF
$PACKAGE ($DEB_VERSION) stable; urgency=medium

  * Homedesk platform $VERSION, built from commit $commit. What changed is
    in the Homedesk repository's history and docs.

 -- $MAINTAINER  $changelog_date
EOF
gzip -9n <"$work/changelog" >"$doc/changelog.gz"

# copyright: ours, then each crate in the binary with its licence (from the
# lock file's resolution for this target).
cp "$SRC/copyright" "$doc/copyright"
cargo metadata --locked --format-version 1 --filter-platform "$(rustc -vV | sed -n 's/^host: //p')" \
  >"$work/metadata.json"
python3 - "$work/metadata.json" >>"$doc/copyright" <<'PY'
import json, sys
meta = json.load(open(sys.argv[1]))
packages = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
root = next(p["id"] for p in meta["packages"] if p["name"] == "homedesk-platform")
seen, todo = set(), [root]
while todo:
    node = nodes[todo.pop()]
    for dep in node["deps"]:
        # Only what is linked into the program: no build scripts or dev tools.
        if any(kind["kind"] is None for kind in dep["dep_kinds"]) and dep["pkg"] not in seen:
            seen.add(dep["pkg"])
            todo.append(dep["pkg"])
rows = sorted(
    (packages[i]["name"], packages[i]["version"], packages[i].get("license") or "see the crate")
    for i in seen
    if packages[i].get("source")  # the workspace's own crates are covered above
)
print()
print("Files: usr/bin/homedesk-platform")
print("Copyright: the authors of each crate listed below")
print("License: various")
print(" The program contains these Rust crates, each under the licence named")
print(" (SPDX expression as the crate declares it):")
print(" .")
for name, version, licence in rows:
    print(f" {name} {version}: {licence}")
PY

# --- 3. Control files.
install -d -m 0755 "$stage/DEBIAN"
for script in postinst prerm postrm; do
  install -m 0755 "$SRC/$script" "$stage/DEBIAN/$script"
done
# Shared libraries the binary links (glibc, libgcc), as dpkg-shlibdeps sees
# them; it wants a debian/control beside it.
mkdir -p "$work/shlibs/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$PACKAGE" "$PACKAGE" >"$work/shlibs/debian/control"
shlibs=$(cd "$work/shlibs" && dpkg-shlibdeps -O -e "$stage/usr/bin/$PACKAGE" 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || die "dpkg-shlibdeps found no libraries for the binary"
installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<EOF
Package: $PACKAGE
Version: $DEB_VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $installed_size
Depends: $shlibs, adduser
Section: net
Priority: optional
Description: Homedesk central platform for customer-service centres
 The reference central platform of Homedesk, the desktop workstation for
 customer-service agents: it routes customer contacts to agents, keeps the
 knowledge base, call scripts and canned replies the workstations
 synchronise over HTTPS, serves the customer web chat and the workstations'
 signed updates.
 .
 The package runs it as the system user homedesk-platform with its data in
 /var/lib/homedesk-platform (systemd unit homedesk-platform.service). The
 unit is enabled but not started on installation: add queues and agents
 first, then start it. Removing the package keeps the data; purging it
 deletes the data.
EOF
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) \
  >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"

# --- 4. The package: root-owned files, timestamps clamped to the commit.
find "$stage" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
rm -f "$OUT"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$OUT" >/dev/null
say "$OUT ($(du -h "$OUT" | cut -f1), $(stat -c %s "$OUT") bytes)"
