"""The packed function tables behind profile and callers/callees pages, the
shared frame table of a page's flame graphs, the single-file report, and
the size of a fleet profile's page (issue 10 items 4 and 8, issue 16)."""

import json
import re
import sys
from pathlib import Path

import pytest

from reportgen.analyze.flame import flame_tree
from reportgen.analyze.graph import Part
from reportgen.analyze.peek import peek
from reportgen.analyze.top import top
from reportgen.render.flamegraph import FrameStrings, flame_svg
from reportgen.render.function_tables import calls_model, table_model
from reportgen.render.single_file import single_file_html
from reportgen.sources import load_profile
from tests.packed import unvlq, unzig

ROOT = Path(__file__).resolve().parent.parent
GATEWAY = ROOT / "examples" / "gateway" / "profiles"


def pairs(text, q):
    raw = [unzig(v) * q for v in unvlq(text)]
    return list(zip(raw[::2], raw[1::2]))


@pytest.mark.parametrize("rel", ["before/heap.pb.gz", "before/cpu.pb.gz"])
def test_table_model_is_pprof_top_for_every_sample_type(rel):
    profile = load_profile(GATEWAY / rel)
    by_type = [[Part(profile, i)] for i in range(len(profile.sample_types))]
    model = table_model(by_type, len(by_type) - 1, calls="x-calls.html")
    assert model["names"] == sorted(model["names"])
    for i, t in enumerate(model["types"]):
        want = top(by_type[i], node_limit=None, node_fraction=0.0)
        got = dict(zip(model["names"], pairs(t["enc"], t["q"])))
        assert {r.name: (r.flat, r.cum) for r in want.rows} == \
            {n: v for n, v in got.items() if v != (0, 0)}
        assert (t["name"], t["unit"], t["total"]) == (want.sample_index, want.unit, want.total)
    current = top(by_type[-1], node_limit=None, node_fraction=0.0)
    marks = dict(zip(model["names"], model["inline"]))
    code = {"": "0", "inline": "1", "partial-inline": "2"}
    assert all(marks[r.name] == code[r.inline] for r in current.rows)


def test_calls_model_is_pprof_peek_for_every_function():
    profile = load_profile(GATEWAY / "before/cpu.pb.gz")
    parts = [Part(profile, profile.sample_index("cpu"))]
    model = calls_model(parts)
    names, q = model["names"], model["q"]
    raw = unvlq(model["edges"])
    edges, src, dst = [], 0, 0
    for i in range(0, len(raw), 3):  # steps from the previous edge, weight * 2 + inline
        src += raw[i]
        dst = (dst if raw[i] == 0 else 0) + raw[i + 1]
        edges.append((names[src], names[dst], unzig(raw[i + 2] // 2) * q, bool(raw[i + 2] % 2)))
    want = peek(parts, ".")
    assert sorted(n.name for n in want.nodes) == names
    flat_cum = dict(zip(names, pairs(model["enc"], q)))
    for node in want.nodes:
        assert flat_cum[node.name] == (node.flat, node.cum)
        callers = {(src, w, inl) for src, dst, w, inl in edges if dst == node.name}
        callees = {(dst, w, inl) for src, dst, w, inl in edges if src == node.name}
        assert callers == {(e.name, e.value, e.inline) for e in node.callers}
        assert callees == {(e.name, e.value, e.inline) for e in node.callees}


def test_a_pages_graphs_share_one_frame_table():
    profile = load_profile(GATEWAY / "before/cpu.pb.gz")
    parts = [Part(profile, profile.sample_index("cpu"))]
    strings = FrameStrings("fs-page")
    fwd = flame_svg(flame_tree(parts), "fg", "f", strings=strings, shared_assets=True)
    size_after_first = len(strings.names)
    rev = flame_svg(flame_tree(parts, reverse=True), "rev", "r", strings=strings,
                    shared_assets=True)
    assert len(strings.names) == size_after_first  # the same frames: nothing new
    for svg in (fwd, rev):
        data = json.loads(re.search(r'-data">(.*?)</script>', svg, re.S).group(1))
        assert data["strings"] == "fs-page" and "names" not in data
        assert svg.count("<script") == 1  # the data only: the code is the site's
        assert "svg.rgflame .bg" not in svg  # ... and so is the stylesheet
    table = json.loads(strings.script().split(">", 1)[1].rsplit("<", 1)[0])
    assert table["names"] == strings.names and len(table["rules"]) == max(table["cls"]) + 1
    with pytest.raises(ValueError):
        flame_svg(flame_tree(parts), "fg", "f", standalone=True, strings=strings)


def test_single_file_escapes_pages_and_routes_links():
    files = {
        "index.html": '<!doctype html><html><head><link rel="stylesheet" '
                      'href="assets/report.css"></head><body><a href="pages/a.html#fn-x">a</a>'
                      '<a href="#top">top</a><a href="https://example.com/">out</a>'
                      '<script src="assets/report.js"></script></body></html>',
        "pages/a.html": '<html><head><link rel="stylesheet" href="../assets/report.css"></head>'
                        '<body><a href="../index.html">home</a><a href="../data/a.json">d</a>'
                        '<script type="application/json" id="m">{"a":"\\u003c/script>"}</script>'
                        '<!-- note --></body></html>',
        "data/a.json": '{"name": "</script><script>alert(1)</script>"}\n',
        "assets/report.css": "body{}", "assets/report.js": "var x = '</script>';",
    }
    out = single_file_html(files, "T <1>")
    bodies = re.findall(r'<script type="text/html" id="rg:([^"]+)">(.*?)</script>', out, re.S)
    assert sorted(p for p, _ in bodies) == sorted(files)
    for path, body in bodies:
        assert "<!--" not in body and not re.search(r"</script", body, re.I), path
    index = dict(bodies)["index.html"]
    assert 'data-rg-page="pages/a.html#fn-x"' in index and 'href="#top"' in index
    assert 'href="https://example.com/"' in index  # outside the report: left alone
    assert '<style data-rg-asset="assets/report.css"></style>' in index
    page = dict(bodies)["pages/a.html"]
    assert 'data-rg-page="index.html"' in page and 'data-rg-page="data/a.json"' in page
    assert '<base href="about:srcdoc">' in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in dict(bodies)["data/a.json"]
    assert "<title>T &lt;1&gt;</title>" in out


def test_fleet_profile_page_stays_small(tmp_path, run_cli):
    """Issue 16: a ~5k-stack profile's page well under 1 MB, no file over it."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from fleet import make_profile
    inputs = [make_profile(tmp_path / f"{k}.pb.gz", k, 5000, 7) for k in ("cpu", "heap")]
    out = tmp_path / "site"
    proc = run_cli("build", *inputs, "-o", out)
    assert proc.returncode == 0, proc.stderr
    sizes = {p.relative_to(out).as_posix(): p.stat().st_size for p in out.rglob("*")
             if p.is_file()}
    assert not [p for p in sizes if p.startswith("flame/")]
    assert max(sizes.values()) < 1_000_000, max(sizes.items(), key=lambda kv: kv[1])
    assert sum(sizes.values()) < 2 * 800_000  # the fleet target: 40 MB for 50 profiles


def test_unit_scale_knows_counts_from_times():
    from reportgen.render.flamegraph import unit_scale
    assert unit_scale("count") == []  # "3", never "3hrs" for 3 samples
    assert dict(unit_scale("nanoseconds"))["s"] == 1e9
    assert dict(unit_scale("bytes"))["MB"] == 2 ** 20


def test_single_file_keeps_hostile_names_as_data(tmp_path, run_cli, hostile_profile):
    out = tmp_path / "one.html"
    proc = run_cli("build", hostile_profile, "--single-file", out)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    assert not (tmp_path / "site").exists()
    # As a browser parses it: the shell's own elements only, one inert holder per
    # page, data file and asset, then the router; the pages stay text inside.
    from html.parser import HTMLParser

    class Elements(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags = []

        def handle_starttag(self, tag, attrs):
            self.tags.append((tag, dict(attrs)))
    parser = Elements()
    parser.feed(text)
    scripts = [a for t, a in parser.tags if t == "script"]
    assert [t for t, _ in parser.tags if t not in ("script", "meta", "style", "title")] == \
        ["html", "head", "body", "iframe"]
    assert all(a.get("type") == "text/html" for a in scripts[:-1]) and scripts[-1] == {}
    assert "<!--" not in text
    holders = [a["id"] for a in scripts[:-1]]
    assert sum(h.endswith(".html") for h in holders) >= 2  # index, profile, calls pages
    for bad in ("<script>alert", "<img src=x", "onerror=alert(1)>"):
        assert bad not in text, bad


def _model_names(page: Path) -> set:
    from reportgen.render.site import anchor
    text = page.read_text(encoding="utf-8")
    model = json.loads(re.search(r'id="calls-model">(.*?)</script>', text, re.S).group(1))
    return {anchor(n) for n in model["names"]}


def test_peek_and_card_names_link_to_a_section_that_exists(tmp_path, run_cli):
    cpu = GATEWAY / "before/cpu.pb.gz"
    (tmp_path / "site.yml").write_text(
        f"profiles:\n  cpu: {{path: {cpu}}}\n"
        "analyses:\n  - {kind: peek, profile: cpu, pattern: 'handleBefore$'}\n")
    out = tmp_path / "out"
    proc = run_cli("build", tmp_path / "site.yml", "-o", out)
    assert proc.returncode == 0, proc.stderr
    calls = next((out / "pages").glob("profile-*-calls.html"))
    sections = _model_names(calls)
    for page in (out / "pages/01-peek.html", out / "index.html"):
        text = page.read_text(encoding="utf-8")
        ids = set(re.findall(r'id="([^"]+)"', text))
        links = re.findall(r'href="([^"]*#fn-[^"]+)"', text)
        assert links, page
        for href in links:
            target, _, frag = href.partition("#")
            if target:
                assert (page.parent / target).resolve() == calls.resolve(), href
                assert frag[3:] in sections, href
            else:
                assert frag in ids, href
        if page.name == "01-peek.html":
            assert any(h.startswith(calls.name) for h in links)  # callers outside the match


def test_single_file_refuses_a_directory(tmp_path, run_cli):
    target = tmp_path / "adir"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    proc = run_cli("build", GATEWAY / "before/cpu.pb.gz", "--single-file", target)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert str(target) in proc.stderr and "Traceback" not in proc.stderr
    assert (target / "keep.txt").read_text() == "mine"


def test_table_model_shares_names_with_the_flame_table():
    profile = load_profile(GATEWAY / "before/cpu.pb.gz")
    parts = [Part(profile, profile.sample_index("cpu"))]
    strings = FrameStrings("fs")
    flame_svg(flame_tree(parts), "fg", "f", strings=strings, shared_assets=True)
    plain = table_model([parts], 0)
    shared = table_model([parts], 0, strings=strings)
    assert shared["names_ref"] == "fs"
    names = [strings.names[x] if isinstance(x, int) else x for x in shared["names"]]
    assert names == plain["names"]
    assert sum(isinstance(x, int) for x in shared["names"]) > 0.9 * len(names)
