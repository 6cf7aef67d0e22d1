#!/usr/bin/env bash
# Build and run benchmarks/largeheap to produce benchmarks/data/large.heap.pb.gz,
# a ~4 MB gzipped Go heap profile with ~165k distinct stacks ~30 frames deep.
#
# Idempotent: does nothing if the output already exists (use -f to rebuild).
# Only needs the Go toolchain (stdlib only; no module downloads).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
out="$here/data/large.heap.pb.gz"

force=0
if [[ "${1:-}" == "-f" || "${1:-}" == "--force" ]]; then
    force=1
fi

if [[ -s "$out" && $force -eq 0 ]]; then
    echo "make_large_profile: $out already exists, skipping (use -f to rebuild)"
    exit 0
fi

GO="${GO:-}"
if [[ -z "$GO" ]]; then
    if command -v go >/dev/null 2>&1; then
        GO="$(command -v go)"
    elif [[ -x "$repo/.venv/bin/go" ]]; then
        GO="$repo/.venv/bin/go"
    else
        echo "make_large_profile: no Go toolchain found (set GO=/path/to/go)" >&2
        exit 1
    fi
fi
# Never try to download toolchains or modules.
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod

mkdir -p "$here/data"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

start=$(date +%s.%N)
cd "$here/largeheap"
# funcs_gen.go is deterministic (fixed seed); regenerate it so the checkout
# does not need to carry the ~380 KB generated file.
"$GO" run gen.go -o funcs_gen.go
"$GO" build -o "$tmp/largeheap" .
"$tmp/largeheap" -o "$tmp/large.heap.pb.gz"
mv -f "$tmp/large.heap.pb.gz" "$out"   # atomic: never leave a partial file
end=$(date +%s.%N)

size=$(wc -c <"$out")
elapsed=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')
echo "make_large_profile: wrote $out ($size bytes) in ${elapsed}s"
