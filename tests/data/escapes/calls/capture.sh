#!/usr/bin/env bash
# Regenerates calls/captured (-m, -m=2, -json and an every-allocation profile)
# with the same steps as the category cases.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/../cases/capture.sh" "$here"
