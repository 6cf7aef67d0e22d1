"""Profile pages, callers/callees pages, the sandwich view and the single-file
report in headless Chromium, offline, checked against the analyzers' numbers.

Issue 10 item 4 (every function reachable), 5 (sandwich), 8 (single file);
issue 16 (compact flame data expands to the analyzer's tree, interactions
intact with shared strings and site-wide assets).
"""

import re
from pathlib import Path

import numpy as np
import pytest

from reportgen import units
from reportgen.analyze.flame import flame_tree
from reportgen.analyze.graph import Part
from reportgen.analyze.peek import peek
from reportgen.analyze.top import top
from reportgen.manifest import load_manifest
from reportgen.render.site import anchor
from reportgen.sources import load_profile
from tests.browser import offline_browser

ROOT = Path(__file__).resolve().parent.parent
NAME = "cpu-before"  # 461 functions: most of them outside the first 100 rows


@pytest.fixture(scope="module")
def browser_page():
    with offline_browser() as new_page:
        yield new_page


@pytest.fixture(scope="module")
def cpu():
    entry = load_manifest(ROOT / "site.yml").profiles[NAME]
    profile = load_profile(entry.path)
    index = profile.sample_index(entry.sample_index)
    return profile, index


def profile_page(site):
    return site / "pages" / f"profile-{anchor(NAME)}.html"


def shown_names(page, table="top"):
    return page.eval_on_selector_all(f"#{table} tbody tr:not([hidden])",
                                     "rows => rows.map(r => r.dataset.name)")


def test_filter_sort_and_sample_type_reach_every_function(example_site, browser_page, cpu):
    profile, index = cpu
    full = top([Part(profile, index)], node_limit=None, node_fraction=0.0)
    assert len(full.rows) > 150
    w = browser_page()
    w.open(profile_page(example_site))
    page = w.page
    static = shown_names(page)
    assert static == [r.name for r in full.rows[:100]]
    # a function far outside the first 100 rows is found by the filter
    far = full.rows[140]
    assert far.name not in static
    page.fill("input[data-filter=top]", "^" + re.escape(far.name) + "$")
    assert shown_names(page) == [far.name]
    row = page.locator("#top tbody tr").first
    assert float(row.locator("td").nth(3).get_attribute("data-value")) == far.cum
    assert row.get_attribute("id") == f"top-{anchor(far.name)}"  # the same anchors as Python
    href = row.locator("td.name a").first.get_attribute("href")
    assert href.endswith(f"-calls.html#fn-{anchor(far.name)}")
    assert "1 of 1 matching" in page.text_content("#top-count")
    # flat/cum switch: pprof's -cum order over every function
    page.fill("input[data-filter=top]", "")
    page.select_option("select[data-sort=top]", "cum")
    by_cum = top([Part(profile, index)], cum_sort=True, node_limit=100, node_fraction=0.0)
    assert shown_names(page) == [r.name for r in by_cum.rows]
    # sample type switch: the other type's table, its own numbers
    other = 1 - index
    page.select_option("select[data-type=top]", str(other))
    page.select_option("select[data-sort=top]", "flat")
    by_type = top([Part(profile, other)], node_limit=100, node_fraction=0.0)
    assert shown_names(page) == [r.name for r in by_type.rows]
    flats = page.eval_on_selector_all("#top tbody tr", "rs => rs.map(r => +r.cells[0].dataset.value)")
    assert flats == [r.flat for r in by_type.rows]
    texts = page.eval_on_selector_all("#top tbody tr", "rs => rs.map(r => r.cells[0].textContent)")
    assert texts[0] == str(by_type.rows[0].flat)  # a count has no unit
    assert w.errors == [] and w.outside == []


def test_sum_is_recomputed_after_a_resort_and_text_sorts_a_to_z(example_site, browser_page):
    w = browser_page()
    w.open(profile_page(example_site))
    page = w.page
    page.click("#top thead th:nth-child(6)")  # name: A to Z first
    names = shown_names(page)
    assert names == sorted(names, key=str.lower)
    pcts = page.eval_on_selector_all(
        "#top tbody tr", "rs => rs.map(r => [+r.cells[1].dataset.value, +r.cells[2].dataset.value])")
    running = np.cumsum([p for p, _ in pcts])
    assert [s for _, s in pcts] == pytest.approx(running, abs=1e-3)


def test_every_name_on_the_calls_page_is_a_working_link(example_site, browser_page, cpu):
    profile, index = cpu
    w = browser_page()
    w.open(example_site / "pages" / f"profile-{anchor(NAME)}-calls.html")
    page = w.page
    ids = set(page.eval_on_selector_all("section.peek", "s => s.map(x => x.id)"))
    hrefs = page.eval_on_selector_all("#calls a", "as => as.map(a => a.getAttribute('href'))")
    assert len(hrefs) > 500 and all(h.startswith("#fn-") and h[1:] in ids for h in hrefs)
    # a function outside the first 100 rows has its section, numbers as pprof -peek
    full = top([Part(profile, index)], node_limit=None, node_fraction=0.0)
    assert len(ids) == len(full.rows)
    name = full.rows[120].name
    want = peek([Part(profile, index)], "^" + re.escape(name) + "$").nodes[0]
    section = page.locator(f"#fn-{anchor(name)}")
    tables = section.locator("table")
    for t, edges in ((0, want.callers), (1, want.callees)):
        got = tables.nth(t).evaluate(
            "t => Array.from(t.tBodies[0].rows).filter(r => r.dataset.name)"
            ".map(r => [r.dataset.name, +r.cells[0].dataset.value])")
        assert got == [[e.name, e.value] for e in edges]
    # following a link moves to (and marks) that function's section
    callee = want.callees[0].name if want.callees else want.callers[0].name
    section.locator(f'a[href="#fn-{anchor(callee)}"]').first.click()
    assert page.evaluate("location.hash") == f"#fn-{anchor(callee)}"
    # the section is marked on "hashchange", which fires after click() returns
    page.wait_for_function("id => document.getElementById(id).classList.contains('target')",
                           arg=f"fn-{anchor(callee)}", timeout=5000)
    assert w.errors == [] and w.outside == []


def _expected_sandwich(tree, name):
    """Value through `name` (topmost occurrences) and its callers' names, one level up."""
    names, end = tree.name, tree.subtree_end()
    total, callers, n = 0, set(), 1
    while n < len(tree):
        if names[n] == name:
            total += int(tree.weight[n])
            if tree.parent[n] > 0:
                callers.add(names[tree.parent[n]])
            n = int(end[n])
        else:
            n += 1
    return total, callers


def test_expanded_tree_equals_the_analyzer_and_sandwich_opens_from_a_frame(
        example_site, browser_page, cpu):
    profile, index = cpu
    tree = flame_tree([Part(profile, index)])
    w = browser_page()
    w.open(profile_page(example_site))
    page = w.page
    gid = f"fg-{anchor('profile-' + anchor(NAME))}"
    got = page.evaluate("""id => { const t = reportgenFlame.trees[id];
        return {parent: Array.from(t.parent), weight: Array.from(t.weight),
                self: Array.from(t.self), total: Array.from(t.total),
                names: Array.from(t.frame).map(f => t.names[f])}; }""", gid)
    assert got["parent"] == tree.parent.tolist()
    assert got["weight"] == tree.weight.tolist()
    assert got["self"] == tree.self.tolist()
    assert got["total"] == tree.total.tolist()
    assert got["names"] == tree.name
    # the reverse graph shares the page's frame table and expands right too
    rev = flame_tree([Part(profile, index)], reverse=True)
    rgot = page.evaluate("id => Array.from(reportgenFlame.trees[id].frame)"
                         ".map(f => reportgenFlame.trees[id].names[f])", "rev" + gid[2:])
    assert rgot == rev.name

    # zoom, search, tooltip and orientation still work on the site's graph
    n = max(range(1, len(tree)), key=lambda k: (tree.name[k] == "main.handleBefore", tree.weight[k]))
    page.click(f'#{gid}-frames rect[data-n="{n}"]')
    assert page.evaluate("location.hash") == f"#{gid}:{n}"
    page.hover(f'#{gid}-frames rect[data-n="{n}"]')
    assert tree.name[n] in page.text_content(f"#{gid}-tip")
    page.fill(f"#{gid}-q", "json")
    assert "Matched: " in page.text_content(f"#{gid}-matched")
    y = float(page.get_attribute(f'#{gid}-frames rect[data-n="{n}"]', "y"))
    page.click(f"#{gid}-orient")
    assert float(page.get_attribute(f'#{gid}-frames rect[data-n="{n}"]', "y")) != y

    # the sandwich of the zoomed frame
    page.click(f"#{gid}-sandwich")
    assert page.is_visible("#sandwich")
    assert page.text_content("#sandwich-name") == tree.name[n]
    value, callers = _expected_sandwich(tree, tree.name[n])
    assert units.label(value, tree.unit) in page.text_content("#sandwich-value")
    drawn = set(page.eval_on_selector_all("#sandwich-callers g.swf",
                                          "gs => gs.map(g => g.dataset.name)"))
    assert callers <= drawn and tree.name[n] in drawn
    assert page.locator("#sandwich-callees g.swf").count() >= 1
    assert page.evaluate("location.hash") == f"#sandwich:{anchor(tree.name[n])}"
    # a frame of the sandwich recentres it, by keyboard too
    callee = page.locator("#sandwich-callees g.swf").nth(1)
    callee_name = callee.get_attribute("data-name")
    callee.focus()
    page.keyboard.press("Enter")
    assert page.text_content("#sandwich-name") == callee_name
    # ... and from a table row; the link reopens it
    page.locator("#top tbody tr").nth(1).locator("a.sw").click()
    second = page.locator("#top tbody tr").nth(1).get_attribute("data-name")
    assert page.text_content("#sandwich-name") == second
    w.open(profile_page(example_site), f"#sandwich:{anchor(second)}")
    assert page.is_visible("#sandwich") and page.text_content("#sandwich-name") == second
    assert w.errors == [] and w.outside == []


def test_slash_goes_to_the_panel_under_the_pointer(example_site, browser_page):
    w = browser_page()
    w.open(profile_page(example_site))
    page = w.page
    page.hover("#top tbody tr:nth-child(3)")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.dataset.filter") == "top"
    page.locator("input[data-filter=top]").press("Escape")
    page.evaluate("document.activeElement.blur()")
    graph = page.locator("svg.rgflame").nth(1)
    graph.scroll_into_view_if_needed()
    graph.hover(position={"x": 600, "y": 10})
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == graph.get_attribute("id") + "-q"


@pytest.fixture(scope="module")
def single_file(tmp_path_factory):
    import subprocess
    import sys
    out = tmp_path_factory.mktemp("one") / "report.html"
    subprocess.run([sys.executable, "-m", "reportgen", "build", "site.yml", "--single-file",
                    str(out)], cwd=ROOT, check=True, capture_output=True)
    return out


def test_single_file_opens_offline_and_every_link_resolves(single_file, browser_page):
    w = browser_page()
    w.open(single_file)
    page = w.page
    bundle = page.eval_on_selector_all('script[type="text/html"]',
                                       "s => s.map(x => x.id.slice(3))")
    pages = [p for p in bundle if p.endswith(".html")]
    assert "index.html" in pages and len(pages) > 20

    def frame():
        return page.frame_locator("#rg-view")

    checked = 0
    for path in pages:
        page.evaluate("p => { location.hash = p; }", path)
        page.wait_for_function(
            "p => { const f = document.getElementById('rg-view'), d = f.contentDocument;"
            " return f.dataset.shown === p && d.readyState === 'complete'"
            " && d.querySelector('main'); }", arg=path)
        inner = page.frames[1]
        links = inner.eval_on_selector_all(
            "a[href]", "as => as.map(a => [a.getAttribute('href'), a.dataset.rgPage || null])")
        ids = set(inner.eval_on_selector_all("[id]", "es => es.map(e => e.id)"))
        for href, target in links:
            if target:
                dest, _, frag = target.partition("#")
                assert dest in bundle, (path, target)
                if frag:  # a row or section of that page: ask the page itself
                    checked += 1
            elif href.startswith("#") and href not in ("#", "#sandwich"):
                assert href[1:] in ids, (path, href)
            else:
                assert href in ("#", "#sandwich") or re.match(r"^[a-z]+:", href), (path, href)
    assert checked > 0
    # a link into another page's section: the shell routes it, the frame scrolls there
    start = next(p for p in pages if p.startswith("pages/profile-") and "calls" not in p)
    page.evaluate("p => { location.hash = p; }", start)
    page.wait_for_function("() => document.getElementById('rg-view').contentDocument"
                           ".querySelector('a[data-rg-page*=\"#\"]')")
    link = page.frames[1].locator('a[data-rg-page*="#"]').first
    target = link.get_attribute("data-rg-page")
    link.click()
    dest, _, frag = target.partition("#")
    page.wait_for_function("d => decodeURIComponent(location.hash) === '#' + d", arg=dest + "!" + frag)
    page.wait_for_function(
        "f => { const d = document.getElementById('rg-view').contentDocument;"
        " return d && d.getElementById(f); }", arg=frag)
    # a link the page's script drew (a filtered row) is routed the same way
    page.evaluate("p => { location.hash = p; }", start)
    page.wait_for_function("p => document.getElementById('rg-view').dataset.shown === p",
                           arg=start)
    inner = page.frames[1]
    inner.fill("input[data-filter=top]", "Unmarshal$")
    row = inner.locator("#top tbody tr").first
    name = row.get_attribute("data-name")
    row.locator("td.name a").first.click()
    calls = start.replace(".html", "-calls.html")
    page.wait_for_function("d => decodeURIComponent(location.hash) === '#' + d",
                           arg=f"{calls}!fn-{anchor(name)}")
    page.wait_for_function(
        "f => { const d = document.getElementById('rg-view').contentDocument;"
        " const s = d && d.getElementById(f); return s && s.classList.contains('target'); }",
        arg=f"fn-{anchor(name)}")
    assert w.errors == [] and w.outside == []
