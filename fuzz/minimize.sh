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
# Mutated scenario text can carry statement ids that no spec has: such seeds
# would read as citations to the repository's id checks, so they are left out.
python3 - "$out" <<'PY'
import glob, os, re, sys
known = {l.split("\t")[0] for f in glob.glob("../codec/spec/*.tsv") for l in open(f)}
for path in glob.glob(os.path.join(sys.argv[1], "*")):
    text = open(path, "rb").read().decode("utf-8", "replace")
    if any(i not in known for i in re.findall(r"MQTT-[0-9.]*-[0-9]+", text)):
        os.remove(path)
PY
rm -rf "seeds/$target"
cp -r "$out" "seeds/$target"
echo "seeds/$target: $(ls "seeds/$target" | wc -l) files, $(cat "seeds/$target"/* | wc -c) bytes"
