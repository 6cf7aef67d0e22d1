"""`reportgen bench` text and JSON, bad input, and the report page."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from reportgen.analyze.benchstat import compare
from reportgen.commands import COMMANDS
from reportgen.commands import bench as bench_command
from reportgen.render.bench_pages import MAX_CHARTS, bench_page, fmt_value, format_text
from reportgen.render.site import SiteWriter
from reportgen.sources.bench import BenchError, load_bench, parse_bench

ROOT = Path(__file__).resolve().parent.parent
BEFORE = ROOT / "examples" / "gateway" / "profiles" / "bench-before.txt"
AFTER = ROOT / "examples" / "gateway" / "profiles" / "bench-after.txt"
DATA = Path(__file__).resolve().parent / "data" / "bench"
wired = pytest.mark.skipif("bench" not in COMMANDS, reason="bench not in COMMANDS yet")


def run(old, new, fmt="text", alpha=0.05) -> int:
    return bench_command.run(argparse.Namespace(old=str(old), new=str(new), format=fmt,
                                                alpha=alpha))


def runs(name, values, unit="ns/op"):
    return "".join(f"Benchmark{name}-8 100 {v} {unit}\n" for v in values)


def test_gateway_text(capsys):
    assert run(BEFORE, AFTER) == 0
    out = capsys.readouterr().out
    assert "pkg: example.com/gateway" in out
    # benchstat prints exactly these cells for the gateway's files.
    assert re.search(r"Handler-2 +62\.66µ ± 39% +25\.20µ ± 8% +-59\.79% +\(p=0\.002 n=6\)", out)
    assert re.search(r"Handler-2 +15\.133Ki ± 0% +6\.650Ki ± 0% +-56\.05% +\(p=0\.002 n=6\)",
                     out)
    assert re.search(r"Handler-2 +249\.00 ± 0% +32\.00 ± 0% +-87\.15% +\(p=0\.002 n=6\)", out)
    assert "sec/op: 59.8% faster (62.66µs → 25.20µs, p=0.002, n=6+6)" in out


def test_gateway_json_has_every_number(capsys):
    assert run(BEFORE, AFTER, "json") == 0
    d = json.loads(capsys.readouterr().out)
    assert d["units"] == ["sec/op", "B/op", "allocs/op"]
    row = d["rows"]["sec/op"][0]
    ns = [86992, 84046, 64073, 57462, 57082, 61239]
    assert row["base"]["values"] == [v * 1e-9 for v in ns]
    assert row["base"]["center"] == pytest.approx(62656e-9)
    assert (row["base"]["lo"], row["base"]["hi"]) == (57082 * 1e-9, 86992 * 1e-9)
    assert row["test"]["p"] == pytest.approx(2 / 924) and row["test"]["method"] == "exact"
    assert row["significant"] and row["delta_pct"] == pytest.approx(25195 / 62656 * 100 - 100)
    assert row["delta"] == "-59.79%" and row["base"]["range"] == "39%"


def test_too_few_runs_and_no_change_are_said_plainly():
    old = parse_bench(runs("Few", [10, 11, 12]) + runs("Same", [5, 6, 5, 6, 5, 6, 5]), "o")
    new = parse_bench(runs("Few", [5, 6, 7]) + runs("Same", [6, 5, 6, 5, 5, 6, 6]), "n")
    text = format_text(compare(old, new))
    assert re.search(r"Few-8 +11\.000n ± ∞ ¹ +6\.000n ± ∞ ¹ +~ +\(p=0\.100 n=3\) ²", text)
    assert re.search(r"Same-8 .* ~ +\(p=\d\.\d{3} n=7\)", text)
    assert "¹ need >= 6 samples for confidence interval at level 0.95" in text
    assert "² need >= 4 samples to detect a difference at alpha level 0.05" in text
    assert ("sec/op: geomean -19.1% over 2; 0 of 2 benchmarks changed significantly; "
            "1 had too few runs to tell") in text
    assert "geomean" in text


def test_benchmarks_in_one_file_only():
    text = format_text(compare(parse_bench(runs("Gone", [1, 2]), "o"),
                               parse_bench(runs("New", [3, 4, 5]), "n")))
    assert re.search(r"Gone-8 +1\.500n ± ∞ ¹\n", text)
    assert re.search(r"New-8 +4\.000n ± ∞ ¹\n", text)
    assert "benchmark set differs from baseline; geomeans may not be comparable" in text
    assert "sec/op: 0 of 2 benchmarks changed significantly" in text


def test_value_format():
    assert fmt_value(62656e-9, "sec/op") == "62.66µs"
    assert fmt_value(62656, "ns/op") == "62.66µs" and fmt_value(1.25, "ns/op") == "1.250ns"
    assert fmt_value(2.5e9, "ns/op") == "2.500s" and fmt_value(0, "ns/op") == "0s"
    assert fmt_value(15496.5, "B/op") == "15.13KiB" and fmt_value(512, "B/op") == "512.0B"
    assert fmt_value(249, "allocs/op") == "249.0" and fmt_value(0.5, "allocs/op") == "0.5000"
    assert fmt_value(103.68, "MB/s") == "103.7" and fmt_value(-12345, "x/op") == "-12.35k"


def test_bad_input_from_run():
    with pytest.raises(BenchError, match=r"garbage\.txt: no benchmark results"):
        run(DATA / "garbage.txt", AFTER)
    with pytest.raises(BenchError, match=r"nope\.txt: no such file"):
        run(BEFORE, DATA / "nope.txt")


@wired
@pytest.mark.parametrize("name", ["empty.txt", "garbage.txt", "nope.txt"])
def test_bad_input_exits_2(run_cli, name):
    r = run_cli("bench", DATA / name, AFTER)
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and "Traceback" not in r.stderr


@wired
def test_cli_text_and_alpha(run_cli):
    r = run_cli("bench", BEFORE, AFTER, "--alpha", "0.01")
    assert r.returncode == 0 and re.search(r"-59\.79% +\(p=0\.002 n=6\)", r.stdout)
    # the answer first: the verdict lines come before benchstat's tables
    assert r.stdout.index("sec/op: ") < r.stdout.index("before: ")
    assert run_cli("bench", BEFORE, AFTER, "--alpha", "2").returncode == 2


HOSTILE = ["<script>alert(1)</script>", "{{7*7}}", '"onmouseover=alert(2)', "&amp;x"]


def hostile_sets(tmp_path):
    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    head = "pkg: <img src=x onerror=alert(3)>\n"
    old.write_text(head + "".join(runs(h, [10, 11, 12, 13, 14, 15]) for h in HOSTILE))
    new.write_text(head + "".join(runs(h, [20, 21, 22, 23, 24, 25]) for h in HOSTILE))
    return compare(load_bench(old), load_bench(new))


def render(tmp_path, cmp, slug="03-bench"):
    writer = SiteWriter(ROOT / "themes" / "default", "Report")
    summary = bench_page(writer, slug, "Benchmarks", cmp, {}, None)
    out = writer.write(tmp_path / "site")
    return summary, (out / "pages" / f"{slug}.html").read_text(), out


def test_page_renders_gateway(tmp_path):
    summary, html, out = render(tmp_path, compare(load_bench(BEFORE), load_bench(AFTER)))
    assert summary.startswith("sec/op: 59.8% faster")
    answer = html.index('class="answer"')
    assert answer < html.index("<table") and "sec/op: 59.8% faster" in html[answer:answer + 300]
    assert "62.66µ ± 39%" in html and "(p=0.002 n=6)" in html
    assert html.count("<table") == 3 and html.count("<svg") == 3
    assert 'class="num neg"' in html and "-59.79%" in html
    data = json.loads((out / "data" / "03-bench.json").read_text())
    assert data["kind"] == "bench" and data["rows"]["B/op"][0]["target"]["center"] == 6810


def test_page_escapes_hostile_names(tmp_path):
    _, html, out = render(tmp_path, hostile_sets(tmp_path))
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(3)&gt;" in html
    outside_charts = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
    assert '"onmouseover' not in outside_charts and "&#34;onmouseover" in outside_charts
    assert "&amp;amp;x" in html and "{{7*7}}" in html and "49" not in outside_charts
    # pygal's own <script> is dropped, and its escaping holds inside the charts.
    for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S):
        assert "<script" not in svg and "alert(1)</" not in svg
    names = [r["name"] for r in json.loads((out / "data" / "03-bench.json").read_text())
             ["rows"]["sec/op"]]
    assert names == [h + "-8" for h in HOSTILE]


def test_page_caps_charts(tmp_path):
    text = "".join(runs(f"N{i}", [1, 2]) for i in range(MAX_CHARTS + 3))
    cmp = compare(parse_bench(text, "a"), parse_bench(text, "b"))
    _, html, _ = render(tmp_path, cmp)
    assert html.count("<svg") == MAX_CHARTS and "3 more benchmarks are not drawn" in html
    assert "geomean" in html


def test_charts_are_deterministic(tmp_path):
    cmp = compare(load_bench(BEFORE), load_bench(AFTER))
    assert render(tmp_path / "a", cmp)[1] == render(tmp_path / "b", cmp)[1]


def test_skipped_result_lines_are_reported():
    cmp = compare(load_bench(DATA / "mixed.txt"), load_bench(BEFORE))
    assert ("mixed.txt: skipped 3 line(s) benchstat cannot read: line 5 (parsing iteration "
            "count: invalid syntax), 14 (parsing measurement: invalid syntax), 15 (missing "
            "units)") in format_text(cmp)


def _manifest_knows_bench() -> bool:
    from reportgen.manifest import ANALYSES
    return "bench" in ANALYSES


@pytest.mark.skipif(not _manifest_knows_bench(), reason="manifest has no bench kind yet")
def test_build_from_manifest(tmp_path, run_cli):
    (tmp_path / "site.yml").write_text(
        f"title: Gateway\nanalyses:\n  - kind: bench\n    base: {BEFORE}\n"
        f"    target: {AFTER}\n    alpha: 0.05\n")
    (tmp_path / "junk.txt").write_text("PASS\n")
    r = run_cli("build", tmp_path / "site.yml", "-o", tmp_path / "site")
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "site" / "pages" / "01-bench.html").read_text()
    assert "sec/op: 59.8% faster" in page and "sec/op: 59.8% faster" in (
        tmp_path / "site" / "index.html").read_text()
    (tmp_path / "bad.yml").write_text(
        "analyses:\n  - kind: bench\n    base: junk.txt\n    target: junk.txt\n")
    r = run_cli("build", tmp_path / "bad.yml", "-o", tmp_path / "bad")
    assert r.returncode == 2 and "junk.txt: no benchmark results" in r.stderr
    (tmp_path / "alpha.yml").write_text(
        f"analyses:\n  - kind: bench\n    base: {BEFORE}\n    target: {AFTER}\n    alpha: 2\n")
    r = run_cli("build", tmp_path / "alpha.yml", "-o", tmp_path / "alpha")
    assert r.returncode == 2 and "alpha" in r.stderr


def test_many_benchmarks_verdict_names_the_extremes(tmp_path):
    old = runs("Fast", range(100, 110)) + runs("Slow", range(100, 110)) + runs("Flat", [7] * 8)
    new = runs("Fast", range(50, 60)) + runs("Slow", range(200, 210)) + runs("Flat", [7] * 8)
    cmp = compare(parse_bench(old, "o"), parse_bench(new, "n"))
    text = format_text(cmp)
    assert ("sec/op: geomean +0.7% over 3; 2 of 3 benchmarks changed significantly (1 better, "
            "1 worse); worst: Slow-8 +95.7%; best: Fast-8 -47.8%") in text
    _, html, _ = render(tmp_path, cmp)
    assert 'class="num pos"' in html and 'class="num neg"' in html and "&lt;0.001" in html


CASES = ROOT.parent / "shared" / "cases" / "fuzz" / "bench"
needs_cases = pytest.mark.skipif(not CASES.is_dir(), reason="../shared/cases absent")


@needs_cases
def test_thousands_of_runs_take_benchstats_large_sample_paths():
    """3000 runs: the median's interval and the U test switch to normal approximations."""
    bench = load_bench(CASES / "many-runs-cpu" / "old.txt")
    row = compare(bench, bench).rows["sec/op"][0]
    assert row.base.n == 3000 and row.test.method == "normal" and row.test.p == 1.0
    assert row.base.bounded and row.base.lo <= row.base.center <= row.base.hi


@needs_cases
@wired
def test_iteration_count_beyond_int64_is_one_line(run_cli):
    path = CASES / "iterations-over-4300-digits" / "b.txt"
    r = run_cli("bench", path, path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "b.txt" in r.stderr


def test_one_table_per_package_like_benchstat():
    """benchstat splits tables by package: each has its own rows and geomean."""
    from scipy import stats

    def two(pkg, a, b):
        return f"pkg: {pkg}\n" + runs("A", a) + runs("B", b)
    old = parse_bench(two("ex/a", range(100, 106), range(200, 206)) +
                      two("ex/b", range(10, 16), range(20, 26)), "o")
    new = parse_bench(two("ex/a", range(50, 56), range(100, 106)) +
                      two("ex/b", range(20, 26), range(40, 46)), "n")
    cmp = compare(old, new)
    assert [(t.pkg, t.unit, [r.name for r in t.rows]) for t in cmp.tables] == [
        ("ex/a", "sec/op", ["A-8", "B-8"]), ("ex/b", "sec/op", ["A-8", "B-8"])]
    a, b = cmp.tables[0].geomean, cmp.tables[1].geomean
    assert a.ratio == pytest.approx(stats.gmean([52.5 / 102.5, 102.5 / 202.5]))
    assert b.ratio == pytest.approx(stats.gmean([22.5 / 12.5, 42.5 / 22.5]))
    text = format_text(cmp)
    assert text.index("pkg: ex/a") < text.index("pkg: ex/b")
    for g in (a, b):
        assert re.search(r"geomean .* " + re.escape(f"{(g.ratio - 1) * 100:+.2f}%"), text)
    assert "worst: ex/b.A-8" in text or "worst: ex/b.B-8" in text
