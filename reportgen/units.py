"""Human units for sample values, following pprof's measurement rules.

A unit family (bytes, time) scales a value to the largest unit it reaches;
counts and unknown units are printed as plain numbers.
"""

from __future__ import annotations

import math

# (canonical name, aliases, factor relative to the family's base)
_BYTES = [("B", ("b", "byte"), 1), ("kB", ("kb", "kbyte", "kilobyte"), 1 << 10),
          ("MB", ("mb", "mbyte", "megabyte"), 1 << 20), ("GB", ("gb", "gbyte", "gigabyte"), 1 << 30),
          ("TB", ("tb", "tbyte", "terabyte"), 1 << 40), ("PB", ("pb", "pbyte", "petabyte"), 1 << 50)]
_TIME = [("ns", ("ns", "nanosecond"), 1), ("us", ("μs", "us", "microsecond"), 1e3),
         ("ms", ("ms", "millisecond"), 1e6), ("s", ("s", "sec", "second"), 1e9),
         ("hrs", ("hour", "hr"), 3600e9)]
_FAMILIES = [(_BYTES, "B"), (_TIME, "s")]


def _sniff(unit: str):
    """(family, factor) of a unit name, accepting plurals like pprof does."""
    u = unit.lower()
    if len(u) > 2 and u.endswith("s"):
        u = u[:-1]
    for family, default in _FAMILIES:
        for name, aliases, factor in family:
            if u in aliases:
                return family, default, factor
    return None


def scale(value: float, from_unit: str, to_unit: str = "auto") -> tuple[float, str]:
    """Convert `value` in `from_unit` to `to_unit` ("auto": the largest unit reached)."""
    if value < 0:
        v, u = scale(-value, from_unit, to_unit)
        return -v, u
    found = _sniff(from_unit)
    if found is None:
        if to_unit in ("count", "sample", "unit", "minimum", "auto"):
            return float(value), ""
        return float(value), to_unit
    family, default, factor = found
    base = value * factor
    if to_unit in ("auto", "minimum"):
        best = None
        for name, _aliases, f in family:
            if base / f >= 1.0 and (best is None or f >= best[1]):
                best = (name, f)
        if best is None:
            best = next((n, f) for n, _a, f in family if n == default)
        return base / best[1], best[0]
    target = _sniff(to_unit)
    if target is None or target[0] is not family:
        f = next(f for n, _a, f in family if n == default)
        return base / f, default
    name = next(n for n, _a, f in family if f == target[2])
    return base / target[2], name


def label(value: int, from_unit: str, to_unit: str = "auto") -> str:
    """A value with its unit, two decimals at most: 1.28s, 925.14kB, 0."""
    v, u = scale(value, from_unit, to_unit)
    text = f"{v:.2f}"
    if text.endswith(".00"):
        text = text[:-3]
    if text in ("0", "-0"):
        return "0"
    return text + u


def output_unit(values, total: int, sample_unit: str) -> str:
    """The unit pprof picks for a whole table: small enough for its smallest row."""
    smallest = 0
    for flat, cum in values:
        v = abs(flat) or abs(cum)
        if v and (smallest == 0 or v < smallest):
            smallest = v
    if smallest == 0:
        smallest = total
    _, min_unit = scale(smallest, sample_unit, "minimum")
    _, max_unit = scale(total, sample_unit, "minimum")
    unit = min_unit
    if min_unit != max_unit and smallest * 100 < total:
        _, unit = scale(100 * smallest, sample_unit, "minimum")
    return unit or sample_unit


def signed_percent(pct: float, digits: int = 1) -> str:
    """A change in percent with its sign: +1.5%, -12.0%. A change that rounds to
    zero is +0.0%, never the -0.0% of Python's format for a small negative."""
    text = f"{pct:+.{digits}f}"
    if float(text) == 0:
        text = "+" + text[1:]
    return text + "%"


def percentage(value: int, total: int) -> str:
    """pprof's percentage: unsigned, two decimals, two significant digits below 1%."""
    ratio = abs(value / total) * 100 if total else 0.0
    if 99.95 <= ratio <= 100.05:
        return "  100%"
    if ratio >= 1.0:
        return f"{ratio:5.2f}%"
    return _go_g(ratio) + "%"


def _go_g(x: float) -> str:
    """Go's %5.2g: two significant digits, shortest form, right-aligned to 5."""
    if x == 0:
        return "    0"
    exp = math.floor(math.log10(abs(x)))
    rounded = float(f"{x:.1e}")
    exp = math.floor(math.log10(abs(rounded))) if rounded else exp
    if exp < -4 or exp >= 2:
        mant, e = f"{x:.1e}".split("e")
        mant = mant.rstrip("0").rstrip(".")
        text = f"{mant}e{int(e):+03d}"
    else:
        text = f"{x:.{max(1 - exp, 0)}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    return f"{text:>5}"


# For people (HTML pages, answer sentences): each value scaled on its own, three
# significant digits, a space before the unit. The CLI's text keeps pprof's
# column-wide units (label, output_unit) so that it stays byte-identical.
_HUMAN_NAMES = {"us": "µs"}


def _three_digits(v: float) -> str:
    a = abs(v)
    text = f"{v:.0f}" if a >= 99.95 else f"{v:.1f}" if a >= 9.995 else f"{v:.2f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("0", "-0") else text


def human(value: int | float, from_unit: str) -> str:
    """`value` in its own best unit: 80.6 ms, 1.01 GB, 512 B, 1,234 (counts)."""
    if not value:
        return "0"
    found = _sniff(from_unit)
    if found is None:
        if float(value).is_integer():
            return f"{int(value):,}"
        return _three_digits(float(value))
    v, u = scale(value, from_unit, "auto")
    return f"{_three_digits(v)} {_HUMAN_NAMES.get(u, u)}"


def signed_human(value: int | float, from_unit: str) -> str:
    return ("+" if value > 0 else "") + human(value, from_unit)


def human_percent(value: int | float, total: int | float) -> str:
    """|value| as a share of |total|: 42.7%, 5%, 0.47%, "<0.01%" (never 4.7e-05%)."""
    if not total or not value:
        return "0%"
    ratio = abs(value / total) * 100
    if ratio < 0.005:
        return "<0.01%"
    if 99.95 <= ratio < 100.05:
        return "100%"
    text = f"{ratio:.1f}" if ratio >= 9.995 else f"{ratio:.2f}"
    return text.rstrip("0").rstrip(".") + "%"


def signed_percent_change(new: float, old: float) -> str:
    """Relative change new vs old: +12.5%, -37%, "new" when old is 0."""
    if not old:
        return "new" if new else "0%"
    change = (new - old) / abs(old) * 100
    if abs(change) < 0.005:
        return "0%"
    text = human_percent(change, 100)
    return ("+" if change > 0 else "-") + text


_IRREGULAR = {"is": "are", "was": "were", "has": "have"}


def plural(n: int, word: str, many: str | None = None) -> str:
    """"1 function", "2 functions", "0 functions"."""
    if n == 1:
        return f"{n:,} {word}"
    return f"{n:,} {many or _IRREGULAR.get(word, word + 's')}"
