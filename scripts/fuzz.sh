#!/usr/bin/env bash
# make fuzz: runs each cargo-fuzz target in fuzz/ for FUZZ_SECONDS (default
# 60) on the nightly toolchain, which libFuzzer's sanitizer flags need. Not
# part of `make test`: it is open-ended work for a machine with time to spare.
# Without a nightly toolchain it says so and stops (nothing is downloaded
# but cargo-fuzz itself, from crates.io, when it is missing).
# Findings land in fuzz/artifacts/<target>/; the corpus grows in fuzz/corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
targets=(${FUZZ_TARGETS:-protocol_decode search_tokenizer changes_page})

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "make fuzz: needs a nightly Rust toolchain (cargo-fuzz builds with -Zsanitizer)," >&2
  echo "and none is installed here ('rustup toolchain list'). The same decoders and the" >&2
  echo "tokenizer are property-tested on stable in 'make test'." >&2
  exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "make fuzz: installing cargo-fuzz from crates.io"
  cargo +nightly install cargo-fuzz --locked
fi

# Seed each corpus with real messages so the fuzzer starts past the first byte.
mkdir -p fuzz/corpus/protocol_decode fuzz/corpus/changes_page fuzz/corpus/search_tokenizer
printf '%s' '{"agent":"a1001","password":"x","device_id":"ws-1"}' > fuzz/corpus/protocol_decode/sign-in.json
printf '%s' '{"actions":[{"key":"act-1","created_at":1.0e3,"action":{"type":"reply","conversation_id":"c1","body":"您好"}}]}' \
  > fuzz/corpus/protocol_decode/actions.json
printf '%s' '{"changes":[],"next_cursor":"1","has_more":false,"server_time":1}' \
  > fuzz/corpus/changes_page/empty-page.json
printf '%s' '七天无理由退货 tuihuo refund 发货' > fuzz/corpus/search_tokenizer/shop-text.txt

for target in "${targets[@]}"; do
  echo "== fuzz $target for ${seconds}s"
  (cd fuzz && cargo +nightly fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536)
done
echo "make fuzz: no crash in ${targets[*]} (${seconds}s each)"
