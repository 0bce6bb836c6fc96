#!/usr/bin/env bash
# The installed-package stage of `make test` (`make package-test`, also run
# alone): the app as a county centre ships it, tested after installing it
# on this machine.
#
#  1. Makes a throwaway updater key pair and a second one (target/package-test/keys,
#     never committed, deleted at the end).
#  2. Builds version A with scripts/dist.sh (release build, .deb + signature,
#     and the platform), then version B: same code, version bumped, same
#     key (`scripts/dist.sh app`: only the app crate is built again), and a
#     "version C" signed with the second key.
#  3. scripts/check-package.sh on A, then `apt-get install ./…deb` of A.
#  4. Runs the ignored tests of tests/e2e/tests/installed.rs, in order: the
#     installed app from another folder (practice with the bundled content,
#     sign-in to an `init` platform), then the update A → B through the
#     updater and the refused C.
#  5. Purges the package, also when something failed.
#
# Needs root (or sudo) for apt-get, and `sudo` itself: the updater installs
# a .deb through pkexec, a graphical sudo or, last, plain sudo
# (scripts/bootstrap.sh installs it). One run at a time per machine.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf 'package-test: %s\n' "$*"; }
die() { printf 'package-test: error: %s\n' "$*" >&2; exit 1; }

started=$SECONDS
step_started=$SECONDS
step() {
  say "$1 ($((SECONDS - step_started)) s since the last step)"
  step_started=$SECONDS
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "apt-get needs root: run as root, or install sudo"
  SUDO="sudo"
fi
command -v sudo >/dev/null ||
  die "sudo is missing: the updater installs packages through it (run scripts/bootstrap.sh)"
[ -x scripts/dist.sh ] || die "scripts/dist.sh is missing: the packages come from it (make dist)"

# The package is installed system-wide: one stage at a time on a machine.
exec 9>/tmp/homedesk-package-test.lock
if ! flock -n 9; then
  say "another package test runs on this machine; waiting for it"
  flock 9
fi
if installed=$(dpkg-query -W -f='${db:Status-Status} ${Version}' homedesk 2>/dev/null) &&
  [ "${installed%% *}" = installed ]; then
  die "homedesk ${installed#* } is already installed here; this test installs and purges it, so remove it first: apt-get purge homedesk"
fi

work=target/package-test
rm -rf "$work"
mkdir -p "$work/keys" "$work/a" "$work/b" "$work/c"
tauri=ui/node_modules/.bin/tauri

cleanup() {
  status=$?
  if dpkg-query -W homedesk >/dev/null 2>&1; then
    say "removing the package (apt-get purge homedesk)"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get purge -y -qq homedesk >/dev/null || status=1
  fi
  rm -rf "$work/keys"
  say "took $((SECONDS - started)) s in all"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. Keys: the one the app trusts, and another one for the forgery.
password="package-test-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
for key in trusted other; do
  "$tauri" signer generate --ci -w "$work/keys/$key.key" -p "$password" >/dev/null
done

# --- 2. Versions: A is the workspace's, B and C are the next patch levels.
version_a=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
[[ "$version_a" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] ||
  die "the workspace version '$version_a' is not MAJOR.MINOR.PATCH"
version_b="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.$((BASH_REMATCH[3] + 1))"
version_c="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.$((BASH_REMATCH[3] + 2))"

HOMEDESK_UPDATER_PUBKEY=$(cat "$work/keys/trusted.key.pub")
TAURI_SIGNING_PRIVATE_KEY=$(cat "$work/keys/trusted.key")
TAURI_SIGNING_PRIVATE_KEY_PASSWORD=$password
export HOMEDESK_UPDATER_PUBKEY TAURI_SIGNING_PRIVATE_KEY TAURI_SIGNING_PRIVATE_KEY_PASSWORD

step "building version A ($version_a): the app's packages and the platform"
HOMEDESK_VERSION=$version_a HOMEDESK_DIST_DIR="$root/$work/a" scripts/dist.sh
step "building version B ($version_b): the same code, a new version"
HOMEDESK_VERSION=$version_b HOMEDESK_DIST_DIR="$root/$work/b" scripts/dist.sh app

deb_a="$work/a/homedesk_${version_a}_amd64.deb"
deb_b="$work/b/homedesk_${version_b}_amd64.deb"
for file in "$deb_a" "$deb_a.sig" "$deb_b" "$deb_b.sig"; do
  [ -f "$file" ] || die "scripts/dist.sh did not make $file"
done
# C: a package signed with the key the app does not trust. The platform
# refuses to publish the same bytes twice, so C carries A's bytes (never
# published); its signature names version C (the app requires a signed
# version, decision 0028), so the key is the only thing wrong with it.
deb_c="$work/c/homedesk_${version_c}_amd64.deb"
cp "$deb_a" "$deb_c"
env -u TAURI_SIGNING_PRIVATE_KEY -u TAURI_SIGNING_PRIVATE_KEY_PASSWORD \
  "$tauri" signer sign -f "$work/keys/other.key" -p "$password" \
  --app-version "$version_c" "$deb_c" >/dev/null
[ -f "$deb_c.sig" ] || die "signing $deb_c made no signature"

# The platform from the same build: the binary of its package when
# scripts/dist.sh made one, else built here with the command
# scripts/dist-platform.sh uses (same release artifacts, nothing twice).
platform_deb=$(find "$work/a" -maxdepth 1 -name 'homedesk-platform_*.deb' | head -n 1)
if [ -n "$platform_deb" ]; then
  dpkg-deb -x "$platform_deb" "$work/platform-root"
  platform="$root/$work/platform-root/usr/bin/homedesk-platform"
else
  step "building the platform (cargo build --release -p homedesk-platform)"
  cargo build --release --locked -p homedesk-platform
  platform="${CARGO_TARGET_DIR:-$root/target}/release/homedesk-platform"
fi
[ -x "$platform" ] || die "no platform binary from the build at $platform"

cat >"$work/stage.json" <<EOF
{
  "installed": {"version": "$version_a", "deb": "$root/$deb_a", "signature": "$root/$deb_a.sig"},
  "update": {"version": "$version_b", "deb": "$root/$deb_b", "signature": "$root/$deb_b.sig"},
  "forged": {"version": "$version_c", "deb": "$root/$deb_c", "signature": "$root/$deb_c.sig"},
  "platform": "$platform"
}
EOF

# --- 3. Check and install A.
step "checking the package (scripts/check-package.sh)"
if [ -x scripts/check-package.sh ]; then
  scripts/check-package.sh "$deb_a"
else
  die "scripts/check-package.sh is missing"
fi
step "installing version A: apt-get install ./$deb_a"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "./$deb_a" >/dev/null
[ -x /usr/bin/homedesk ] || die "the package installed no /usr/bin/homedesk"

# --- 4. The tests, with the same flags as `make e2e` (nothing is rebuilt).
export RUSTC_WORKSPACE_WRAPPER
RUSTC_WORKSPACE_WRAPPER=$(rustup which clippy-driver)
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
export HOMEDESK_PACKAGE_TEST="$root/$work/stage.json"
cargo=(cargo test --locked -p homedesk-e2e --test installed)
step "building the tests"
"${cargo[@]}" --no-run
failed=()
for test in \
  installed_app_practises_bundled_content_and_signs_in_to_a_county_platform \
  installed_app_updates_itself_from_its_platform_and_refuses_a_forged_package; do
  step "running $test"
  "${cargo[@]}" -- --ignored --exact "$test" --test-threads=1 || failed+=("$test")
done
step "tests done"
if [ ${#failed[@]} -gt 0 ]; then
  die "failed: ${failed[*]} (screenshots and logs in target/e2e/)"
fi
say "the installed package passed: practice with bundled content, sign-in to an init platform, update $version_a -> $version_b, forged $version_c refused"
