"""Headless Debian Chromium for browser tests, with the network cut off.

Every request that is not file:// is aborted and recorded, so a test can
assert that a page loads nothing from outside.
"""

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def require_chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium missing: .ci/run must apt-get install chromium")
        pytest.skip("no /usr/bin/chromium")
    return pytest.importorskip("playwright.sync_api")


class PageWatch:
    """A page plus what it tried to fetch from outside and what went wrong."""

    def __init__(self, page):
        self.page = page
        self.outside = []
        self.errors = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, path: Path, fragment: str = ""):
        self.page.goto(path.resolve().as_uri() + fragment)
        self.page.wait_for_load_state("load")


@contextmanager
def offline_browser():
    sync_api = require_chromium()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context()
        watches = []

        def route(r):
            url = r.request.url
            if url.startswith("file://"):
                r.continue_()
            else:
                for w in watches:
                    w.outside.append(url)
                r.abort()

        context.route("**/*", route)

        def new_page():
            w = PageWatch(context.new_page())
            watches.append(w)
            return w

        try:
            yield new_page
        finally:
            browser.close()
