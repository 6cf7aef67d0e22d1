"""Charts read well where they are shown: fonts, value labels inside the chart
beside their bars, names kept from their start, round byte ticks; a leak
report with no suspect says so instead of drawing an empty chart (issue 10
item 9)."""

import re
import subprocess
import sys
from pathlib import Path

from reportgen.render.charts import LABEL_CHARS, horizontal_bars, nice_ticks, shorten

ROOT = Path(__file__).resolve().parent.parent
LONG = "github.com/acme/gateway/internal/handlers.(*Server).ServeJSONRequestWithLongName"


def test_fonts_are_readable_at_display_size():
    from reportgen.render.goroutine_pages import group_lines, state_bars
    charts = [horizontal_bars("c", "Top", ["a", "b"], [10, 5], "count", "auto"),
              group_lines("g", ["t1", "t2"], [("#1 main.leak", [1, 5])]),
              state_bars("s", ["t1", "t2"], [{"chan receive": 3}, {"chan receive": 9}])]
    for svg in map(str, charts):
        sizes = {sel.strip().split()[-1]: int(px) for sel, px in
                 re.findall(r"([^{}]*)\{[^}]*font-size:\s*(\d+)px", svg)}
        # drawn 640-760 wide, shown at 560 px at least: 14 px stays above 10 px
        assert all(px >= 14 for sel, px in sizes.items() if sel != "text.no_data"), sizes


def test_value_labels_sit_beside_their_bars_inside_the_chart():
    values = [3_000_000_000, 1_200_000_000, -900_000_000]
    for diverging in (False, True):
        svg = str(horizontal_bars("c", "t", ["a", "b", "c"], values, "nanoseconds", "auto",
                                  diverging=diverging))
        labels = re.findall(r'<text text-anchor="(\w+)" x="([-\d.]+)" y="[-\d.]+" '
                            r'class="value[^"]*"[^>]*>([^<]*)<', svg)
        assert len(labels) == 3
        for anchor, x, text in labels:
            x = float(x)
            width = len(text) * 8.5  # 14 px system-ui digits: at most ~8.5 px each
            if anchor == "start":
                assert x + width <= 640, (text, x)
            else:
                assert anchor == "end" and x - width >= 0, (text, x)
        assert {a for a, _, t in labels if t.startswith("-")} <= {"end"}


def test_names_keep_their_start():
    short = shorten(LONG, LABEL_CHARS)
    assert len(short) <= LABEL_CHARS and not short.startswith("…")
    assert short == "(*Server).ServeJSONRequestWithLongName"  # import path, then package go
    assert shorten("main.f", LABEL_CHARS) == "main.f"


def test_byte_ticks_are_powers_of_two():
    ticks = nice_ticks(0, 10_000, binary=True)
    step = ticks[1] - ticks[0]
    assert step == 2 ** 11 and ticks[-1] >= 10_000 and len(ticks) <= 7
    assert nice_ticks(0, 1234) == [0, 500, 1000, 1500]
    assert nice_ticks(-30, 70) == [-40, -20, 0, 20, 40, 60, 80]


def test_bench_help_shows_a_plain_percent():
    out = subprocess.run([sys.executable, "-m", "reportgen", "bench", "--help"], cwd=ROOT,
                         capture_output=True, text=True).stdout
    assert "95% confidence" in out.replace("\n", " ") and "%%" not in out


def test_leak_page_without_suspects_says_so(tmp_path, run_cli):
    dump = ROOT / "tests/data/goroutines/windows-debug2.txt"
    (tmp_path / "site.yml").write_text(
        f"profiles:\n  a: {{path: {dump}}}\n  b: {{path: {dump}}}\n"
        "analyses:\n  - {kind: leaks, snapshots: [a, b]}\n")
    proc = run_cli("build", tmp_path / "site.yml", "-o", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "out/pages/01-leaks.html").read_text()
    assert "No suspect" in page and "No data" not in page


def _every_kind_of_chart() -> list[str]:
    from reportgen.analyze.history import Point, Series
    from reportgen.render.charts import xy_lines
    from reportgen.render.goroutine_pages import group_lines, state_bars
    from reportgen.render.history_pages import trend_chart
    from reportgen.render.trace_pages import mmu_chart
    ids = [f"night-{i}" for i in range(12)]
    series = Series("bench:p:BenchmarkX:ns/op", "bench", "BenchmarkX ns/op", "ns/op",
                    [Point(r, 100.0 + i * i, 90.0 + i, 110.0 + i * i, 10)
                     for i, r in enumerate(ids) if i != 3])
    charts = [trend_chart("t", series, ids, {"night-5"}, {"night-8"}),
              xy_lines("x", "Lines", [("a", [(0, 1), (1, 3)]), ("b", [(0, 2), (2, 1)])],
                       "time", "value", dots=True),
              group_lines("g", ["t1", "t2"], [("#1 main.leak", [1, 5])]),
              state_bars("s", ["t1", "t2"], [{"chan receive": 3}, {"select": 9}]),
              mmu_chart("m", [(1000, 0.1), (10 ** 6, 0.5), (10 ** 9, 0.9)])]
    return [str(c) for c in charts]


def test_charts_draw_byte_for_byte_what_plain_pygal_draws(monkeypatch):
    # chart_class only makes pygal's attribute lookup cheaper: with pygal's own
    # lookup put back, every kind of chart the report draws is the same.
    import pygal
    from pygal.graph.base import BaseGraph

    from reportgen.render import charts
    assert charts.chart_class("XY").__getattribute__ is not pygal.XY.__getattribute__
    fast = _every_kind_of_chart()
    monkeypatch.setattr(charts, "_state_first", BaseGraph.__getattribute__)
    charts.chart_class.cache_clear()
    try:
        assert charts.chart_class("XY").__getattribute__ is pygal.XY.__getattribute__
        plain = _every_kind_of_chart()
    finally:
        charts.chart_class.cache_clear()
    assert fast == plain
    assert all("<svg" in svg and 'class="graph ' in svg for svg in fast)


def test_names_that_shorten_alike_keep_distinct_labels():
    import re

    from reportgen.render.charts import distinct_labels
    long_a = "github.com/example/service/internal/handlers/" + "x" * 60 + ".(*Server).Handle"
    long_b = "github.com/example/other/internal/handlers/" + "x" * 60 + ".(*Server).Handle"
    names = [long_a, long_b, long_a, "main.f"]
    labels = distinct_labels(names, 640 * 0.42, 14)
    assert labels[0] != labels[1] and labels[0] == labels[2]   # the same name, the same label
    assert labels[1].endswith(" (2)") and labels[3] == "main.f"
    svg = str(horizontal_bars("c", "t", names[:2] + names[3:], [30, 20, 10], "count", "auto"))
    shown = re.findall(r'class="label">([^<]*)<', svg)
    assert len(shown) == len(set(shown)) == 3
    assert long_b in svg   # the full name in the tooltip
