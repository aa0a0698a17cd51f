#!/usr/bin/env bash
# Replaces the committed seeds of one target with the smallest set of inputs of at most
# 2 KiB (scenario: 512 bytes) that keeps all the coverage of the working corpus and the current seeds:
#   fuzz/minimize.sh TARGET
# (libFuzzer's -merge=1; the working corpus is fuzz/corpus/TARGET from fuzz/run.sh).
set -euo pipefail
cd "$(dirname "$0")"
target=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Scenario files are long: 512 bytes keep most of their coverage in far fewer seeds.
max_len=2048
[ "$target" = scenario ] && max_len=512
mkdir -p "corpus/$target" "seeds/$target"
cargo +nightly fuzz run -s none -a "$target" "$out" "corpus/$target" "seeds/$target" -- \
    -merge=1 -max_len="$max_len" -rss_limit_mb=512 2>&1 | grep -E 'MERGE-OUTER: [0-9]+ new'
rm -rf "seeds/$target"
cp -r "$out" "seeds/$target"
echo "seeds/$target: $(ls "seeds/$target" | wc -l) files, $(cat "seeds/$target"/* | wc -c) bytes"
