#!/usr/bin/env bash
# Capture side-by-side: times `flowlens flows CAPTURE --format csv` against
# `tshark -q -z conv,tcp -z conv,udp` and argus (`argus -r CAPTURE -w
# FILE`, then `ra -r FILE`) on one generated capture (cmd/capgen, ~3,000,000
# packets, ~2.4 GB), and prints wall time, packets/s, peak RSS and the
# ratios. It also checks flowlens's flows, packets and counters against the
# generator's totals, and measures flowlens's peak RSS on a second capture
# with ten times the flows open at once (and from the two, the bytes per
# open flow). flowlens runs REPEAT times (median wall time, largest RSS),
# also on one core (GOMAXPROCS=1), for packets per second per core. Each
# timed run prints the CPU time the rest of the machine used meanwhile
# (from /proc/stat): if it is not near 0, the run was disturbed. Not part
# of ci.sh (minutes).
#
#   ./capture-sidebyside.sh
#   PACKETS=1000000 FORMAT=pcapng ./capture-sidebyside.sh
#   SKIP_OTHERS=1 REPEAT=5 ./capture-sidebyside.sh     # flowlens only
#   FLOWLENS=/tmp/flowlens ./capture-sidebyside.sh     # a prebuilt binary
#
# Captures are generated once into out/ (gitignored) and copied to
# /dev/shm when it has room (else read once to warm the page cache).
# Installs tshark, argus-server, argus-client and time with apt-get when
# missing.
set -euo pipefail
cd "$(dirname "$0")"

PACKETS=${PACKETS:-3000000}
FORMAT=${FORMAT:-pcap}
CONC=${CONC:-20000}
PPS=${PPS:-20000}
SEED=${SEED:-1}
CONC2=${CONC2:-200000}   # second capture: flows open at once (0: skip)
REPEAT=${REPEAT:-3}      # flowlens runs per measurement
PPS2=${PPS2:-$((PPS * CONC2 / CONC))}  # same time between packets of a session

OUT=out
BIN=$OUT/bin
mkdir -p "$BIN"
exec 3>&1 # timed reports here, whatever the command's redirections

# --- tools
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
need=()
[ -x /usr/bin/time ] || need+=(time)
if [ -z "${SKIP_OTHERS:-}" ]; then
	command -v tshark >/dev/null || need+=(tshark)
	command -v argus >/dev/null || need+=(argus-server)
	command -v ra >/dev/null || need+=(argus-client)
fi
if [ ${#need[@]} -gt 0 ]; then
	echo "== apt-get install ${need[*]}"
	echo 'wireshark-common wireshark-common/install-setuid boolean false' | $SUDO debconf-set-selections
	$SUDO apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

commit=$(git -C .. rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C .. status --porcelain -- . ':!bench' ':!*_test.go' 2>/dev/null)" ]; then
	commit="$commit + uncommitted changes"
fi
if [ -n "${FLOWLENS:-}" ]; then
	echo "== flowlens: $FLOWLENS (prebuilt; the tree is at commit $commit)"
	cp "$FLOWLENS" "$BIN/flowlens"
else
	echo "== build (flowlens from $(cd .. && pwd), commit $commit)"
	(cd .. && CGO_ENABLED=0 go build -o bench/$BIN/flowlens ./cmd/flowlens)
fi
go build -o "$BIN/capgen" ./cmd/capgen

# capture NAME CONC PPS: generates out/NAME.FORMAT once; echoes the path to read.
capture() {
	local base=$OUT/$1 file=$OUT/$1.$FORMAT
	if [ ! -f "$base.totals.json" ] || [ ! -f "$file" ]; then
		echo "== generate $file" >&2
		"$BIN/capgen" -o "$file" -format "$FORMAT" -packets "$PACKETS" -concurrent "$2" -pps "$3" -seed "$SEED" \
			-totals "$base.totals.json.tmp" >/dev/null
		mv "$base.totals.json.tmp" "$base.totals.json"
	fi
	local size avail
	size=$(stat -c %s "$file")
	avail=$(df -B1 --output=avail /dev/shm 2>/dev/null | tail -1 || echo 0)
	if [ "${avail:-0}" -gt $((size * 2)) ]; then
		if [ ! -f "/dev/shm/$1.$FORMAT" ] || [ "$(stat -c %s "/dev/shm/$1.$FORMAT")" != "$size" ]; then
			cp "$file" "/dev/shm/$1.$FORMAT"
		fi
		echo "/dev/shm/$1.$FORMAT"
	else
		cat "$file" >/dev/null # warm the page cache
		echo "$file"
	fi
}

json() { sed -n "s/^ *\"$2\": \([0-9.]*\),*$/\1/p" "$1"; }

# busy: CPU jiffies (USER_HZ) the machine spent outside idle, so far.
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }

# timed LABEL CMD...: runs CMD under /usr/bin/time; sets WALL (s), CPU
# (user+sys s) and RSS (KiB), and prints them with the CPU time others used.
timed() {
	local label=$1 b0 b1
	shift
	b0=$(busy)
	/usr/bin/time -f '%e %U %S %M' -o "$OUT/time.txt" "$@" || echo "   $label: exit status $?" >&3
	b1=$(busy)
	local u s
	read -r WALL u s RSS <"$OUT/time.txt"
	CPU=$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}')
	local others
	others=$(awk -v b="$((b1 - b0))" -v hz="$(getconf CLK_TCK)" -v c="$CPU" 'BEGIN{printf "%.2f", b/hz-c}')
	echo "   $label: ${WALL} s, CPU ${CPU} s, $((RSS / 1024)) MiB (others used ${others} CPU s meanwhile)" >&3
}

# timed_flowlens LABEL CMD...: timed REPEAT times; sets WALL and CPU to the
# medians, RSS to the largest.
timed_flowlens() {
	local label=$1 walls="" cpus="" rss=0
	shift
	for i in $(seq "$REPEAT"); do
		timed "$label ($i/$REPEAT)" "$@"
		walls="$walls $WALL" cpus="$cpus $CPU"
		if [ "$RSS" -gt "$rss" ]; then rss=$RSS; fi
	done
	WALL=$(echo $walls | tr ' ' '\n' | sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}')
	CPU=$(echo $cpus | tr ' ' '\n' | sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}')
	RSS=$rss
}

NAME=cap-p$PACKETS-c$CONC-r$PPS-s$SEED
CAP=$(capture "$NAME" "$CONC" "$PPS")
TOT=$OUT/$NAME.totals.json
packets=$(json "$TOT" packets)
flows=$(json "$TOT" flows)
echo "== capture $CAP: $(stat -c %s "$CAP") bytes, $packets packets, $flows flows ($(json "$TOT" flows_tcp) tcp, $(json "$TOT" flows_udp) udp, $(json "$TOT" flows_icmp) icmp), $(json "$TOT" duration_seconds) s of capture time, $(json "$TOT" concurrent) sessions open at once, peak $(json "$TOT" peak_open_flows) flows open with a 60 s idle timeout"

echo "== check flowlens against the generator's totals"
"$BIN/flowlens" flows "$CAP" --format csv 2>"$OUT/flowlens.stderr" >"$OUT/flowlens.csv"
cat "$OUT/flowlens.stderr"
got=$(awk -F, 'NR==1{for(i=1;i<=NF;i++)c[$i]=i; next}
	{n++; po+=$c["packets_out"]; bo+=$c["bytes_out"]; pi+=$c["packets_in"]; bi+=$c["bytes_in"]}
	END{printf "%.0f %.0f %.0f %.0f %.0f %.0f %.0f", n, po+pi, bo+bi, po, bo, pi, bi}' "$OUT/flowlens.csv")
want="$flows $packets $(json "$TOT" bytes) $(json "$TOT" packets_out) $(json "$TOT" bytes_out) $(json "$TOT" packets_in) $(json "$TOT" bytes_in)"
echo "   flows packets bytes packets_out bytes_out packets_in bytes_in"
echo "   flowlens:  $got"
echo "   generator: $want"
if [ "$got" = "$want" ]; then echo "   OK"; else echo "   MISMATCH"; fi
rm -f "$OUT/flowlens.csv"

echo "== run (flowlens $REPEAT times after a warm-up run, on all cores and on one; each other tool once)"
timed "flowlens (warm-up)" "$BIN/flowlens" flows "$CAP" --format csv >/dev/null 2>&1
timed_flowlens flowlens "$BIN/flowlens" flows "$CAP" --format csv >/dev/null 2>&1
FW=$WALL FR=$RSS FC=$CPU
timed_flowlens "flowlens, 1 core" env GOMAXPROCS=1 "$BIN/flowlens" flows "$CAP" --format csv >/dev/null 2>&1
F1W=$WALL F1R=$RSS F1C=$CPU
if [ -z "${SKIP_OTHERS:-}" ]; then
	timed tshark tshark -r "$CAP" -q -z conv,tcp -z conv,udp >"$OUT/tshark.conv.txt" 2>"$OUT/tshark.stderr"
	TW=$WALL TR=$RSS
	ARGUSOUT=/dev/shm/capture-sidebyside.argus
	[ -d /dev/shm ] || ARGUSOUT=$OUT/capture-sidebyside.argus
	rm -f "$ARGUSOUT"
	timed "argus -r -w" argus -r "$CAP" -w "$ARGUSOUT" 2>"$OUT/argus.stderr"
	AW=$WALL AR=$RSS
	timed "ra -r" ra -r "$ARGUSOUT" >/dev/null 2>"$OUT/ra.stderr"
	RW=$WALL RR=$RSS
	echo "   ra printed $(ra -r "$ARGUSOUT" 2>/dev/null | wc -l) lines" >&3
	rm -f "$ARGUSOUT"
fi

echo
echo "== $(date -u +%Y-%m-%dT%H:%MZ), commit $commit, $(nproc) cores; $CAP ($(stat -c %s "$CAP") bytes, $packets packets, $flows flows)"
row() { awk -v l="$1" -v w="$2" -v r="$3" -v p="$packets" -v fw="$FW" -v fr="$FR" \
	'BEGIN{printf "%-22s %8.2f %12.0f %10.0f %12s %12s\n", l, w, p/w, r/1024, sprintf("%.1fx", w/fw), sprintf("%.2fx", r/fr)}'; }
printf "%-22s %8s %12s %10s %12s %12s\n" tool "wall s" "packets/s" "RSS MiB" "wall/flowlens" "RSS/flowlens"
row flowlens "$FW" "$FR"
row "flowlens, 1 core" "$F1W" "$F1R"
if [ -z "${SKIP_OTHERS:-}" ]; then
	row tshark "$TW" "$TR"
	row "argus (argus + ra)" "$(awk -v a="$AW" -v b="$RW" 'BEGIN{print a+b}')" "$(( AR > RR ? AR : RR ))"
	row "  argus -r -w" "$AW" "$AR"
	row "  ra -r" "$RW" "$RR"
fi
awk -v p="$packets" -v c="$FC" -v c1="$F1C" 'BEGIN{printf "flowlens: %.0f packets per CPU second on all cores (%.2f CPU s), %.0f on one core (%.2f CPU s)\n", p/c, c, p/c1, c1}'

if [ "$CONC2" != 0 ]; then
	echo
	echo "== flowlens peak RSS against flows open at once"
	NAME2=cap-p$PACKETS-c$CONC2-r$PPS2-s$SEED
	CAP2=$(capture "$NAME2" "$CONC2" "$PPS2")
	printf "%-34s %9s %9s %10s %8s %8s\n" capture flows "peak open" "idle s" "wall s" "RSS MiB"
	peaks=() rsss=()
	for spec in "$CAP $OUT/$NAME.totals.json" "$CAP2 $OUT/$NAME2.totals.json"; do
		set -- $spec
		timed_flowlens "flowlens $(basename "$1")" "$BIN/flowlens" flows "$1" --format csv >/dev/null 2>&1
		printf "%-34s %9s %9s %10s %8s %8d\n" "$(basename "$1")" "$(json "$2" flows)" "$(json "$2" peak_open_flows)" 60 "$WALL" $((RSS / 1024))
		peaks+=("$(json "$2" peak_open_flows)") rsss+=("$RSS")
	done
	awk -v p1="${peaks[0]}" -v p2="${peaks[1]}" -v r1="${rsss[0]}" -v r2="${rsss[1]}" \
		'BEGIN{if (p2 != p1) printf "peak RSS grows by %.0f bytes per flow open at once (%.0f MiB more for %d more flows)\n", (r2-r1)*1024/(p2-p1), (r2-r1)/1024, p2-p1}'
fi
