"""The diff flame graph on the example site's CPU diff page, in headless Chromium
from file:// with the network cut off: legend, before/after/delta tooltips
against Python's numbers, the base-widths view, zoom across views, search.
"""

import json
from pathlib import Path

import pytest

from reportgen import units
from reportgen.analyze.flame import diff_flame_tree
from reportgen.analyze.top import diff_parts
from reportgen.manifest import load_manifest
from reportgen.render.flamegraph import flame_svg, FRAMES_WIDTH, WIDTH_NOTES
from reportgen.sources import load_profile
from tests.browser import offline_browser

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(example_site):
    return example_site


def first_diff_page(site):
    for page in sorted((site / "pages").glob("*.html")):
        data = site / "data" / f"{page.stem}.json"
        if data.exists() and json.loads(data.read_text())["kind"] == "diff":
            return page, json.loads(data.read_text())
    raise AssertionError("no diff page")


def python_tree(data):
    """The tree the build drew, from the page's own numbers."""
    manifest = load_manifest(ROOT / "site.yml")
    base, target = (load_profile(manifest.profiles[data[k]].path) for k in ("base", "target"))
    parts = diff_parts(target, base, data["sample_index"], diff_base=data["mode"] == "diff_base",
                       normalize=data["normalize"])
    return diff_flame_tree(parts[:1], parts[1:], data["table"]["granularity"])


def change_text(before, after, unit, prefix=""):
    d = after - before
    p = f"{d / before * 100:+.1f}%" if before else ("new" if after else "none")
    return (f"{prefix}before {units.label(before, unit)}, after {units.label(after, unit)}, "
            f"delta {'+' if d > 0 else ''}{units.label(d, unit)} ({p})")


def named(tree, name):
    return max((n for n in range(len(tree)) if tree.name[n] == name),
               key=lambda n: tree.before_total[n] + tree.after_total[n])


def test_cpu_diff_page_flame_graph(site, tmp_path):
    page_path, data = first_diff_page(site)
    assert data["sample_index"] == "cpu"
    tree = python_tree(data)
    unit = tree.unit
    with offline_browser() as new_page:
        w = new_page()
        w.open(page_path)
        page = w.page
        gid = page.locator("svg.rgdiff").get_attribute("id")

        def rect(n):
            return page.locator(f'#{gid}-frames rect[data-n="{n}"]')

        def tip():
            return page.locator(f"#{gid}-tip").text_content()

        legend = page.locator(f"#{gid}-legend")
        assert legend.is_visible()
        assert "≤ −75% (gone)" in legend.text_content()
        assert "≥ ×4 (new)" in legend.text_content()
        assert page.locator(f"#{gid}-wnote").text_content() == WIDTH_NOTES["target"]

        # a frame in both, changed: the widest one
        both = [n for n in range(1, len(tree)) if tree.before_total[n] and tree.after_total[n]
                and tree.before_total[n] != tree.after_total[n]]
        n = max(both, key=lambda n: tree.after_total[n])
        rect(n).hover()
        text = tip()
        assert tree.name[n] in text
        assert change_text(int(tree.before_total[n]), int(tree.after_total[n]), unit) in text
        assert change_text(int(tree.before_self[n]), int(tree.after_self[n]), unit,
                           "self: ") in text
        new = named(tree, "main.handleAfter")
        rect(new).hover()
        assert change_text(0, int(tree.after_total[new]), unit) in tip()
        assert tip().count("(new)") == 1

        # removed code: not drawn with the target's widths, drawn with the base's
        gone = named(tree, "main.handleBefore")
        assert rect(gone).count() == 0
        page.click(f"#{gid}-widths")
        assert page.locator(f"#{gid}-widths text").text_content() == "Target widths"
        assert page.locator(f"#{gid}-wnote").text_content() == WIDTH_NOTES["base"]
        assert rect(gone).count() == 1 and rect(new).count() == 0
        want = tree.before_total[gone] / tree.before_total[0] * FRAMES_WIDTH
        assert float(rect(gone).get_attribute("width")) == pytest.approx(want, abs=0.11)
        rect(gone).hover()
        assert change_text(int(tree.before_total[gone]), 0, unit) in tip()
        assert "(-100.0%)" in tip()
        assert "c0" in rect(gone).get_attribute("class").split()  # darkest blue

        # zoomed into new code, the base's widths zoom out to what both have
        page.click(f"#{gid}-widths")
        rect(new).click()
        assert page.evaluate("location.hash") == f"#{gid}:{new}"
        page.click(f"#{gid}-widths")
        shown = int(tree.parent[new])
        while tree.before_total[shown] == 0:
            shown = int(tree.parent[shown])
        assert page.evaluate("location.hash") == f"#{gid}:{shown}"
        assert float(rect(shown).get_attribute("width")) == pytest.approx(FRAMES_WIDTH, abs=0.11)

        # search still works, and matches keep their diff colour
        page.fill(f"#{gid}-q", "json")
        assert "Matched: " in page.locator(f"#{gid}-matched").text_content()
        assert page.locator(f"#{gid}-frames rect.m").count() > 0
        assert "searching" in page.locator(f"#{gid}").get_attribute("class")
        page.locator(f"#{gid}-q").press("Escape")
        assert page.evaluate("location.hash") == ""

        # a standalone copy (what --flame-files writes) works on its own
        svg_path = tmp_path / "diff.svg"
        svg_path.write_text(flame_svg(tree, "diff-file", "diff", standalone=True),
                            encoding="utf-8")
        w.open(svg_path)
        assert page.locator("svg.rgdiff .frames rect[data-n]").count() > 100
        assert page.locator("svg.rgdiff .legend").is_visible()
        assert w.outside == []
        assert w.errors == []
