"""Notes are untrusted Markdown: no form of a link or image may run script or
fetch anything, checked on the HTML and in Chromium with dialogs hooked."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reportgen.render.site import render_notes

ROOT = Path(__file__).resolve().parent.parent

# Each hides javascript: from a naive check (entities, whitespace, reference links).
SCRIPT_LINKS = [
    "[a](javascript:alert(1))",
    "[b](&#106;avascript:alert(2))",
    "[c](&#x6A;avascript:alert(3))",
    "[d](jav&#x09;ascript:alert(4))",
    "[e](javascript&#58;alert(5))",
    "[f]( JaVaScRiPt:alert(6))",
    "[g](&#x20;javascript:alert(7))",
    "[h](java\tscript:alert(8))",
    "[i](vbscript:msgbox(9))",
    "[j](data:text/html,<script>alert(10)</script>)",
    "[k][r1] [l][r2] [m][r3] [n][r4]",
    "<javascript:alert(11)>",
    "[o](<javascript:alert(12)>)",
]
REFERENCES = [
    "[r1]: &#106;avascript:alert(13)",
    "[r2]: jav&#x09;ascript:alert(14)",
    "[r3]: javascript&#58;alert(15)",
    "[r4]: &#x6A;avascript:alert(16)",
    "[r5]: &#104;ttps://evil.example/ref.png",
]
REMOTE_IMAGES = [
    "![a](&#104;ttps://evil.example/a.png)",
    "![b](https:\\\\evil.example/b.png)",
    "![c](https:/evil.example/c.png)",
    "![d](https:evil.example/d.png)",
    "![e](//evil.example/e.png)",
    "![f](http://evil.example/f.png)",
    "![g](\\\\evil.example\\g.png)",
    "![h](/etc/h.png)",
    "![i](../outside/i.png)",
    "![j](img/%2e%2e/%2e%2e/j.png)",
    "![k](&#x20;https://evil.example/k.png)",
    "![l][r5]",
    "![m](file:///etc/m.png)",
    "![n](data:image/svg+xml,<svg onload=alert(17)>)",
]
RAW_HTML = ['<img src=x onerror="alert(18)">', "<script>alert(19)</script>",
            '<a href="javascript:alert(20)">raw</a>']
ALLOWED = ['[ok](https://go.dev/doc "Note: the Go docs")', "[mail](mailto:oncall@example.com)",
           "[page](pages/01-top.html)", "![local](img/graph.png)", "[frag](#profiles)"]
HOSTILE_NOTES = "\n\n".join(
    ["# Notes", *SCRIPT_LINKS, *REMOTE_IMAGES, *RAW_HTML, *ALLOWED,
     "| a | b |\n|:--|--:|\n| 1 | 2 |", "```go\nfunc main() {}\n```", *REFERENCES]) + "\n"


class Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parsed(html: str):
    c = Collect()
    c.feed(html)
    return c.tags


def test_no_link_runs_script_and_no_image_leaves_the_report():
    tags = parsed(render_notes(HOSTILE_NOTES))
    hrefs = [a.get("href") for t, a in tags if t == "a" and "href" in a]
    srcs = [a["src"] for t, a in tags if t == "img" and "src" in a]
    assert sorted(hrefs) == sorted(["https://go.dev/doc", "mailto:oncall@example.com",
                                    "pages/01-top.html", "#profiles"])
    assert srcs == ["img/graph.png"]
    assert {t for t, _ in tags} <= {"h1", "p", "a", "img", "table", "thead", "tbody", "tr",
                                    "th", "td", "pre", "code"}
    assert not any(k.startswith("on") or k in ("style", "srcset") for _, a in tags for k in a)


@pytest.mark.parametrize("form", SCRIPT_LINKS + REMOTE_IMAGES)
def test_each_form_alone(form):
    html = render_notes(form + "\n\n" + "\n".join(REFERENCES) + "\n")
    for tag, attrs in parsed(html):
        assert "href" not in attrs and "src" not in attrs, (form, html)


def test_raw_html_is_text_and_tables_and_code_render():
    html = render_notes(HOSTILE_NOTES)
    assert "&lt;script&gt;alert(19)&lt;/script&gt;" in html
    assert '<th align="left">a</th>' in html and '<td align="right">2</td>' in html
    assert "<pre><code>func main() {}" in html
    assert all(a.get("rel") == "noopener noreferrer" for t, a in parsed(html) if t == "a")
    assert 'title="Note: the Go docs"' in html   # text attributes are not URLs


def test_notes_in_a_built_report_in_chromium(tmp_path):
    """Every link clicked with dialogs hooked: no script runs, no request leaves."""
    from tests.browser import offline_browser
    from profiles import basic_builder

    basic_builder().write(tmp_path / "p.pb.gz")
    (tmp_path / "notes.md").write_text(HOSTILE_NOTES)
    (tmp_path / "site.yml").write_text(
        "notes_file: notes.md\nprofiles:\n  p: {path: p.pb.gz}\n")
    proc = subprocess.run([sys.executable, "-m", "reportgen", "build",
                           str(tmp_path / "site.yml"), "-o", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    with offline_browser() as new_page:
        w = new_page()
        dialogs = []
        w.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        index = tmp_path / "site" / "index.html"
        w.open(index)
        w.page.wait_for_timeout(200)
        assert w.outside == []   # no image was fetched
        protocols = w.page.eval_on_selector_all(".notes a[href]", "as => as.map(a => a.protocol)")
        assert set(protocols) <= {"https:", "mailto:", "file:"}, protocols
        count = w.page.locator(".notes a").count()
        assert count >= len(SCRIPT_LINKS)   # the unsafe links stay as text, unclickable
        hrefs = w.page.eval_on_selector_all(".notes a", "as => as.map(a => "
                                            "a.getAttribute('href') || '')")
        # Links that leave the page go where they say (https, mailto, a report page);
        # every other one (the defused forms, a fragment) is clicked in place.
        leaving = [h for h in hrefs if re.match(r"(https?|mailto):|pages/", h)]
        assert sorted(leaving) == ["https://go.dev/doc", "mailto:oncall@example.com",
                                   "pages/01-top.html"]
        for i, href in enumerate(hrefs):
            if href not in leaving:
                w.page.locator(".notes a").nth(i).click()
        w.page.wait_for_timeout(100)
        assert dialogs == [] and w.page.url.startswith(index.as_uri())
        # The hook sees script when there is some: a javascript: link made by the test.
        w.page.evaluate("document.body.insertAdjacentHTML('beforeend', "
                        "'<a id=control href=\"javascript:alert(99)\">c</a>')")
        w.page.click("#control")
        w.page.wait_for_timeout(100)
        assert dialogs == ["99"]
        assert w.outside == []
        # The one allowed image is a relative path this report does not have.
        assert all("ERR_FILE_NOT_FOUND" in e for e in w.errors), w.errors
