#!/usr/bin/env bash
# House rules that the compiler cannot see (docs/architecture.md, "House rules"):
#  1. only src-tauri depends on tauri: no crate under crates/ may, even indirectly;
#  2. only ui/src/lib/host imports @tauri-apps/*;
#  3. Tauri crates resolve to major version 2 (3.0 alphas are published).
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0

for manifest in crates/*/Cargo.toml; do
  crate=$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -1)
  if grep -Eq '^\s*tauri(-[a-z-]+)?(\.workspace)?\s*=' "$manifest"; then
    echo "house rule broken: $manifest names a tauri crate; only src-tauri may depend on tauri." >&2
    fail=1
    continue
  fi
  if ! tree=$(cargo tree --locked -p "$crate" -e normal,build --prefix none); then
    echo "house rules: cannot resolve the dependency tree of $crate (see above)." >&2
    fail=1
    continue
  fi
  if grep -Eq '^tauri(-[a-z-]+)? v' <<<"$tree"; then
    echo "house rule broken: $crate (crates/) depends on tauri indirectly; only src-tauri may." >&2
    cargo tree --locked -p "$crate" -i tauri >&2 || true
    fail=1
  fi
done

leaks=$(grep -rlE "from ['\"]@tauri-apps/|import\(['\"]@tauri-apps/" ui/src --include='*.ts' --include='*.svelte' | grep -v '^ui/src/lib/host/' || true)
if [ -n "$leaks" ]; then
  echo "house rule broken: only ui/src/lib/host may import @tauri-apps/*; found in:" >&2
  echo "$leaks" >&2
  fail=1
fi

if awk '/^name = "tauri(-[a-z-]+)?"$/ {getline; print}' Cargo.lock | grep -q 'version = "3\.'; then
  echo "house rule broken: Cargo.lock resolves a Tauri crate at major version 3 (an alpha); pin ^2." >&2
  fail=1
fi

[ "$fail" -eq 0 ] && echo "house rules: ok (no tauri under crates/, @tauri-apps only in ui/src/lib/host, Tauri 2)"
exit "$fail"
