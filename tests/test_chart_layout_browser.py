"""Chart labels in Chromium: on a diff page whose movers have long and wide names
(and values on both sides of zero), and on leak pages with short snapshot titles,
no two texts of a chart overlap and none leaves the SVG's viewBox."""

import subprocess
import sys
from pathlib import Path

import pytest

from profiles import ProfileBuilder
from tests.browser import offline_browser

ROOT = Path(__file__).resolve().parent.parent
LEAKY = ROOT / "examples" / "leaky" / "snapshots"

NAMES = ["github.com/acme/platform/internal/server/handlers.(*OrderReconciliationHandler)."
         "ServeReconcile",
         "main.WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW", "main.y", "a.b",
         "encoding/json.(*decodeState).objectInterfaceWithAVeryLongSuffixName",
         "github.com/acme/platform/pkg/very/deep/package/path/storage.(*Store).LoadEverything",
         "main.数据处理器的非常长的函数名称用于测试宽字符布局", "runtime.mallocgc"]

# Every visible text of every chart of the page, in the SVG's viewBox units.
BOXES = """() => [...document.querySelectorAll('.charts svg')].map(svg => {
  const vb = svg.viewBox.baseVal, sr = svg.getBoundingClientRect(), k = vb.width / sr.width;
  return {id: svg.id, vb: [vb.x, vb.y, vb.width, vb.height], texts: [...svg.querySelectorAll('text')]
    .filter(t => t.textContent.trim() && t.getClientRects().length)
    .map(t => { const r = t.getBoundingClientRect();
      return {text: t.textContent, x0: (r.left - sr.left) * k, x1: (r.right - sr.left) * k,
              y0: (r.top - sr.top) * k, y1: (r.bottom - sr.top) * k}; })};
})"""


def profiles(tmp_path) -> list[Path]:
    out = []
    for tag, scale in (("before", [5, 9, 1, 1, 7, 1, 2, 2]), ("after", [1, 1, 9, 2, 1, 6, 9, 3])):
        b = ProfileBuilder(sample_types=[("alloc_objects", "count"), ("alloc_space", "bytes")],
                           period_type=("space", "bytes"), period=524288,
                           time_nanos=1 if tag == "before" else 2)
        main = b.function("main.main", "/src/main.go")
        lm = b.location((main, 1))
        for i, (n, s) in enumerate(zip(NAMES, scale)):
            loc = b.location((b.function(n, "/src/x.go"), 2))
            b.sample([loc, lm], [s * 100, s * 123_456_789 + i * 9_876_543])
        out.append(b.write(tmp_path / f"{tag}-allocs.pb.gz"))
    return out


def build(args, out: Path) -> Path:
    proc = subprocess.run([sys.executable, "-m", "reportgen", "build", *map(str, args), "-o",
                           str(out), "--jobs", "1"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out


def assert_labels_clear(page_watch, path: Path, want_charts: int):
    page_watch.open(path)
    charts = page_watch.page.evaluate(BOXES)
    assert len(charts) >= want_charts
    for chart in charts:
        x, y, w, h = chart["vb"]
        texts = chart["texts"]
        assert texts, chart["id"]
        for t in texts:
            assert x - 0.5 <= t["x0"] and t["x1"] <= x + w + 0.5, (chart["id"], t)
            assert y - 0.5 <= t["y0"] and t["y1"] <= y + h + 0.5, (chart["id"], t)
        for i, a in enumerate(texts):
            for b in texts[i + 1:]:
                across = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
                down = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
                assert across <= 0.5 or down <= 0.5, (chart["id"], a, b)


def test_text_width_bounds_and_fit():
    from reportgen.render.charts import fit_label, text_width
    assert text_width("WWW", 14) > text_width("iii", 14) * 2
    assert text_width("数据", 14) == 28
    short = fit_label(NAMES[0], 200, 14)
    assert text_width(short, 14) <= 200 and short.startswith("(*OrderReconciliation")


@pytest.fixture(scope="module")
def page_watch():
    with offline_browser() as new_page:
        yield new_page()


def test_diff_movers_labels_clear(tmp_path, page_watch):
    site = build(profiles(tmp_path), tmp_path / "site")
    assert_labels_clear(page_watch, site / "pages" / "01-diff.html", 1)


def test_leak_charts_with_short_titles_clear(tmp_path, page_watch):
    dumps = sorted(LEAKY.glob("goroutine-0*.txt"))
    if len(dumps) < 3:
        pytest.skip("examples/leaky snapshots missing")
    manifest = tmp_path / "site.yml"
    manifest.write_text("profiles:\n" + "".join(
        f"  {c}: {{path: {d}, title: {c}}}\n" for c, d in zip("abcde", dumps)) +
        "analyses:\n  - {kind: leaks, snapshots: [" + ", ".join("abcde"[:len(dumps)]) +
        "]}\n  - {kind: goroutines, profile: a}\n")
    site = build([manifest], tmp_path / "site")
    assert_labels_clear(page_watch, site / "pages" / "01-leaks.html", 2)
    assert_labels_clear(page_watch, site / "pages" / "02-goroutines.html", 1)
