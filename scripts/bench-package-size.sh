#!/usr/bin/env bash
# The size of the desktop .deb against a blank Tauri app packaged the same way
# (docs/benchmarks.md, "Package size"; `make bench-package`).
#
# Both in one run: `scripts/dist.sh app` builds the app's .deb; the blank
# window (src-tauri/examples/blank_window.rs: the same tauri crate and
# features, no UI, no core) is built with the same release profile and
# features as `tauri build` uses, then bundled as a .deb by the same Tauri
# CLI and bundler with the same icons, from a throw-away project folder that
# only names the already-built binary. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TAURI=$ROOT/ui/node_modules/.bin/tauri
OUT=target/bench
mkdir -p "$OUT"

HOMEDESK_DIST_DIR=$ROOT/$OUT/package-size scripts/dist.sh app
app_deb=$(ls "$OUT"/package-size/homedesk_*_amd64.deb)

# The example with the flags `tauri build` passes (cargo build --release
# --features tauri/custom-protocol), so it shares that build's dependencies.
(cd src-tauri && cargo build --locked --release --features tauri/custom-protocol --example blank_window)

project=$(mktemp -d)
trap 'rm -rf "$project"' EXIT
mkdir -p "$project/src" "$project/target/release"
cat > "$project/Cargo.toml" <<'TOML'
[package]
name = "blank-window"
version = "0.1.0"
edition = "2021"
publish = false

[[bin]]
name = "blank-window"
path = "src/main.rs"

[workspace]
TOML
echo 'fn main() {}' > "$project/src/main.rs"
cp target/release/examples/blank_window "$project/target/release/blank-window"
cp -r icons "$project/icons"
python3 - "$ROOT/src-tauri/examples/blank_window/tauri.conf.json" "$project/tauri.conf.json" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config["version"] = "0.1.0"
config["mainBinaryName"] = "blank-window"
config["build"]["frontendDist"] = "dist"
config["bundle"]["active"] = True
config["bundle"]["targets"] = ["deb"]
config["bundle"]["icon"] = [i.replace("../../../icons/", "icons/") for i in config["bundle"]["icon"]]
json.dump(config, open(sys.argv[2], "w"), indent=2)
PY
mkdir -p "$project/dist" && cp src-tauri/examples/blank_window/dist/index.html "$project/dist/"
(cd "$project" && CARGO_TARGET_DIR="$project/target" "$TAURI" bundle --ci --bundles deb)
blank_deb=$(ls "$project"/target/release/bundle/deb/*.deb)
cp "$blank_deb" "$OUT/package-size/blank-window_amd64.deb"

size() { stat -c %s "$1"; }
installed() { dpkg-deb -f "$1" Installed-Size; }
app=$(size "$app_deb") blank=$(size "$blank_deb")
{
  echo "| package | .deb size | installed size | ratio (.deb) |"
  echo "|---|---|---|---|"
  awk -v n="$(basename "$app_deb")" -v s="$app" -v i="$(installed "$app_deb")" -v b="$blank" \
    'BEGIN { printf "| %s | %.2f MB (%d bytes) | %.1f MB | %.2f |\n", n, s / 1e6, s, i * 1024 / 1e6, s / b }'
  awk -v s="$blank" -v i="$(installed "$blank_deb")" \
    'BEGIN { printf "| blank Tauri window (baseline) | %.2f MB (%d bytes) | %.1f MB | 1.00 |\n", s / 1e6, s, i * 1024 / 1e6 }'
} | tee "$OUT/package-size.md"
