"""The trace page: the answer first, the JSON shape, escaping, determinism, the timeline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reportgen.analyze.trace_goroutines import group_goroutines, summarize
from reportgen.sources.trace import load_trace
from tests.browser import offline_browser

DATA = Path(__file__).resolve().parent / "data" / "trace"


@pytest.fixture(scope="module")
def trace_site(tmp_path_factory, run_cli):
    d = tmp_path_factory.mktemp("trace")
    (d / "site.yml").write_text(f"""title: Traces
profiles: {{}}
analyses:
  - kind: trace
    path: {DATA / 'channels.trace'}
  - kind: trace
    path: {DATA / 'hostile.trace'}
    title: "Hostile names"
""")
    proc = run_cli("build", d / "site.yml", "-o", d / "site")
    assert proc.returncode == 0, proc.stderr
    return d / "site"


def test_json_shape_and_values(run_cli):
    proc = run_cli("trace", DATA / "regions.trace", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    groups = group_goroutines(summarize(load_trace(DATA / "regions.trace").all_events))
    assert [(g["start"], g["count"], g["execution_ns"]) for g in out["groups"]] == \
        [(g.start, g.count, g.execution_ns) for g in groups]
    for g in out["groups"]:
        assert g["count"] == len(g["goroutines"])
        for x in g["goroutines"]:
            assert {"id", "total_ns", "execution_ns", "sched_wait_ns", "syscall_ns", "block_ns",
                    "unknown_ns"} <= set(x)
            parts = (x["execution_ns"] + x["sched_wait_ns"] + x["syscall_ns"]
                     + x["syscall_block_ns"] + sum(x["block_ns"].values()))
            assert parts + x["unknown_ns"] == max(parts, x["total_ns"])
    assert {r["type"] for r in out["regions"]} == {"fetch", "compute"}
    assert {r["type"]: r["count"] for r in out["regions"]} == {"fetch": 10, "compute": 10}
    assert {t["type"]: t["count"] for t in out["tasks"]} == {"batch": 1, "item": 10}
    assert len(out["logs"]) == 10 and all(m["category"] == "result" for m in out["logs"])
    assert set(out["gc"]) >= {"cycles", "stw_pauses", "stw_ns", "gc_cpu_fraction", "mmu"}


def test_answer_names_the_group_and_its_blocking_line(run_cli):
    out = json.loads(run_cli("trace", DATA / "hostile.trace", "--format", "json").stdout)
    group = next(g for g in out["groups"] if g["start"] == "main.עבודה")
    total = sum(x["total_ns"] for x in group["goroutines"])
    sleep = sum(x["block_ns"].get("sleep", 0) for x in group["goroutines"])
    assert out["answers"][0] == (f"3 goroutines started at main.עבודה spend "
                                 f"{sleep / total:.0%} of their time blocked in sleep at "
                                 f"main.go:187 (main.עבודה.func1)")


def test_page_opens_with_the_answer(trace_site):
    html = (trace_site / "pages" / "01-trace.html").read_text()
    data = json.loads((trace_site / "data" / "01-trace.json").read_text())
    first = re.search(r'<p class="answer">(.*?)</p>', html, re.S).group(1)
    assert first == data["answers"][0].replace("'", "&#39;")
    assert html.index('class="answer"') < html.index('id="groups"')
    for kind in ("sync", "sched"):
        assert (trace_site / "pages").glob(f"profile-01-trace-{kind}-*.html")


def test_hostile_names_stay_text(trace_site):
    html = (trace_site / "pages" / "02-trace.html").read_text()
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>category" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    # the region name's right-to-left override is shown, not obeyed; template syntax stays text
    assert "\u202e" not in html and "&gt;\\u202e{{ 7*7 }}" in html
    assert "<bdi>main.עבודה</bdi>" in html
    # the timeline's JSON cannot close its <script> element
    body = html.split('id="timeline-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in body


def test_build_is_deterministic(run_cli, tmp_path):
    outs = []
    for n in (1, 2):
        out = tmp_path / f"s{n}"
        assert run_cli("build", DATA / "channels.trace", "-o", out).returncode == 0
        outs.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()})
    assert outs[0] == outs[1]


def test_timeline_zooms_pans_and_explains(trace_site):
    with offline_browser() as new_page:
        w = new_page()
        w.open(trace_site / "pages" / "01-trace.html")
        page = w.page
        canvas = page.locator("#timeline")
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        d = json.loads(page.locator("#timeline-data").text_content())
        lane = d["lanes"][0]
        seg = max(lane["segs"], key=lambda s: s[1] - s[0])
        label = 220  # timeline.js LABEL: the lane-name column
        x = box["x"] + label + (seg[0] + seg[1]) / 2 / d["end"] * (box["width"] - label)
        page.mouse.move(x, box["y"] + 20 + 7)
        tip = page.locator("#timeline-tip")
        assert tip.is_visible()
        text = tip.inner_text()
        assert text.startswith(lane["label"]) and seg[2].lstrip("~") in text
        before = page.evaluate("document.getElementById('timeline').toDataURL()")
        page.mouse.wheel(0, -600)
        assert page.evaluate("document.getElementById('timeline').toDataURL()") != before
        page.mouse.move(x, box["y"] + 20 + 7)
        page.mouse.down()
        page.mouse.move(x - 200, box["y"] + 20 + 7)
        page.mouse.up()
        page.dblclick("#timeline")
        assert page.evaluate("document.getElementById('timeline').toDataURL()") == before
        assert w.errors == [] and w.outside == []


def test_alerts_example_answer(run_cli, tmp_path):
    """Scenario 6: the alert goroutines are found by their count and their blocking call."""
    root = Path(__file__).resolve().parent.parent / "examples" / "alerts"
    out = json.loads(run_cli("trace", root / "trace.out", "--format", "json").stdout)
    alert = next(g for g in out["groups"] if g["start"] == "main.(*Client).Alert")
    assert alert["count"] >= 200 and alert["count"] == max(g["count"] for g in out["groups"])
    assert out["answers"][0].startswith(f"{alert['count']} goroutines started at "
                                        f"main.(*Client).Alert spend ")
    assert "at alert.go:" in out["answers"][0]
    proc = run_cli("build", root / "site.yml", "-o", tmp_path / "site")
    assert proc.returncode == 0, proc.stderr
    assert out["answers"][0].replace("'", "&#39;") in \
        (tmp_path / "site" / "pages" / "01-trace.html").read_text()


def test_timeline_downsamples_to_its_budget():
    from reportgen.analyze.trace_timeline import goroutine_timeline

    parsed = load_trace(DATA / "channels.trace")
    groups = group_goroutines(summarize(parsed.all_events))
    ev = parsed.events
    full = goroutine_timeline(ev, groups, ev[0].time, ev[-1].time,
                              budget=10 ** 9)
    small = goroutine_timeline(ev, groups, ev[0].time, ev[-1].time,
                               budget=1)
    assert full.merged == 0 and small.merged > 0 and small.segments < full.segments
    bins = (ev[-1].time - ev[0].time) // small.step_ns
    for lane in small.lanes:
        segs = lane["segs"]
        assert len(segs) <= 2 * bins + 1
        assert all(a[1] <= b[0] for a, b in zip(segs, segs[1:]))  # ordered, no overlap
        assert any(s[2].startswith("~") for s in segs) or len(segs) <= bins
