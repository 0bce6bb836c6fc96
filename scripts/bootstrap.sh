#!/usr/bin/env bash
# Installs what a fresh Debian 12 (or Ubuntu 22.04+) machine lacks to build,
# run and test Homedesk. Idempotent: when everything is present it installs
# nothing and finishes in seconds. Called by `make run` and `make test`.
#
#   scripts/bootstrap.sh          everything (build, run, test)
#
# It never downloads toolchains or browsers: Debian packages, npm modules,
# crates and (for the API contract check) Python packages from PyPI only.
set -euo pipefail

cd "$(dirname "$0")/.."

say() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

# --- 1. The system must be Debian-like, or we stop before touching anything.
# (OS_RELEASE lets scripts/test-bootstrap.sh try other systems.)
OS_RELEASE=${OS_RELEASE:-/etc/os-release}
if [ ! -r "$OS_RELEASE" ]; then
  die "cannot read $OS_RELEASE; this script supports Debian 12+ and Ubuntu 22.04+ only. Install the packages listed in README.md by hand."
fi
# shellcheck disable=SC1091
. "$OS_RELEASE"
case " ${ID:-} ${ID_LIKE:-} " in
  *" debian "* | *" ubuntu "*) ;;
  *) die "this looks like ${PRETTY_NAME:-an unknown system}, not Debian or Ubuntu. Nothing was installed. Install the packages listed in README.md with your system's package manager, then run 'make test' again." ;;
esac

# --- 2. Debian packages.
# Build: WebKitGTK 4.1 and GTK dev files for Tauri v2, a C toolchain.
# Test: WebKitWebDriver, Xvfb, a D-Bus session, a notification daemon, a CJK
# font so Chinese renders in screenshots; headless Chromium with its
# WebDriver (the customer's browser in the web chat tests); Python with venv
# for Schemathesis (`python3 -m venv` needs python3-venv on Debian: it brings ensurepip).
# Packages (`make dist`, scripts/check-package.sh): dpkg-dev for
# dpkg-shlibdeps (the .deb's Depends), lintian to check the .deb, adduser
# (the platform package's postinst makes its system user with it); sudo,
# through which the app's updater installs a .deb when neither pkexec nor a
# graphical password prompt is there (the installed-package test).
# binutils for `strings`: the e2e file check reads every file of an agent's
# data folder for customer data left in the clear (tests/e2e/tests/lock.rs).
# iproute2 (`ip`, `tc`): the link bench's network namespace and its shaping.
# postgresql (its server, psql and pg_virtualenv): the platform's tests run a
# second time on PostgreSQL, beside a throwaway cluster an unprivileged run
# makes and drops (scripts/with-postgres.sh, scripts/test-postgres.sh); jq
# reads cargo's JSON there to find the test binaries `make unit` built.
# haproxy: the load balancer in front of two platform instances sharing one
# PostgreSQL database (issue 19's two-instance tests and load test).
PACKAGES=(
  build-essential pkg-config curl file binutils
  dpkg-dev lintian adduser sudo
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev libssl-dev
  webkit2gtk-driver xvfb xauth dbus dbus-x11 dunst fonts-noto-cjk
  chromium chromium-driver
  nodejs npm
  python3 python3-venv
  iproute2
  postgresql jq haproxy
)
missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    # A newer Node.js from another source (NodeSource, nvm) counts as present.
    if { [ "$pkg" = nodejs ] || [ "$pkg" = npm ]; } && command -v "${pkg/nodejs/node}" >/dev/null; then
      continue
    fi
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "need root to install: ${missing[*]} (no sudo found). Run as root or install them by hand."
    SUDO="sudo"
  fi
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- 3. Toolchains we cannot install for you.
command -v cargo >/dev/null || die "Rust is not installed. Install it with rustup (https://rustup.rs), then run this again."
node_version=$(node --version 2>/dev/null | sed 's/^v//')
node_major=${node_version%%.*}
node_minor=$(echo "$node_version" | cut -d. -f2)
if [ -z "$node_version" ] || [ "$node_major" -lt 20 ] || { [ "$node_major" -eq 20 ] && [ "$node_minor" -lt 19 ]; }; then
  die "Node.js ${node_version:-none} is too old: the UI build (Vite 8) needs Node.js 20.19 or newer. Debian 12's own nodejs is 18; install Node.js 20+ (e.g. from NodeSource) and run this again."
fi

# --- 4. Node modules, exactly as locked. Re-run only when the lockfile changed.
stamp=ui/node_modules/.homedesk-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s ui/package-lock.json "$stamp"; then
  say "installing node modules (npm ci in ui/)"
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
  cp ui/package-lock.json "$stamp"
fi

# --- 5. tauri-driver, pinned to major version 2 (3.0 alphas exist).
if ! tauri-driver --help >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  say "installing tauri-driver 2 (cargo install, takes a minute)"
  cargo install tauri-driver --version '^2' --locked --quiet
fi

# --- 6. Schemathesis for `make conformance`, every package pinned
# (scripts/conformance/requirements.txt), in a virtual environment of this
# checkout; made again only when the pins change. It needs Python 3.11+
# (Debian 12 has it); with an older one `make run` still works and
# `make conformance` says what is missing.
venv=target/conformance-venv
requirements=scripts/conformance/requirements.txt
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  say "not installing Schemathesis: it needs Python 3.11 or newer, this is $(python3 --version 2>&1); make conformance (part of make test) will not run"
elif [ ! -x "$venv/bin/st" ] || ! cmp -s "$requirements" "$venv/.homedesk-requirements"; then
  say "installing Schemathesis into $venv (pip, from PyPI)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$requirements"
  cp "$requirements" "$venv/.homedesk-requirements"
fi

say "all set"
