#!/usr/bin/env bash
# Builds Homedesk's installable packages (`make dist`, after `make ui`).
#
#   scripts/dist.sh            everything: the desktop app (.deb, .rpm) and the platform (.deb)
#   scripts/dist.sh app        only the desktop app's packages
#   scripts/dist.sh platform   only the platform's .deb
#
# The desktop app is built by `tauri build` (release profile, the UI embedded
# from ui/dist; no dev server) and bundled as deb and rpm only: AppImage needs
# a download of linuxdeploy and Windows (NSIS) a Windows machine
# (docs/decisions/0026-desktop-packages.md). The .deb's Depends are computed
# from the built binary by dpkg-shlibdeps, not written by hand.
#
# Environment:
#   HOMEDESK_DIST_DIR         where the packages go (default target/dist)
#   HOMEDESK_VERSION          the version of this build (default: Cargo.toml's);
#                             the app reports it and the updater compares it
#   HOMEDESK_UPDATER_PUBKEY   the updater's public key (the text of a `.pub`
#                             file of `tauri signer generate`); else
#                             packaging/updater.pub; else a development key pair
#                             made once under target/dist/dev-key (loud warning)
#   TAURI_SIGNING_PRIVATE_KEY (+ TAURI_SIGNING_PRIVATE_KEY_PASSWORD) the private
#                             key (text or a file) to write `<package>.sig` beside
#                             each package (`tauri signer sign`); unset: no signatures
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
TAURI=$ROOT/ui/node_modules/.bin/tauri
DIST=${HOMEDESK_DIST_DIR:-target/dist}
mkdir -p "$DIST"
DIST=$(cd "$DIST" && pwd)
WORK=$ROOT/target/dist-work
DEV_KEY_DIR=$ROOT/target/dist/dev-key

say() { printf 'dist: %s\n' "$*"; }
die() { printf 'dist: error: %s\n' "$*" >&2; exit 1; }
loud() {
  printf '\n' >&2
  printf 'dist: ************************************************************\n' >&2
  printf 'dist: * %s\n' "$@" >&2
  printf 'dist: ************************************************************\n\n' >&2
}

workspace_version() {
  # [workspace.package] version = "X.Y.Z" in the root Cargo.toml.
  sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n1
}

VERSION=${HOMEDESK_VERSION:-$(workspace_version)}
# The updater compares versions as semver; Debian and RPM need a plain one too.
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  die "version '$VERSION' is not MAJOR.MINOR.PATCH (set HOMEDESK_VERSION=1.2.3 or fix Cargo.toml)"

# The public key the app trusts for updates, compiled in.
updater_pubkey() {
  if [ -n "${HOMEDESK_UPDATER_PUBKEY:-}" ]; then
    printf '%s' "$HOMEDESK_UPDATER_PUBKEY"
  elif [ -s packaging/updater.pub ]; then
    tr -d '\n' < packaging/updater.pub
  else
    if [ ! -s "$DEV_KEY_DIR/updater.key.pub" ]; then
      mkdir -p "$DEV_KEY_DIR"
      "$TAURI" signer generate --ci --password "" --force -w "$DEV_KEY_DIR/updater.key" >/dev/null
    fi
    loud "NO RELEASE KEY: neither HOMEDESK_UPDATER_PUBKEY nor packaging/updater.pub is set." \
      "This build trusts a DEVELOPMENT key ($DEV_KEY_DIR/updater.key.pub)," \
      "so it cannot take real updates. Never give it to agents." \
      "docs/releasing.md says how a release key is made and kept."
    tr -d '\n' < "$DEV_KEY_DIR/updater.key.pub"
  fi
}

# Signs FILE into FILE.sig when a private key is given; else removes a stale one.
sign_package() {
  local file=$1
  rm -f "$file.sig"
  [ -n "${TAURI_SIGNING_PRIVATE_KEY:-}" ] || return 0
  local key_args=(--private-key "$TAURI_SIGNING_PRIVATE_KEY")
  if [ -f "$TAURI_SIGNING_PRIVATE_KEY" ]; then
    key_args=(--private-key-path "$TAURI_SIGNING_PRIVATE_KEY")
  fi
  # The variables would override the arguments; pass each thing once.
  env -u TAURI_SIGNING_PRIVATE_KEY -u TAURI_SIGNING_PRIVATE_KEY_PASSWORD \
    "$TAURI" signer sign "${key_args[@]}" --password "${TAURI_SIGNING_PRIVATE_KEY_PASSWORD:-}" \
    --app-version "$VERSION" "$file" >/dev/null
  [ -s "$file.sig" ] || die "tauri signer sign wrote no $file.sig"
}

# The Depends of the binary, as dpkg-shlibdeps reads them from its ELF
# dependencies and the shlibs of the installed libraries.
shlib_depends() {
  local binary=$1 tmp
  tmp=$(mktemp -d)
  mkdir -p "$tmp/debian"
  printf 'Source: homedesk\n\nPackage: homedesk\nArchitecture: any\n' > "$tmp/debian/control"
  (cd "$tmp" && dpkg-shlibdeps -O -e"$binary") | sed -n 's/^shlibs:Depends=//p'
  rm -rf "$tmp"
}

# The Debian changelog and the manual page, compressed as Debian wants them
# (gzip -9n: no name or time inside, so the same input gives the same bytes).
# The changelog's entry is dated by the last commit.
package_docs() {
  local out=$1 maintainer date
  mkdir -p "$out"
  maintainer=$(sed -n 's/^authors = \["\(.*\)"\]/\1/p' src-tauri/Cargo.toml)
  [ -n "$maintainer" ] || die "src-tauri/Cargo.toml has no authors (the .deb's Maintainer)"
  date=$(git log -1 --format=%cD 2>/dev/null || date -R)
  printf 'homedesk (%s) unstable; urgency=medium\n\n  * Homedesk %s. Changes: the project history and its release notes.\n\n -- %s  %s\n' \
    "$VERSION" "$VERSION" "$maintainer" "$date" | gzip -9n > "$out/changelog.gz"
  gzip -9n < packaging/deb/homedesk.1 > "$out/homedesk.1.gz"
}

json_string() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }

dist_app() {
  [ -f ui/dist/index.html ] || die "ui/dist is missing: run 'make ui' first ('make dist' does)"
  command -v dpkg-shlibdeps >/dev/null || die "dpkg-shlibdeps is missing (apt-get install dpkg-dev)"
  mkdir -p "$WORK"
  local pubkey config
  pubkey=$(updater_pubkey)
  [ -n "$pubkey" ] || die "the updater public key is empty"
  config=$WORK/build.json
  package_docs "$WORK/doc"
  printf '{"version": %s, "plugins": {"updater": {"pubkey": %s}}}\n' \
    "$(json_string "$VERSION")" "$(json_string "$pubkey")" > "$config"

  say "building the desktop app $VERSION (tauri build, release profile)"
  (cd src-tauri && "$TAURI" build --ci --no-bundle --config "$config")

  local binary=$ROOT/target/release/homedesk depends
  depends=$(shlib_depends "$binary")
  [ -n "$depends" ] || die "dpkg-shlibdeps found no dependencies of $binary"
  say "Depends (dpkg-shlibdeps): $depends"
  python3 - "$config" "$depends" <<'PY'
import json, sys
path, depends = sys.argv[1], sys.argv[2]
config = json.load(open(path))
deb = config.setdefault("bundle", {}).setdefault("linux", {}).setdefault("deb", {})
deb["depends"] = [d.strip() for d in depends.split(",") if d.strip()]
# Added to the files of tauri.conf.json (objects merge): made by package_docs.
work = path.rsplit("/", 1)[0]
deb["files"] = {
    "/usr/share/doc/homedesk/changelog.gz": work + "/doc/changelog.gz",
    "/usr/share/man/man1/homedesk.1.gz": work + "/doc/homedesk.1.gz",
}
rpm = config["bundle"]["linux"].setdefault("rpm", {})
rpm["files"] = {"/usr/share/man/man1/homedesk.1.gz": work + "/doc/homedesk.1.gz"}
json.dump(config, open(path, "w"), indent=2)
PY

  say "bundling .deb and .rpm"
  rm -rf target/release/bundle/deb target/release/bundle/rpm
  (cd src-tauri && "$TAURI" bundle --ci --bundles deb,rpm --config "$config")

  local deb rpm
  deb=$(find target/release/bundle/deb -maxdepth 1 -name "*_${VERSION}_amd64.deb" | head -n1)
  rpm=$(find target/release/bundle/rpm -maxdepth 1 -name "*-${VERSION}-1.x86_64.rpm" | head -n1)
  [ -n "$deb" ] || die "tauri bundle made no .deb of version $VERSION"
  [ -n "$rpm" ] || die "tauri bundle made no .rpm of version $VERSION"
  cp "$deb" "$DIST/homedesk_${VERSION}_amd64.deb"
  cp "$rpm" "$DIST/homedesk-${VERSION}-1.x86_64.rpm"
  BUILT+=("$DIST/homedesk_${VERSION}_amd64.deb" "$DIST/homedesk-${VERSION}-1.x86_64.rpm")
}

# The platform's .deb, target/dist/homedesk-platform_<version>_amd64.deb, with
# its systemd unit (issue 15, part D). Part D fills this in: it builds the
# package into "$DIST" and appends its path to BUILT (which signs it when a
# key is given and prints its size). Until then it builds nothing and says so.
dist_platform() {
  say "the platform package (homedesk-platform_${VERSION}_amd64.deb) is not built by this version yet"
}

BUILT=()
case "${1:-all}" in
  all) dist_app; dist_platform ;;
  app) dist_app ;;
  platform) dist_platform ;;
  *) die "unknown part '$1' (use: all, app or platform)" ;;
esac

for package in "${BUILT[@]}"; do
  sign_package "$package"
done

say "packages in $DIST:"
for package in "${BUILT[@]}"; do
  size=$(stat -c %s "$package")
  awk -v name="$(basename "$package")" -v size="$size" -v signed="$([ -f "$package.sig" ] && echo ', signed')" \
    'BEGIN { printf "  %-44s %5.1f MB (%d bytes)%s\n", name, size / 1000000, size, signed }'
done
