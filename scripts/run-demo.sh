#!/usr/bin/env bash
# Starts the reference platform with the demo world and live demo traffic,
# waits until it is ready, then runs the desktop app; stopping the app (or
# Ctrl-C) stops the platform too. Called by `make run`; `make platform` runs
# only the platform (no display needed).
#
#   PLATFORM_DIR     data folder (default target/demo-platform)
#   PLATFORM_LISTEN  address (default 127.0.0.1:8443)
#   DEMO_TRAFFIC     customer contacts a minute (default 4)
set -euo pipefail

dir=${PLATFORM_DIR:-target/demo-platform}
listen=${PLATFORM_LISTEN:-127.0.0.1:8443}
traffic=${DEMO_TRAFFIC:-4}
mode=${1:-with-app}
mkdir -p "$dir"
log="$dir.log"

target/debug/homedesk-platform serve --data-dir "$dir" --listen "$listen" \
  --demo --demo-traffic "$traffic" --content content >"$log.out" 2>"$log" </dev/null &
platform=$!
trap 'kill "$platform" 2>/dev/null; wait "$platform" 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 1 300); do
  if grep -q "ready at" "$log.out" 2>/dev/null; then break; fi
  if ! kill -0 "$platform" 2>/dev/null; then
    echo "run-demo: the platform stopped while starting; its log ($log):" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  sleep 0.2
done
if ! grep -q "ready at" "$log.out"; then
  echo "run-demo: the platform did not start within 60 s; see $log" >&2
  exit 1
fi
cat "$log.out"
echo "run-demo: platform log: $log"
echo "run-demo: demo traffic comes through the channel adapter \"demo\"; its secret is in $dir/demo-adapter-secret"
echo "run-demo: add your own adapter (with a webhook that receives agents' replies):"
echo "run-demo:   target/debug/homedesk-platform channel add myshop --webhook http://127.0.0.1:9000/hook --data-dir $dir"

if [ "$mode" = platform-only ]; then
  echo "run-demo: platform running; press Ctrl-C to stop it"
  wait "$platform"
  exit 0
fi

echo "run-demo: starting Homedesk (close the window to stop both)"
echo "run-demo: sign in with an agent code and password printed above (DEMO ONLY line)"
echo "run-demo: play the customer: open the chat page printed above (DEMO customer chat page) in a browser,"
echo "run-demo:   accept the development certificate once, and write; sign in as a1002 to answer"
url=$(sed -n 's/^homedesk-platform ready at \(https:[^ ]*\).*/\1/p' "$log.out" | head -1)
# The app offers this platform on its sign-in screen and trusts its development CA.
env_vars=(WEBKIT_DISABLE_DMABUF_RENDERER=1 "HOMEDESK_PLATFORM_URL=$url" "HOMEDESK_PLATFORM_CA=$(realpath "$dir")/tls/ca.pem")
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  env "${env_vars[@]}" dbus-run-session -- target/debug/homedesk
else
  env "${env_vars[@]}" target/debug/homedesk
fi
