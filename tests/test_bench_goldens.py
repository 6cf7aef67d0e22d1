"""`reportgen bench` against benchstat's own goldens (x/perf cmd/benchstat/testdata).

Every number and verdict benchstat printed — medians, "± x%", the change or
"~", "(p=… n=…)", footnotes, geomeans — must come out of reportgen the same.
The inputs and goldens live in ../shared/benchstat-testdata (skipped when absent).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from reportgen.analyze.benchstat import compare, go_float
from reportgen.render.bench_pages import scale_one, unit_table
from reportgen.sources.bench import load_bench, split_by

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "benchstat-testdata" / "benchstat"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="../shared/benchstat-testdata absent")

_CELL = re.compile(r"(\S+) ±\s+(\S+)((?: [⁰¹²³⁴⁵⁶⁷⁸⁹]+)*)")
_TEST = re.compile(r"(~|\?|[+-]?\d+\.\d+%)\s+(\([^)]*\))((?: ?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)*)")


def golden_tables(text: str) -> list[dict]:
    """benchstat text -> [{"unit", "rows": {label: line}, "notes": [...]}] in order."""
    tables, cur = [], None
    for line in text.splitlines():
        if "│" in line:
            cells = [c.strip() for c in line.split("│")[1:-1]]
            if cur is None or cur["rows"]:
                cur = {"cols": cells, "rows": {}, "notes": []}
                tables.append(cur)
            else:
                cur["units"] = cells
            continue
        if cur is None or not line.strip() or re.match(r"^[a-z.]+: ", line):
            continue
        if line[0] in "⁰¹²³⁴⁵⁶⁷⁸⁹":
            cur["notes"].append(line)
        else:
            label = line.split()[0]
            cur["rows"][label] = line[len(label):]
    return tables


def parts(rest: str) -> tuple:
    """A table line without its label -> (cells, change, test, marks), spacing ignored."""
    cells = [(c, r, m.split()) for c, r, m in _CELL.findall(rest)]
    t = _TEST.search(rest)
    return cells, (t[1], t[2], t[3].split()) if t else None


def our_tables(cmp) -> dict[str, tuple[dict, list[str]]]:
    out = {}
    for unit in cmp.units:
        body, notes = unit_table(cmp.rows[unit], cmp.geomeans[unit], unit)
        out[unit] = ({b[0]: "  ".join(b[1:]) for b in body}, notes)
    return out


@needs_data
def test_crc_comparison_matches_benchstat():
    """crcIgnore: benchstat -ignore note crc-old.txt crc-new.txt, row by row."""
    golden = golden_tables((DATA / "crcIgnore.stdout").read_text())
    cmp = compare(load_bench(DATA / "crc-old.txt"), load_bench(DATA / "crc-new.txt"))
    ours = our_tables(cmp)
    assert [t["units"][0] for t in golden] == cmp.units == ["sec/op", "B/s"]
    compared = 0
    for table in golden:
        rows, notes = ours[table["units"][0]]
        assert list(rows) == list(table["rows"])
        for label, line in table["rows"].items():
            assert parts(rows[label]) == parts(line), label
            compared += 1
        assert notes == table["notes"]
    assert compared == 74


@needs_data
def test_crc_per_file_numbers_match_benchstat():
    """crcOldNew: benchstat crc-old.txt crc-new.txt shows each file alone (notes differ)."""
    golden = golden_tables((DATA / "crcOldNew.stdout").read_text())
    cmp = compare(load_bench(DATA / "crc-old.txt"), load_bench(DATA / "crc-new.txt"))
    sides = {"crc-old.txt": "base", "crc-new.txt": "target"}
    for table in golden:
        side, unit = sides[table["cols"][0]], table["units"][0]
        rows = {r.name: getattr(r, side) for r in cmp.rows[unit]}
        for label, line in table["rows"].items():
            if label == "geomean":
                assert scale_one(getattr(cmp.geomeans[unit], side), unit) == line.strip()
                continue
            s = rows[label]
            assert f"{scale_one(s.center, unit)} ± {s.range_text()}" == line.strip(), label


@needs_data
def test_csv_numbers_are_benchstats_floats(run_cli):
    """csvOldNew: benchstat -format csv old.txt new.txt prints full floats: they are ours."""
    r = run_cli("bench", DATA / "old.txt", DATA / "new.txt", "--format", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    golden = list(csv.reader(io.StringIO((DATA / "csvOldNew.stdout").read_text())))
    body = {row[0]: row for row in golden[5:]}
    assert golden[4] == ["", "sec/op", "CI", "sec/op", "CI", "vs base", "P"]
    for row in d["rows"]["sec/op"]:
        g = body[row["name"]]
        assert [go_float(row["base"]["center"]), row["base"]["range"],
                go_float(row["target"]["center"]), row["target"]["range"], row["delta"],
                f"p={row['test']['p']:.3f} n={row['test']['n1']}"] == g[1:], row["name"]
    gm = d["geomeans"]["sec/op"]
    assert [go_float(gm["base"]), go_float(gm["target"]),
            f"{gm['delta_pct']:+.2f}%"] == [body["geomean"][1], body["geomean"][3],
                                            body["geomean"][5]]


@needs_data
@pytest.mark.parametrize("name", ["units", "zero", "smallSample", "issue19565", "issue19634"])
def test_col_note_goldens(name):
    """benchstat -col note FILE: the file's two notes compared, every table and footnote."""
    before, after = split_by(load_bench(DATA / f"{name}.txt"), "note")
    cmp = compare(before, after)
    golden = golden_tables((DATA / f"{name}.stdout").read_text())
    ours = our_tables(cmp)
    assert [t["units"][0] for t in golden] == cmp.units
    for table in golden:
        rows, notes = ours[table["units"][0]]
        assert list(rows) == list(table["rows"])
        for label, line in table["rows"].items():
            mine = rows[label]
            assert parts(mine) == parts(line), (label, mine, line)
            if label == "geomean":  # no "±" there: compare the words
                assert mine.split() == line.split(), (mine, line)
        assert notes == table["notes"]


@needs_data
def test_text_output_carries_the_numbers(run_cli):
    r = run_cli("bench", DATA / "crc-old.txt", DATA / "crc-new.txt")
    assert r.returncode == 0, r.stderr
    assert re.search(r"CRC32/poly=IEEE/size=15/align=0-8 +46\.55n ± 9% +44\.40n ± 2% +-4\.62% "
                     r"+\(p=0\.008 n=10\)", r.stdout)
    assert re.search(r"geomean +344\.5n +237\.5n +-31\.05%", r.stdout)
    assert "note: hw acceleration disabled → hw acceleration enabled" in r.stdout
    assert "sec/op: geomean -31.1% over 36" in r.stdout


@needs_data
def test_col_note_from_the_command_line(run_cli):
    r = run_cli("bench", DATA / "zero.txt", "--col", "note")
    assert r.returncode == 0, r.stderr
    assert re.search(r"ZeroOverZero +0\.000 ± 0% +0\.000 ± 0% +0\.00% +\(n=1\)", r.stdout)
    assert re.search(r"NonZeroOverZero +0\.0 ± 0% +100\.0 ± 0% +\? +\(n=1\)", r.stdout)
    assert "¹ summaries must be >0 to compute geomean" in r.stdout
    assert "before: " in r.stdout and "zero.txt (note: before)" in r.stdout
    bad = run_cli("bench", DATA / "zero.txt", "--col", "goos")
    assert bad.returncode == 2 and "needs exactly two values of 'goos:'" in bad.stderr
    both = run_cli("bench", DATA / "old.txt", DATA / "new.txt", "--col", "note")
    assert both.returncode == 2 and len(both.stderr.strip().splitlines()) == 1


@needs_data
def test_confidence_level_changes_the_interval(run_cli):
    # benchstat -confidence 0.5 old.txt new.txt prints 1.423µ ± 0% where 0.95 gives ± 1%.
    r = run_cli("bench", DATA / "old.txt", DATA / "new.txt", "--confidence", "0.5")
    assert re.search(r"Encode/format=json-48 +1\.718µ ± 1% +1\.423µ ± 0% +-17\.20%", r.stdout)
    r = run_cli("bench", DATA / "old.txt", DATA / "new.txt")
    assert re.search(r"Encode/format=json-48 +1\.718µ ± 1% +1\.423µ ± 1% +-17\.20%", r.stdout)
    assert run_cli("bench", DATA / "old.txt", DATA / "new.txt", "--confidence", "2").returncode == 2
