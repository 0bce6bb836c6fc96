# Homedesk: the two commands a newcomer needs are `make run` and `make test`.
# Both first run scripts/bootstrap.sh, which installs whatever is missing.
#
#   make run       build everything, start a local platform with demo data and
#                  live demo customers, then open the app
#   make test      every check: format, house rules, svelte-check, clippy + Rust tests
#                  (the platform's on SQLite, then again on PostgreSQL),
#                  the API contract (Schemathesis), vitest, end-to-end, the installed
#                  app with its update, and the platform's .deb run as its service
#                  user (the last two need root or sudo)
#   make bench     benchmarks: sync throughput, web chat reply latency, photos, search recall and latency, desktop
#                  start-up and memory, agents per machine (docs/benchmarks.md)
#   make dist      installable packages in target/dist: the desktop app's .deb and
#                  .rpm and the platform's .deb (scripts/dist.sh), with their sizes
#
# Smaller steps: make platform (only the demo platform, no display needed),
# make ui, make app, make lint, make unit, make conformance, make vitest, make e2e,
# make package-test,
# make bindings (regenerate ui/src/lib/host/bindings), make fixtures (regenerate
# the UI's practice fixtures from the Rust engine), make icons, make fmt.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
CARGO ?= cargo
NPM := npm --prefix ui
UI_SOURCES := $(shell find ui/src ui/index.html ui/vite.config.ts ui/package-lock.json -type f 2>/dev/null)
# WebKitGTK without a GPU (VMs, Xvfb): disable the DMA-BUF renderer or the window stays blank.
APP_ENV := WEBKIT_DISABLE_DMABUF_RENDERER=1

.PHONY: run platform platform-bin test bench bench-desktop bench-package dist dist-platform test-platform-package bootstrap ui app lint fmt fmt-check clippy house-rules svelte-check unit conformance vitest e2e package-test bindings fixtures icons clean fuzz

## ---------------------------------------------------------------- the two commands

run: bootstrap app platform-bin
	@if [ -z "$${DISPLAY:-}" ] && [ -z "$${WAYLAND_DISPLAY:-}" ]; then \
	  echo "make run: no display found (DISPLAY and WAYLAND_DISPLAY are unset), so no window can open."; \
	  echo "On a machine without a screen, run it under a virtual display:"; \
	  echo "    xvfb-run -a make run"; \
	  echo "or start only the demo platform with: make platform"; \
	  exit 2; \
	fi
	@scripts/run-demo.sh with-app

# Only the reference platform with the demo world (https://127.0.0.1:8443).
platform: bootstrap platform-bin
	@scripts/run-demo.sh platform-only

platform-bin:
	$(CARGO) build --locked -p homedesk-platform

test: bootstrap
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory conformance
	@$(MAKE) --no-print-directory vitest
	@$(MAKE) --no-print-directory e2e
	@$(MAKE) --no-print-directory package-test
	@$(MAKE) --no-print-directory test-platform-package
	@echo "make test: all stages passed (lint, Rust tests, API contract, vitest, end-to-end, installed app and its update, platform package)"

# Figures for docs/benchmarks.md, each against a baseline measured in the same
# run: platform sync throughput, web chat reply latency (against a bare SSE
# round trip), photo uploads and thumbnails (against
# decoding the same photo), the bytes photos cost a workstation (against
# downloading every photo in full; it runs the platform binary the sync bench
# built), the sync engine across an emulated village link (against the wire
# floor; needs root for its network namespace, about 3 minutes, says SKIPPED
# otherwise), knowledge-base recall (against FTS5 trigram and bigram baselines),
# search latency at 10k/100k articles, the desktop app's start-up time and
# memory (against a blank Tauri window), the size of its .deb (against a
# blank Tauri window's), and the load test: how many simulated agents one
# platform serves within the targets, on SQLite, on PostgreSQL, and with two
# instances on one PostgreSQL database (scripts/bench-load.sh, crates/loadgen;
# target/bench/load.md).
# Optimised build: the first run
# compiles for a while; the search benchmark then takes about 3 minutes, the
# desktop one about 2.5, the load test about 45.
bench: ui
	$(CARGO) bench --locked -p homedesk-platform --bench sync
	$(CARGO) bench --locked -p homedesk-platform --bench first_sync
	$(CARGO) bench --locked -p homedesk-platform --bench webchat
	$(CARGO) bench --locked -p homedesk-platform --bench photos
	$(CARGO) bench --locked -p homedesk-core --bench photos
	$(CARGO) bench --locked -p homedesk-core --bench link
	$(CARGO) bench --locked -p homedesk-core --bench recall
	$(CARGO) bench --locked -p homedesk-core --bench search
	@$(MAKE) --no-print-directory bench-desktop
	@$(MAKE) --no-print-directory bench-package
	scripts/bench-load.sh

# The app and the blank window (src-tauri/examples/blank_window.rs) are built
# in one invocation, so they share one build of tauri with the same features;
# the `bench` profile puts them in target/release. The benchmark is an ignored
# test of the end-to-end crate (Xvfb, tauri-driver), so `make test` skips it
# and runs only its one-start smoke test (`make e2e`).
bench-desktop: ui
	$(CARGO) build --locked --profile bench -p homedesk -p homedesk-platform --bins --example blank_window
	HOMEDESK_E2E_PROFILE=release $(CARGO) test --locked -p homedesk-e2e --test desktop_bench -- --ignored --nocapture

# Release builds (the release profile, in target/release): `tauri build` for
# the app's .deb and .rpm, then the platform's .deb. Options by environment
# (HOMEDESK_VERSION, HOMEDESK_UPDATER_PUBKEY, TAURI_SIGNING_PRIVATE_KEY, ...)
# are listed in scripts/dist.sh; docs/releasing.md says how a release is made.
dist: ui
	scripts/dist.sh

# The desktop .deb's size against a blank Tauri window packaged the same way
# (release profile, the same bundler): docs/benchmarks.md, "Package size".
bench-package: ui
	scripts/bench-package-size.sh

# The platform's Debian package alone: target/dist/homedesk-platform_<version>_<arch>.deb
# (release build; docs/decisions/0029-platform-package.md).
dist-platform:
	scripts/dist-platform.sh

# The platform package installed on this machine with apt-get and used as an
# administrator would: its unit's ExecStart run as its user, /v1/health over
# HTTPS, remove keeps the data, purge deletes it. Needs root (CI runs as root);
# it refuses to run where the package or /var/lib/homedesk-platform exists.
test-platform-package: dist-platform
	scripts/test-platform-package.sh "$$(ls -t target/dist/homedesk-platform_*.deb | head -n 1)"

## ---------------------------------------------------------------- pieces

bootstrap:
	@scripts/bootstrap.sh

ui/dist/index.html: $(UI_SOURCES)
	$(NPM) run build --silent

ui: ui/dist/index.html

# The app binary with the UI embedded (no dev server: tauri.conf.json has no devUrl).
app: ui
	$(CARGO) build --locked -p homedesk

lint: ui fmt-check house-rules svelte-check

fmt-check:
	$(CARGO) fmt --all --check
	$(NPM) run format:check --silent

fmt:
	$(CARGO) fmt --all
	$(NPM) run format --silent

# Clippy on its own (what `make unit` also does as part of its single build).
clippy: ui
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

house-rules:
	scripts/check-house-rules.sh

svelte-check:
	$(NPM) run check --silent

# `make unit` lints and builds in one compile: clippy-driver runs as the
# compiler for the workspace's own crates (this is how `cargo clippy` works
# inside), so the dependencies are compiled once instead of checked for clippy
# and then built again for the tests. On 2 cores that saves about 25 minutes in
# a fresh clone (docs/decisions/0009-one-compile-for-lint-and-tests.md).
# Every target is built (benches and examples too, so clippy sees them), then
# the tests run.
LINTING_CARGO := RUSTC_WORKSPACE_WRAPPER="$$(rustup which clippy-driver)" \
	CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" $(CARGO)

unit: ui
	$(LINTING_CARGO) test --locked --workspace --exclude homedesk-e2e --all-targets --no-run
	$(LINTING_CARGO) test --locked --workspace --exclude homedesk-e2e
	scripts/test-bootstrap.sh
# The platform's tests once more with PostgreSQL as its storage (issue 19),
# and the core's two-instance test (crates/core/tests/two_instances.rs): the
# test binaries just built, beside a throwaway PostgreSQL server
# (scripts/with-postgres.sh); nothing is compiled again.
	scripts/test-postgres.sh

# docs/openapi.yaml checked by an independent tool: Schemathesis (installed
# by the bootstrap into target/conformance-venv) against a real demo platform
# on loopback HTTPS, signed in as an agent and as a supervisor, every phase,
# 40 s each (docs/decisions/0020-openapi-contract.md). The platform binary
# comes from the very build `make unit` makes (same command, so nothing is
# built again after it; a `cargo build` would resolve other features without
# the dev-dependencies and rebuild tokio, hyper and axum both ways).
conformance:
	$(LINTING_CARGO) test --locked --workspace --exclude homedesk-e2e --all-targets --no-run
	scripts/conformance.sh

vitest:
	$(NPM) run test --silent

# The app is built with the same package and target selection as `make unit`,
# so cargo resolves the same features and reuses those artifacts instead of
# rebuilding the GTK/Tauri stack (`-p homedesk` alone resolved other features:
# about 10 extra minutes in a fresh clone on 2 cores). The blank window is the
# desktop benchmark's baseline: its smoke test (one start of each window, on
# this debug build, no time asserted) runs here so the benchmark cannot break
# unseen; `make unit` already built the example, so this costs no compile.
e2e: ui
	$(LINTING_CARGO) build --locked --workspace --exclude homedesk-e2e --bins --tests --example blank_window
	$(LINTING_CARGO) test --locked -p homedesk-e2e -- --test-threads=1

# The installed package (scripts/package-test.sh): builds version A and B of
# the app's package with a throwaway key pair (release build; B only builds
# the app crate again) and a forged C, installs A with apt-get, drives the
# installed /usr/bin/homedesk from another folder (bundled practice content,
# sign-in to an `init` platform), updates it to B through the updater,
# refuses C, and purges the package, also on failure. Needs root or sudo.
package-test: ui
	scripts/package-test.sh

# Coverage-guided fuzzing of the protocol decoders, the changes-page decoder
# and the search tokenizer (fuzz/, cargo-fuzz on the nightly toolchain;
# FUZZ_SECONDS per target, default 60). Not part of `make test`.
fuzz:
	scripts/fuzz.sh

bindings:
	UPDATE_BINDINGS=1 $(CARGO) test --locked -p homedesk-core --test ipc_bindings

# The UI's practice tests replay sessions played on the real practice engine
# (ui/src/lib/host/fixtures); `make unit` fails while they are stale. Same
# flags as `make unit`, so nothing is rebuilt for other features.
fixtures:
	UPDATE_FIXTURES=1 $(LINTING_CARGO) test --locked --workspace --exclude homedesk-e2e --test practice_fixtures

icons:
	cd ui && npx tauri icon ../icons/homedesk.svg -o ../icons
	rm -rf icons/android icons/ios

clean:
	$(CARGO) clean
	rm -rf ui/dist
