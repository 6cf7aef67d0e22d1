"""Bidirectional controls in names ("Trojan Source"): every page and SVG shows
them as visible escapes and isolates names, in the HTML and in Chromium."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from markupsafe import Markup

from reportgen.render.flamegraph import xml_text
from reportgen.render.names import BIDI_CONTROLS, display_name, finalize, show_controls
from reportgen.render.site import make_env, script_json
from profiles import hostile_builder

ROOT = Path(__file__).resolve().parent.parent
CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
RLO_NAME = "main.\u202e)(nigol\u202c.Auth"           # reads "main.login()..." reversed
ISOLATE_NAME = "main.check\u2067Admin\u2069"
MARK_NAME = "main.\u200fmark\u200e\u061c"
HEBREW_NAME = "main.שלום"


def bidi_builder():
    b = hostile_builder()
    fns = [b.function(n, f"/src/{f}.go", 1) for n, f in
           ((RLO_NAME, "a\u202eb"), (ISOLATE_NAME, "iso"), (MARK_NAME, "m"), (HEBREW_NAME, "h"))]
    main = b.function("main.main", "/src/main.go", 1)
    l_main = b.location((main, 2))
    for i, f in enumerate(fns):
        b.sample([b.location((f, 3 + i)), l_main], [100 + i, (100 + i) * 4096],
                 labels={"k\u202eey": "v\u2066al"})
    return b


def test_every_control_is_shown_as_an_escape():
    shown = show_controls("a" + CONTROLS + "b")
    assert not BIDI_CONTROLS.search(shown)
    assert shown == "a" + "".join("\\u%04x" % ord(c) for c in CONTROLS) + "b"
    assert show_controls(shown) == shown   # idempotent: safe to apply twice
    assert show_controls(HEBREW_NAME) == HEBREW_NAME   # letters are not controls


def test_display_name_isolates_and_escapes():
    assert display_name('<b>"x\u202e') == Markup('<bdi>&lt;b&gt;&#34;x\\u202e</bdi>')
    assert finalize("x\u2066") == "x\\u2066"
    assert finalize(Markup("<svg/>")) == Markup("<svg/>") and finalize(3) == 3


def test_templates_never_emit_a_raw_control_even_in_attributes():
    env = make_env(ROOT / "themes" / "default")
    html = env.from_string('<a title="{{ n }}" data-name="{{ n }}">{{ n }} {{ n|name }}</a>') \
        .render(n=RLO_NAME)
    assert not BIDI_CONTROLS.search(html)
    assert "<bdi>main.\\u202e)(nigol\\u202c.Auth</bdi>" in html


def test_json_for_script_and_svg_text_show_controls():
    text = script_json({"names": [RLO_NAME]})
    assert not BIDI_CONTROLS.search(text)
    assert json.loads(text)["names"] == [show_controls(RLO_NAME)]
    assert not BIDI_CONTROLS.search(xml_text(ISOLATE_NAME))


@pytest.fixture(scope="module")
def bidi_site(tmp_path_factory):
    d = tmp_path_factory.mktemp("bidi")
    bidi_builder().write(d / "b.pb.gz")
    (d / "site.yml").write_text(
        'title: "Report \\u202eevil"\n'
        "profiles:\n"
        '  b: {path: b.pb.gz, title: "heap \\u2066x", labels: {"env\\u202e": "prod\\u2067"}}\n'
        "analyses:\n"
        "  - {kind: top, profile: b}\n"
        "  - {kind: tags, profile: b}\n"
        "  - {kind: flame, profile: b}\n"
        "  - {kind: peek, profile: b, pattern: main}\n")
    proc = subprocess.run([sys.executable, "-m", "reportgen", "build", str(d / "site.yml"),
                           "-o", str(d / "site")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return d / "site"


def test_no_page_or_svg_holds_a_raw_control(bidi_site):
    shown = 0
    for path in sorted(bidi_site.rglob("*")):
        if path.suffix in (".html", ".svg"):
            text = path.read_text()
            assert not BIDI_CONTROLS.search(text), path
            shown += "\\u202e" in text
    assert shown >= 3
    # The numbers keep the names exactly as the profile stores them.
    data = json.loads(next((bidi_site / "data").glob("*-top.json")).read_text())
    assert RLO_NAME in json.dumps(data, ensure_ascii=False)


def test_names_sit_in_bdi(bidi_site):
    top = next((bidi_site / "pages").glob("*-top.html")).read_text()
    assert re.search(r"<bdi>main\.\\u202e\)\(nigol\\u202c\.Auth</bdi>", top)
    assert "<bdi>main.שלום</bdi>" in top
    index = (bidi_site / "index.html").read_text()
    assert "<bdi>env\\u202e</bdi>=<bdi>prod\\u2067</bdi>" in index
    assert "<h3><bdi>heap \\u2066x</bdi></h3>" in index


def test_in_chromium_names_are_isolated_and_controls_visible(bidi_site):
    from tests.browser import offline_browser

    pages = [bidi_site / "index.html", *sorted((bidi_site / "pages").glob("*.html"))]
    with offline_browser() as new_page:
        w = new_page()
        dialogs = []
        w.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for path in pages:
            w.open(path)
            text = w.page.evaluate("document.body.innerText + ' ' + Array.from("
                                   "document.querySelectorAll('svg text, svg title'))"
                                   ".map(t => t.textContent).join(' ')")
            assert not BIDI_CONTROLS.search(text), path
            isolated = w.page.eval_on_selector_all(
                "bdi", "els => els.map(e => getComputedStyle(e).unicodeBidi)")
            assert set(isolated) <= {"isolate"}, path
        # The flame graph's script draws names from its data: shown, not obeyed.
        flame = next((bidi_site / "pages").glob("*-flame.html"))
        w.open(flame)
        labels = w.page.eval_on_selector_all(".frames text", "ts => ts.map(t => t.textContent)")
        assert any("\\u202e" in t for t in labels) and not any(
            BIDI_CONTROLS.search(t) for t in labels)
        top = next((bidi_site / "pages").glob("*-top.html"))
        w.open(top)
        cell = w.page.locator("td.name bdi", has_text="nigol").first
        assert cell.inner_text() == show_controls(RLO_NAME)
        assert dialogs == [] and w.outside == [] and w.errors == []


DUMP = '''goroutine {id} [chan receive, 9 minutes] {{"k\u202e": "v\u2066"}}:
main.(*T).\u202eRun(0x1)
\t/src/\u2067x/main.go:12 +0x1
created by main.\u202estart in goroutine 1
\t/src/main.go:3 +0x2
'''


def test_goroutine_and_leak_pages_isolate_and_show_controls(tmp_path):
    for n in (3, 12):
        (tmp_path / f"d{n}.txt").write_text("\n".join(DUMP.format(id=i) for i in range(n)))
    (tmp_path / "site.yml").write_text(
        "profiles:\n  a: {path: d3.txt}\n  b: {path: d12.txt}\n"
        "analyses:\n  - {kind: leaks, snapshots: [a, b]}\n  - {kind: goroutines, profile: b}\n")
    proc = subprocess.run([sys.executable, "-m", "reportgen", "build",
                           str(tmp_path / "site.yml"), "-o", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for page in ("01-leaks", "02-goroutines"):
        html = (tmp_path / "site" / "pages" / f"{page}.html").read_text()
        assert not BIDI_CONTROLS.search(html), page
        assert "<bdi>main.(*T).\\u202eRun</bdi>" in html, page
        assert "<bdi>/src/\\u2067x/main.go</bdi>" in html, page
