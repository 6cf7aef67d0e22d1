"""Flame graphs in a real browser (Chromium via Playwright), opened from file://.

Every request that is not file:// is aborted and recorded: a report must
work offline. Checks zoom (and its URL fragment), search percentages
against Python's numbers, the reverse view, keyboard control, two graphs on
one page staying independent, and hostile names staying inert.
"""

import os
import re
from pathlib import Path

import numpy as np
import pytest

from reportgen import units
from reportgen.analyze.flame import flame_tree
from reportgen.analyze.graph import Part
from reportgen.render.flamegraph import FRAMES_WIDTH, PAD, flame_svg
from reportgen.sources import load_profile
from tests.profiles import hostile_builder

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PROFILES = Path(__file__).resolve().parent.parent / "examples" / "gateway" / "profiles" / "before"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: CI must install chromium")
        pytest.skip(f"{CHROMIUM} not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Watched:
    """A page whose outside requests, console errors, page errors and dialogs are kept."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1300, "height": 1000})
        self.outside, self.errors, self.dialogs = [], [], []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def _route(self, route):
        url = route.request.url
        if url.startswith("file://"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def check_clean(self):
        assert self.outside == [] and self.errors == [] and self.dialogs == []

    def close(self):
        self.context.close()


@pytest.fixture
def watched(browser):
    w = Watched(browser)
    yield w
    w.check_clean()
    w.close()


def tree_for(name, index, **kw):
    profile = load_profile(PROFILES / name)
    return flame_tree([Part(profile, profile.sample_index(index))], **kw)


def node_named(tree, name):
    names = tree.name
    return max((n for n in range(len(tree)) if names[n] == name), key=lambda n: tree.weight[n])


def rect(page, gid, n):
    return page.locator(f'#{gid}-frames rect[data-n="{n}"]')


def geometry(page, gid, n):
    r = rect(page, gid, n)
    return float(r.get_attribute("x")), float(r.get_attribute("width")), r.get_attribute("class")


def matched_python(tree, pattern, zoom=0):
    """Topmost matches only (no double counting), as a % of the total and of `zoom`."""
    rx = re.compile(pattern, 0 if pattern.lower() != pattern else re.I)
    names = tree.name
    hit = np.array([n > 0 and bool(rx.search(names[n])) for n in range(len(tree))])
    end = tree.subtree_end()

    def value(z):
        a = z
        while a >= 0:
            if hit[a]:
                return int(tree.weight[z])
            a = tree.parent[a]
        total, n = 0, z + 1
        while n < end[z]:
            if hit[n]:
                total, n = total + int(tree.weight[n]), int(end[n])
            else:
                n += 1
        return total
    return value(0) / tree.weight[0] * 100, value(zoom) / tree.weight[zoom] * 100


def matched_numbers(page, gid):
    text = page.locator(f"#{gid}-matched").text_content()
    return [float(x) for x in re.findall(r"([\d.]+)%", text)]


def test_standalone_svg(watched, tmp_path):
    tree = tree_for("cpu.pb.gz", "cpu")
    path = tmp_path / "cpu.svg"
    path.write_text(flame_svg(tree, "cpu", "CPU flame graph", standalone=True), encoding="utf-8")
    page = watched.page
    page.goto(path.as_uri())
    assert page.locator("#cpu-frames rect[data-n]").count() > 100
    # hover: the root's tooltip in human units
    rect(page, "cpu", 0).hover()
    tip = page.locator("#cpu-tip").text_content()
    assert "total " + units.label(int(tree.total[0]), tree.unit) in tip
    assert "(100.00%)" in tip

    n = node_named(tree, "main.handleBefore")
    x, width, _ = geometry(page, "cpu", n)
    assert width < FRAMES_WIDTH - 1
    rect(page, "cpu", n).click()
    assert geometry(page, "cpu", n)[:2] == (PAD, FRAMES_WIDTH)
    assert page.evaluate("location.hash") == f"#cpu:{n}"
    assert "a" in geometry(page, "cpu", 0)[2].split()  # ancestors stay, faded
    assert rect(page, "cpu", node_named(tree, "runtime.bgsweep")).count() == 0
    page.reload()
    assert geometry(page, "cpu", n)[:2] == (PAD, FRAMES_WIDTH)

    # search, with the zoom still on: % of total and % of the zoomed frame
    page.fill("#cpu-q", "json")
    want_total, want_zoom = matched_python(tree, "json", zoom=n)
    got = matched_numbers(page, "cpu")
    assert got == pytest.approx([want_total, want_zoom], abs=0.006)
    assert page.locator("#cpu-frames rect.m").count() > 0
    # nested matches are not counted twice: "encoding" also matches inside json frames
    page.fill("#cpu-q", "encoding|Marshal")
    assert matched_numbers(page, "cpu")[0] == pytest.approx(
        matched_python(tree, "encoding|Marshal")[0], abs=0.006)
    page.fill("#cpu-q", "([")
    assert "Invalid" in page.locator("#cpu-matched").text_content()

    # Esc resets zoom and search; "/" focuses the search box
    page.locator("#cpu-q").press("Escape")
    assert geometry(page, "cpu", 0)[:2] == (PAD, FRAMES_WIDTH)
    assert page.evaluate("document.getElementById('cpu-q').value") == ""
    assert page.evaluate("location.hash") == ""
    page.mouse.move(5, 5)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "cpu-q"
    page.keyboard.press("Escape")

    # keyboard: frames are focusable, Enter zooms
    assert rect(page, "cpu", 0).get_attribute("tabindex") == "0"
    rect(page, "cpu", n).focus()
    page.keyboard.press("ArrowDown")  # flame: down is toward the root
    assert page.evaluate("document.activeElement.getAttribute('data-n')") == str(tree.parent[n])
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.getAttribute('data-n')") == str(n)
    page.keyboard.press("Enter")
    assert geometry(page, "cpu", n)[:2] == (PAD, FRAMES_WIDTH)
    page.locator("#cpu-reset").click()
    assert geometry(page, "cpu", n)[1] == pytest.approx(width, abs=0.11)

    # flame / icicle toggle moves the root from the bottom to the top
    y_flame = float(rect(page, "cpu", 0).get_attribute("y"))
    page.locator("#cpu-orient").click()
    assert float(rect(page, "cpu", 0).get_attribute("y")) < y_flame


def test_reverse_view_shows_callers(watched, tmp_path):
    tree = tree_for("heap.pb.gz", "alloc_space", reverse=True)
    path = tmp_path / "callers.svg"
    path.write_text(flame_svg(tree, "rev", "callers", standalone=True), encoding="utf-8")
    page = watched.page
    page.goto(path.as_uri())
    leaves = tree.children(0)
    hot = int(leaves[np.argmax(tree.total[leaves])])
    rect(page, "rev", hot).click()
    callers = tree.children(hot)
    assert len(callers) > 0
    names = tree.name
    for c in callers[np.argsort(-tree.weight[callers])][:5]:
        r = rect(page, "rev", int(c))
        assert r.count() == 1
        r.hover()
        assert names[c] in page.locator("#rev-tip").text_content()
    # icicle: callers are drawn below their leaf
    assert float(rect(page, "rev", int(callers[0])).get_attribute("y")) > \
        float(rect(page, "rev", hot).get_attribute("y"))


def test_two_graphs_on_one_page(watched, tmp_path):
    cpu = tree_for("cpu.pb.gz", "cpu")
    heap = tree_for("heap.pb.gz", "alloc_space")
    page_html = ("<!doctype html><html><head><meta charset=\"utf-8\"><title>two</title></head>"
                 "<body><h1>Two graphs</h1>" + flame_svg(cpu, "g-cpu", "CPU") + "<p>between</p>"
                 + flame_svg(heap, "g-heap", "Heap") + "</body></html>")
    path = tmp_path / "two.html"
    path.write_text(page_html, encoding="utf-8")
    page = watched.page
    page.goto(path.as_uri())
    heap_before = page.locator("#g-heap-frames rect").count()
    heap_root = geometry(page, "g-heap", 0)

    n = node_named(cpu, "main.handleBefore")
    rect(page, "g-cpu", n).click()
    assert geometry(page, "g-cpu", n)[:2] == (PAD, FRAMES_WIDTH)
    assert page.locator("#g-heap-frames rect").count() == heap_before
    assert geometry(page, "g-heap", 0) == heap_root
    assert page.evaluate("location.hash") == f"#g-cpu:{n}"

    m = node_named(heap, "encoding/json.Unmarshal")
    rect(page, "g-heap", m).click()
    assert geometry(page, "g-heap", m)[:2] == (PAD, FRAMES_WIDTH)
    assert geometry(page, "g-cpu", n)[:2] == (PAD, FRAMES_WIDTH)
    assert page.evaluate("location.hash") == f"#g-cpu:{n}&g-heap:{m}"

    page.reload()
    assert geometry(page, "g-cpu", n)[:2] == (PAD, FRAMES_WIDTH)
    assert geometry(page, "g-heap", m)[:2] == (PAD, FRAMES_WIDTH)

    # searching one graph leaves the other alone; "/" goes to the hovered graph
    page.fill("#g-heap-q", "json")
    assert page.locator("#g-heap-frames rect.m").count() > 0
    assert page.locator("#g-cpu-frames rect.m").count() == 0
    assert page.locator("#g-cpu-matched").text_content() == ""
    want_total, want_zoom = matched_python(heap, "json", zoom=m)
    assert matched_numbers(page, "g-heap") == pytest.approx([want_total, want_zoom], abs=0.006)
    page.locator("#g-heap-q").press("Escape")
    assert geometry(page, "g-cpu", n)[:2] == (PAD, FRAMES_WIDTH)  # Esc reset only the heap
    assert page.evaluate("location.hash") == f"#g-cpu:{n}"
    page.locator("#g-heap-title").evaluate("e => e.parentNode.scrollIntoView()")
    rect(page, "g-heap", 0).hover()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "g-heap-q"
    # idempotent init: calling it again binds nothing twice
    page.evaluate("window.reportgenFlame('g-cpu')")
    rect(page, "g-cpu", 0).click()
    assert page.evaluate("location.hash") == ""


def test_hostile_names_stay_inert(watched, tmp_path):
    profile = load_profile(hostile_builder().write(tmp_path / "h.pb.gz"))
    tree = flame_tree([Part(profile, 1)], granularity="lines", min_fraction=0)
    (tmp_path / "h.svg").write_text(flame_svg(tree, "h", "</script><script>alert(9)</script>",
                                              standalone=True), encoding="utf-8")
    html = ("<!doctype html><meta charset=\"utf-8\"><title>h</title>"
            + flame_svg(tree, "h", '"><img src=x onerror=alert(8)>') + "")
    (tmp_path / "h.html").write_text(html, encoding="utf-8")
    page = watched.page
    for name in ("h.svg", "h.html"):
        page.goto((tmp_path / name).as_uri())
        assert page.locator("#h-frames rect[data-n]").count() == len(tree)
        for n in range(1, len(tree)):
            rect(page, "h", n).hover()
            assert tree.name[n][:150] in page.locator("#h-tip").text_content()
        page.fill("#h-q", "script")
        assert page.locator("#h-frames rect.m").count() > 0
        assert page.locator("img").count() == 0
