#!/usr/bin/env bash
# Side-by-side: times `flowlens convert TREE -o OUT --workers 2` against
# DuckDB doing the same job (cmd/duckconvert) on a generated ~1 GiB tree of
# NSG v1, v2 and VNet flow logs, and prints wall time, MB/s, peak RSS and
# the ratios. The tree is generated once and cached under out/ (gitignored).
#
#   ./sidebyside.sh                         # 1 GiB, 2 workers
#   SIZE=256MiB WORKERS=4 ./sidebyside.sh
set -euo pipefail
cd "$(dirname "$0")"

SIZE=${SIZE:-1GiB}
WORKERS=${WORKERS:-2}
SEED=${SEED:-1}
RESOURCES=${RESOURCES:-24}
HOURS=${HOURS:-6}
MIX=${MIX:-v1=0.20,v2=0.55,vnet=0.25}

OUT=out
BIN=$OUT/bin
TREE=$OUT/tree-$SIZE-r$RESOURCES-h$HOURS-s$SEED-${MIX//[=,]/_}
mkdir -p "$BIN"

commit=$(git -C .. rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C .. status --porcelain -- . ':!bench' ':!*_test.go' 2>/dev/null)" ]; then
	commit="$commit + uncommitted changes"
fi
echo "== build (flowlens from $(cd .. && pwd), commit $commit)"
(cd .. && CGO_ENABLED=0 go build -o bench/$BIN/flowlens ./cmd/flowlens)
go build -o "$BIN/flowgen" ./cmd/flowgen
go build -o "$BIN/duckconvert" ./cmd/duckconvert
go build -o "$BIN/sidebyside" ./cmd/sidebyside

if [ ! -f "$TREE.totals.json" ]; then
	echo "== generate $TREE"
	rm -rf "$TREE"
	"$BIN/flowgen" -o "$TREE" -size "$SIZE" -resources "$RESOURCES" -hours "$HOURS" -seed "$SEED" -mix "$MIX" \
		-totals "$TREE.totals.json.tmp" >/dev/null
	mv "$TREE.totals.json.tmp" "$TREE.totals.json"
else
	echo "== reuse $TREE"
fi

echo "== run"
"$BIN/sidebyside" -tree "$TREE" -totals "$TREE.totals.json" -workers "$WORKERS" \
	-flowlens "$BIN/flowlens" -duckconvert "$BIN/duckconvert" -work "$OUT/run"
