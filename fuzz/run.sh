#!/usr/bin/env bash
# Runs one fuzz target for a bounded time, the way the figures in the notes were measured:
#   fuzz/run.sh TARGET SECONDS [extra libFuzzer flags…]
# Corpus: fuzz/corpus/TARGET (run `cargo run -p mqttspec-fuzz-targets --bin seed-corpus`
# first) plus the committed fuzz/seeds/TARGET; crashes land in fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")"
target=$1
seconds=$2
shift 2
dict=dict/mqtt.dict
[ "$target" = scenario ] && dict=dict/scenario.dict
# One packet: inputs past 4 KiB reach no new code (Remaining Lengths are declared, not
# filled) and only slow the run.
extra=()
[ "$target" = decode ] && extra+=(-max_len=4096)
mkdir -p "corpus/$target" "seeds/$target"
exec cargo +nightly fuzz run -s none -a "$target" "corpus/$target" "seeds/$target" -- \
    -dict="$dict" -rss_limit_mb=512 -timeout=10 -max_total_time="$seconds" \
    -print_final_stats=1 "${extra[@]}" "$@"
