"""The leak report in the built site: examples/leaky/site.yml, hostile dumps escaped,
truncated dumps shown with a warning, and the pages in an offline browser."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import offline_browser

ROOT = Path(__file__).resolve().parent.parent
TRUE_LEAKS = {"main.(*poller).resolve.func1", "net/http.(*persistConn).readLoop",
              "net/http.(*persistConn).writeLoop", "main.(*poller).expireLater.func1",
              "main.(*alertLogger).send"}


def build(manifest, out):
    r = subprocess.run([sys.executable, "-m", "reportgen", "build", str(manifest), "-o", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build(ROOT / "examples" / "leaky" / "site.yml", tmp_path_factory.mktemp("leaky") / "s")


def test_the_leak_page_puts_a_true_leak_first(site):
    data = json.loads((site / "data" / "01-leaks.json").read_text())
    heads = [s["headline"] for s in data["suspects"]]
    assert set(heads[:5]) == TRUE_LEAKS
    page = (site / "pages" / "01-leaks.html").read_text()
    rows = re.findall(r'<tr data-name="([^"]*)">', page[page.index('id="suspects"'):])
    assert rows[0].startswith(heads[0])
    assert page.count("<svg") >= 2  # counts per group, and states per snapshot
    assert "Heap in use" in page and "bufio.NewReaderSize" in page
    index = (site / "index.html").read_text()
    assert "suspects; first: main.(*poller).resolve.func1" in index


def test_the_fixed_program_page_has_no_suspect(site):
    page = (site / "pages" / "02-leaks.html").read_text()
    assert "No leak suspect" in page and 'id="suspect-1"' not in page
    assert json.loads((site / "data" / "02-leaks.json").read_text())["suspects"] == []


def test_goroutine_pages_list_own_code_first(site):
    data = json.loads((site / "data" / "03-goroutines.json").read_text())
    tiers = [g["tier"] for g in data["groups"] if not g["background"]]
    assert tiers == sorted(tiers, key=("own", "lib", "std").index)
    assert data["total"] == sum(g["count"] for g in data["groups"])
    leak = json.loads((site / "data" / "04-goroutines.json").read_text())
    assert leak["dump_kind"] == "goroutineleak" and leak["format"] == "debug=1"


def test_pages_load_nothing_from_outside(site):
    for page in (site / "pages").glob("0*.html"):
        html = page.read_text()
        assert not re.search(r"""(src|href)=["'](https?:)?//""", html), page
        for src in re.findall(r'<script src="([^"]*)"', html):  # the site's own code only
            assert (page.parent / src).resolve() == (site / "assets/report.js").resolve(), src


HOSTILE = ('goroutine {id} [chan receive, 9 minutes] '
           '{{"<script>alert(1)</script>": "\\"><img src=x onerror=alert(2)>"}}:\n') + '''\
main.(*T).Run<script>alert(3)</script>(0x1)
\t/tmp/</pre><script>alert(4)</script>/main.go:12 +0x1
created by main.main in goroutine 1
\t/tmp/{{{{ 7*7 }}}}/main.go:3 +0x2
'''


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    dumps = []
    for n in (3, 12):
        text = "\n".join(HOSTILE.format(id=i) for i in range(10, 10 + n))
        path = d / f"dump{n}.txt"
        path.write_text(text + "\ngoroutine 99 [select]:\nmain.cut(0x", encoding="utf-8")
        dumps.append(path.name)
    (d / "site.yml").write_text(f"""title: "<b>hostile</b>"
profiles:
  a: {{path: {dumps[0]}}}
  b: {{path: {dumps[1]}}}
analyses:
  - kind: leaks
    snapshots: [a, b]
  - kind: goroutines
    profile: b
""", encoding="utf-8")
    return build(d / "site.yml", d / "site")


def test_names_labels_and_paths_are_escaped(hostile_site):
    for page in ("01-leaks", "02-goroutines"):
        html = (hostile_site / "pages" / f"{page}.html").read_text()
        assert "alert(" in html  # the names are shown ...
        assert not re.search(r"<script>alert|<img src=x|</pre><script", html)  # ... as text
        assert "&lt;script&gt;alert(3)&lt;/script&gt;" in html
        assert "{{ 7*7 }}" in html and ">49<" not in html


def test_a_truncated_dump_builds_with_a_warning(hostile_site):
    for page in ("01-leaks", "02-goroutines"):
        html = (hostile_site / "pages" / f"{page}.html").read_text()
        assert "Warning:" in html and "truncated" in html
    data = json.loads((hostile_site / "data" / "01-leaks.json").read_text())
    assert data["totals"] == [4, 13] and data["warnings"]
    assert data["suspects"][0]["counts"] == [3, 12]


def test_leak_and_goroutine_pages_work_offline(site):
    with offline_browser() as new_page:
        w = new_page()
        w.open(site / "pages" / "01-leaks.html")
        page = w.page
        details = page.locator("#suspect-1 details")
        assert not page.locator("#suspect-1 pre.stack").is_visible()
        details.locator("summary").click()
        assert page.locator("#suspect-1 pre.stack").is_visible()
        assert "main.go:" in page.text_content("#suspect-1 pre.stack")
        page.click("#suspects thead th:nth-child(2)")  # sort by score
        w.open(site / "pages" / "03-goroutines.html")
        w.page.keyboard.press("/")
        w.page.keyboard.type("persistConn")
        shown = w.page.eval_on_selector_all("#groups tbody tr:not([hidden])", "r => r.length")
        assert shown == 3  # readLoop, writeLoop, and an alert in persistConn.roundTrip
        assert w.outside == [] and w.errors == []
