"""The diff page's "every function" table filters every function of the diff,
not only the rows written into the page (the profile page's packed model),
with the values `reportgen top --diff-base --nodes all` prints."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import offline_browser

ROOT = Path(__file__).resolve().parent.parent
BEFORE = ROOT / "examples" / "gateway" / "profiles" / "before" / "cpu.pb.gz"
AFTER = ROOT / "examples" / "gateway" / "profiles" / "after" / "cpu.pb.gz"


def run(*args) -> str:
    proc = subprocess.run([sys.executable, "-m", "reportgen", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def diff_site(tmp_path_factory):
    out = tmp_path_factory.mktemp("diff") / "site"
    manifest = out.parent / "site.yml"
    manifest.write_text(f"profiles:\n  before: {{path: {BEFORE}}}\n  after: {{path: {AFTER}}}\n"
                        "analyses:\n  - {kind: diff, base: before, target: after, nodes: 20}\n")
    run("build", manifest, "-o", out, "--jobs", "1")
    return out / "pages" / "01-diff.html"


@pytest.fixture(scope="module")
def every_node():
    rows = json.loads(run("top", AFTER, "--diff-base", BEFORE, "--nodes", "all",
                          "--format", "json"))["rows"]
    return {r["name"]: (r["flat"], r["cum"]) for r in rows}


@pytest.mark.parametrize("pattern", ["syscall", r"^runtime\.(gc|mark)", "json"])
def test_filter_searches_every_function(diff_site, every_node, pattern):
    html = diff_site.read_text()
    written = set(re.findall(r'<tr id="top-[^"]*" data-name="([^"]*)"', html))
    assert len(written) == 20
    want = {n: v for n, v in every_node.items() if re.search(pattern, n, re.I)}
    assert set(want) - written, "the pattern must match functions beyond the written rows"
    with offline_browser() as new_page:
        w = new_page()
        w.open(diff_site)
        w.page.fill("input[data-filter=top]", pattern)
        rows = w.page.locator("#top tbody tr")
        got = {}
        for i in range(rows.count()):
            r = rows.nth(i)
            cells = r.locator("td")
            got[r.get_attribute("data-name")] = (int(cells.nth(0).get_attribute("data-value")),
                                                 int(cells.nth(3).get_attribute("data-value")))
            cls = cells.nth(3).get_attribute("class")
            cum = got[r.get_attribute("data-name")][1]
            assert ("pos" in cls) == (cum > 0) and ("neg" in cls) == (cum < 0)
        assert got == want
        count = w.page.locator("#top-count").text_content()
        assert count.startswith(f"{len(want)} of {len(want)} matching")
        assert not w.errors
