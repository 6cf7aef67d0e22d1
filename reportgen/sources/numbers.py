"""Integers read from text, bounded before they are converted.

Every text reader (goroutine dumps, panic output, benchmark output, compiler
logs, site.yml) parses its numbers here. Python's int() refuses strings of
more than 4300 digits with a ValueError, and an int beyond int64 overflows
numpy later; both are input errors, so they end here as one line naming the
file, the line and the number's range.
"""

from __future__ import annotations

from reportgen.errors import ManifestError, ProfileError

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1
_DIGITS = {10: "0123456789", 16: "0123456789abcdefABCDEF"}


def parse_int(text: str, path, line: int | None = None, *, what: str = "number",
              lo: int = INT64_MIN, hi: int = INT64_MAX, base: int = 10,
              error: type = ProfileError) -> int:
    """`text` (decimal or, with base=16, hex digits, an optional sign) as an int in [lo, hi].

    Raises `error` naming `path` and `line` (1-based) when the text is not a
    number or lies outside the range; the length is checked before any
    conversion, so a 10^6-digit number costs one pass over its text.
    """
    t = text.strip()
    body = t[1:] if t[:1] in "+-" else t
    if not body or body.strip(_DIGITS[base]):
        _fail(error, path, line, f"{what}: expected an integer (got {_clip(t)!r})")
    significant = body.lstrip("0")
    widest = max(_width(lo, base), _width(hi, base))
    if len(significant) > widest:
        _fail(error, path, line, f"{what} out of range: a {len(significant)}-digit number "
                                 f"{_clip(t)} (expected {lo} to {hi})")
    value = int(t, base)
    if not lo <= value <= hi:
        _fail(error, path, line, f"{what} out of range: {value} (expected {lo} to {hi})")
    return value


def _width(bound: int, base: int) -> int:
    n, width = abs(bound), 1
    while n >= base:
        n //= base
        width += 1
    return width


def _clip(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _fail(error, path, line, reason):
    if issubclass(error, ManifestError):
        raise error(path, reason, line)
    raise error(f"{path}:{line}" if line else path, reason)
