"""Numbers for people in HTML (per-value units, no exponents, plurals), and JSON
rows with one shape in every command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reportgen import units

ROOT = Path(__file__).resolve().parent.parent
GATEWAY = ROOT / "examples" / "gateway" / "profiles"


@pytest.mark.parametrize("value, unit, text", [
    (80_600_000, "nanoseconds", "80.6 ms"), (1_084_479_242, "bytes", "1.01 GB"),
    (512, "bytes", "512 B"), (2_000_000_000, "nanoseconds", "2 s"), (0, "bytes", "0"),
    (-950_000_000, "nanoseconds", "-950 ms"), (1234, "count", "1,234"),
    (1500, "nanoseconds", "1.5 µs"), (99_960, "bytes", "97.6 kB")])
def test_human_scales_each_value(value, unit, text):
    assert units.human(value, unit) == text


@pytest.mark.parametrize("value, total, text", [
    (47, 1_000_000, "<0.01%"), (0, 10, "0%"), (95, 100, "95%"), (427, 1000, "42.7%"),
    (47, 10_000, "0.47%"), (-5, 100, "5%"), (99_999, 100_000, "100%"), (1, 3, "33.3%")])
def test_human_percent_never_uses_exponents(value, total, text):
    assert units.human_percent(value, total) == text


def test_plural():
    assert [units.plural(n, "function") for n in (0, 1, 2, 1500)] == [
        "0 functions", "1 function", "2 functions", "1,500 functions"]


def test_html_values_are_scaled_per_value(tmp_path, run_cli):
    """A table mixing seconds and microseconds shows each in its own unit, where
    pprof's text would print one column-wide unit."""
    proc = run_cli("build", GATEWAY / "before" / "mutex.pb.gz", "-o", tmp_path / "s")
    assert proc.returncode == 0, proc.stderr
    page = next((tmp_path / "s" / "pages").glob("profile-*[0-9a-f].html")).read_text()
    assert " ms</td>" in page and " µs</td>" in page
    text = run_cli("top", GATEWAY / "before" / "mutex.pb.gz").stdout
    assert " ms" not in text and "µs" not in text  # pprof's text: one unit, no space


def _keys_ok(row):
    assert {"file", "line", "inline"} <= row.keys(), row
    assert row["inline"] in (None, "inline", "partial-inline"), row


@pytest.mark.parametrize("granularity", ["functions", "filefunctions", "lines", "files"])
def test_top_rows_always_carry_file_line_inline(run_cli, granularity):
    proc = run_cli("top", GATEWAY / "before" / "cpu.pb.gz", "--granularity", granularity,
                   "--nodes", "all", "--format", "json")
    data = json.loads(proc.stdout)
    for row in data["rows"] + [data["program_hotspot"] or {"file": None, "line": None,
                                                           "inline": None}]:
        _keys_ok(row)
        if granularity == "lines":
            assert isinstance(row["file"], str) and isinstance(row["line"], int)
        if granularity == "functions":
            assert row["file"] is None and row["line"] is None
    assert any(r["inline"] == "inline" for r in data["rows"])


def test_inline_has_one_type_in_peek_and_diff(run_cli):
    peek = json.loads(run_cli("peek", GATEWAY / "before" / "cpu.pb.gz", "json",
                              "--format", "json").stdout)
    seen = set()
    for node in peek["nodes"]:
        assert node["inline"] in (None, "inline", "partial-inline")
        for e in node["callers"] + node["callees"]:
            assert e["inline"] in (None, "inline")
            seen.add(e["inline"])
    assert seen == {None, "inline"}
    diff = json.loads(run_cli("diff", GATEWAY / "before" / "cpu.pb.gz",
                              GATEWAY / "after" / "cpu.pb.gz", "--format", "json").stdout)
    for row in diff["table"]["rows"]:
        _keys_ok(row)
