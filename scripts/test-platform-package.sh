#!/usr/bin/env bash
# Tests the platform's Debian package on this machine, as an administrator
# would use it (docs/platform.md, "Install the platform on a server"):
#
#   scripts/test-platform-package.sh target/dist/homedesk-platform_<version>_amd64.deb
#
#  1. lintian: no errors; the unit passes `systemd-analyze verify` and its
#     sandbox scores as "OK" or better in `systemd-analyze security`.
#  2. `apt-get install ./…deb`: the system user, /var/lib/homedesk-platform
#     owned by it with mode 0700 and a platform made by `init` in it, the unit
#     enabled, nothing started.
#  3. The unit's own ExecStart line, read from the installed unit file, run as
#     its User/Group with its UMask from / with an empty environment (what
#     systemd does; this machine's systemd may not be running): /v1/health
#     answers over HTTPS trusting the platform's CA, an agent added with the
#     documented commands signs in, and what the server wrote is in the data
#     folder and belongs to the user. SIGTERM stops it cleanly.
#  4. `apt-get remove` keeps the data; installing again keeps the platform
#     (no second `init`); `apt-get purge` deletes the data and the unit's links.
#
# Needs root (it installs a package). It refuses to run where the package or
# its data folder already exist, so it never touches a real platform, and it
# leaves the machine as it found it, also when a check fails.
set -euo pipefail

NAME=homedesk-platform
DATA=/var/lib/homedesk-platform
UNIT_FILE=/lib/systemd/system/$NAME.service
WANTS_LINK=/etc/systemd/system/multi-user.target.wants/$NAME.service
MASK_LINK=/etc/systemd/system/$NAME.service

say() { printf 'test-platform-package: %s\n' "$*"; }
fail() {
  printf 'test-platform-package: FAILED: %s\n' "$*" >&2
  exit 1
}
check() { # check DESCRIPTION COMMAND...: one assertion, said when it holds
  local what=$1
  shift
  if "$@"; then say "ok: $what"; else fail "$what"; fi
}

[ $# -eq 1 ] || { echo "usage: $0 PATH/TO/homedesk-platform_VERSION_ARCH.deb" >&2; exit 2; }
[ -f "$1" ] || fail "no package at $1 (build it with scripts/dist-platform.sh)"
DEB=$(realpath "$1")
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || fail "this test installs a package: run it as root"
  exec sudo -- "$0" "$DEB"
fi

package_state() { dpkg-query -W -f='${db:Status-Status}' "$NAME" 2>/dev/null || echo not-installed; }
if [ "$(package_state)" != not-installed ]; then
  fail "$NAME is already on this machine ($(package_state)); this test would purge it and its data. Run it on a machine without it."
fi
[ ! -e "$DATA" ] || fail "$DATA already exists; this test would delete it. Run it on a machine without it."
user_existed=no
getent passwd "$NAME" >/dev/null && user_existed=yes

work=$(mktemp -d)
chmod 0755 "$work"
server_pid=""
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -qq "$@"; }

cleanup() {
  local rc=$?
  set +e
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$server_pid" 2>/dev/null
  fi
  if [ "$(package_state)" != not-installed ]; then
    apt_get purge "$NAME" >/dev/null 2>&1 || dpkg --purge "$NAME" >/dev/null 2>&1
  fi
  rm -rf "$DATA"
  if [ "$user_existed" = no ] && getent passwd "$NAME" >/dev/null; then
    userdel "$NAME"
  fi
  if [ "$user_existed" = no ] && getent group "$NAME" >/dev/null; then
    groupdel "$NAME"
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Polls COMMAND until it succeeds or SECONDS pass.
wait_for() {
  local seconds=$1
  shift
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# --- 1. The package and its unit, before installing.
say "package: $DEB"
command -v lintian >/dev/null || fail "lintian is missing; run scripts/bootstrap.sh"
lintian --fail-on error --display-level '>=warning' "$DEB" >"$work/lintian.log" 2>&1 ||
  fail "lintian found errors in the package: $(cat "$work/lintian.log")"
say "ok: lintian reports no errors (warnings kept are in docs/decisions/0029-platform-package.md)"
grep -v '^running with root privileges' "$work/lintian.log" | sed 's/^/    /' || true
dpkg-deb -x "$DEB" "$work/root"
check "the package holds the binary, the unit and the copyright file" \
  test -x "$work/root/usr/bin/$NAME" -a -f "$work/root$UNIT_FILE" -a -f "$work/root/usr/share/doc/$NAME/copyright"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze security --offline=true --threshold=30 "$work/root$UNIT_FILE" >"$work/security.log" 2>&1 ||
    fail "the unit's sandbox has grown weaker (systemd's exposure above 3.0 of 10): $(tail -n 3 "$work/security.log")"
  say "ok: $(grep -o 'Overall exposure level.*' "$work/security.log")"
else
  say "systemd-analyze not found: the unit's sandbox score is not checked"
fi

# --- 2. Install it as an administrator would.
apt_get install --no-install-recommends "$DEB" >"$work/install.log" 2>&1 ||
  fail "apt-get install $DEB failed: $(tail -n 20 "$work/install.log")"
check "apt-get installed $NAME" test "$(package_state)" = installed
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify --man=no "$UNIT_FILE" >"$work/verify.log" 2>&1 ||
    fail "systemd-analyze verify $UNIT_FILE: $(cat "$work/verify.log")"
  say "ok: systemd-analyze verify accepts the installed unit"
fi

passwd_entry=$(getent passwd "$NAME") || fail "no system user $NAME after installation"
IFS=: read -r _ _ uid _ _ home shell <<<"$passwd_entry"
check "$NAME is a system user (uid $uid below 1000)" test "$uid" -lt 1000
check "$NAME cannot log in (shell $shell)" test "$shell" = /usr/sbin/nologin
check "$NAME's home is the data folder" test "$home" = "$DATA"
check "$DATA exists" test -d "$DATA"
check "$DATA belongs to $NAME:$NAME with mode 700" test "$(stat -c '%U:%G %a' "$DATA")" = "$NAME:$NAME 700"
check "the postinst made a platform in $DATA" test -s "$DATA/platform.db"
foreign=$(find "$DATA" ! -user "$NAME" -printf '%p\n')
check "every file in $DATA belongs to $NAME" test -z "$foreign"
check "the unit is enabled (multi-user.target wants it)" \
  test "$(readlink "$WANTS_LINK")" = "$UNIT_FILE"
check "nothing runs as $NAME before the administrator starts it" \
  test -z "$(find /proc -mindepth 1 -maxdepth 1 -regex '/proc/[0-9]+' -user "$NAME")"

# --- 3. The unit's own command line, as its user.
as_user() { runuser -u "$NAME" -- "$@"; }
unit_value() { # the single value of KEY= in the installed unit
  local values
  values=$(sed -n "s/^$1=//p" "$UNIT_FILE")
  [ "$(printf '%s\n' "$values" | grep -c .)" -eq 1 ] || fail "$UNIT_FILE should have exactly one $1= line"
  printf '%s' "$values"
}
exec_start=$(unit_value ExecStart)
run_user=$(unit_value User)
run_group=$(unit_value Group)
umask_value=$(unit_value UMask)
# Plain words only: this test splits on spaces as systemd does for them, and
# refuses what it would have to interpret differently (quotes, $, %, prefixes).
case "$exec_start" in
  *[\"\'\$%\\]* | [-@:+!]*) fail "ExecStart=$exec_start uses syntax this test does not interpret" ;;
esac
read -r -a command_line <<<"$exec_start"
check "the unit runs as $NAME:$NAME" test "$run_user:$run_group" = "$NAME:$NAME"
say "running ExecStart as $run_user:$run_group: $exec_start"
# The port comes from the platform's settings file; this test asks for any
# free port on loopback (the ready line says which), as an administrator
# would set the address there.
settings=$DATA/platform.toml
[ -f "$settings" ] || fail "init wrote no $settings"
if grep -q '^listen[[:space:]]*=' "$settings"; then
  as_user sed -i 's/^listen[[:space:]]*=.*/listen = "127.0.0.1:0"/' "$settings"
else
  as_user sed -i '1i listen = "127.0.0.1:0"' "$settings"
fi
ready=$work/serve.log
(
  cd /
  umask "$umask_value"
  exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    setpriv --reuid="$run_user" --regid="$run_group" --init-groups --no-new-privs -- "${command_line[@]}"
) >"$ready" 2>"$work/serve-stderr.log" &
server_pid=$!
server_ready() {
  kill -0 "$server_pid" 2>/dev/null || fail "the platform exited before it was ready: $(tail -n 20 "$work/serve-stderr.log")"
  grep -q '^homedesk-platform ready at https://' "$ready"
}
wait_for 60 server_ready || fail "the platform did not say it was ready within 60 s"
ready_line=$(grep '^homedesk-platform ready at' "$ready")
url=$(sed -n 's/^homedesk-platform ready at \(https:\/\/[^ ]*\).*/\1/p' <<<"$ready_line")
ca=$(sed -n 's/.*clients trust \([^)]*\)).*/\1/p' <<<"$ready_line")
say "ready: $ready_line"
check "the server runs as $run_user" test "$(stat -c %U "/proc/$server_pid")" = "$run_user"
check "its CA is in the data folder ($ca)" test "${ca#"$DATA"/}" != "$ca" -a -s "$ca"
health=$(curl -sS --fail --max-time 10 --cacert "$ca" "$url/v1/health") ||
  fail "GET $url/v1/health over HTTPS (trusting $ca) failed; the server said: $(tail -n 20 "$work/serve-stderr.log")"
check "GET /v1/health answers ok over HTTPS: $health" grep -q '"status":"ok"' <<<"$health"

# Data lands in the data folder: a queue and an agent added with the
# documented commands (as the service user), then a sign-in to the running
# server (it stores the session's tokens).
before=$(find "$DATA" -type f -printf '%P %s %T@\n' | sort)
as_user /usr/bin/$NAME queue add --data-dir "$DATA" aftersales --name-zh 售后服务 --name-en After-sales \
  >"$work/admin.log" 2>&1 || fail "queue add as $NAME failed: $(cat "$work/admin.log")"
HOMEDESK_AGENT_PASSWORD='a-long-test-secret' as_user /usr/bin/$NAME agent add --data-dir "$DATA" \
  --code a2001 --name 张敏 --queues aftersales >>"$work/admin.log" 2>&1 ||
  fail "agent add as $NAME failed: $(cat "$work/admin.log")"
session=$(curl -sS --max-time 10 --cacert "$ca" -H 'Content-Type: application/json' \
  -d '{"agent":"a2001","password":"a-long-test-secret","device_id":"package-test"}' "$url/v1/sessions") || true
grep -q '"access_token"' <<<"$session" ||
  fail "the new agent could not sign in: $session; the server said: $(tail -n 20 "$work/serve-stderr.log")"
say "ok: the new agent signs in to the running platform"

kill -TERM "$server_pid"
stopped() { ! kill -0 "$server_pid" 2>/dev/null; }
wait_for 30 stopped || fail "the platform did not stop within 30 s of SIGTERM"
status=0
wait "$server_pid" || status=$?
server_pid=""
check "SIGTERM stopped it cleanly (exit status $status)" test "$status" -eq 0
after=$(find "$DATA" -type f -printf '%P %s %T@\n' | sort)
check "the running platform wrote to $DATA" test "$before" != "$after"
foreign=$(find "$DATA" ! -user "$NAME" -printf '%p\n')
check "every file in $DATA still belongs to $NAME${foreign:+ (not: $foreign)}" test -z "$foreign"

# --- 4. Remove keeps the data, reinstall keeps the platform, purge deletes it.
ca_sum=$(sha256sum "$ca" | cut -d' ' -f1)
apt_get remove "$NAME" >"$work/remove.log" 2>&1 || fail "apt-get remove failed: $(tail -n 20 "$work/remove.log")"
check "remove: the binary is gone" test ! -e /usr/bin/$NAME
check "remove: the unit file is gone" test ! -e "$UNIT_FILE"
check "remove: the platform's data is kept" test -s "$DATA/platform.db"
check "remove: the unit is masked until purge" test "$(readlink "$MASK_LINK")" = /dev/null

apt_get install --no-install-recommends "$DEB" >"$work/reinstall.log" 2>&1 ||
  fail "installing again after remove failed: $(tail -n 20 "$work/reinstall.log")"
check "reinstall: the platform is kept (same CA, no second init)" \
  test "$(sha256sum "$ca" | cut -d' ' -f1)" = "$ca_sum"
check "reinstall: the queue is still there" grep -q aftersales <<<"$(as_user /usr/bin/$NAME queue list --data-dir "$DATA")"
check "reinstall: the unit is unmasked and enabled" test ! -L "$MASK_LINK" -a "$(readlink "$WANTS_LINK")" = "$UNIT_FILE"

apt_get purge "$NAME" >"$work/purge.log" 2>&1 || fail "apt-get purge failed: $(tail -n 20 "$work/purge.log")"
check "purge: dpkg no longer knows the package" test "$(package_state)" = not-installed
check "purge: $DATA is gone" test ! -e "$DATA"
check "purge: the unit's links are gone" test ! -e "$WANTS_LINK" -a ! -L "$WANTS_LINK" -a ! -L "$MASK_LINK"
user_exists() { getent passwd "$NAME" >/dev/null; }
check "purge: the system user is kept (files it owned may remain in backups)" user_exists

say "all checks passed (install, the unit's ExecStart as $NAME over HTTPS, remove, reinstall, purge)"
