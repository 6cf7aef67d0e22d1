"""Take the README's history screenshot: the nightly example's history index
in headless Chromium.

    python -m reportgen build examples/nightly/site.yml -o /tmp/nightly \
        && python docs/history_screenshot.py /tmp/nightly
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright


def main(site: str, out: str = "docs/history.png") -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                     args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 1150})
        page.goto(Path(site, "index.html").resolve().as_uri())
        page.wait_for_timeout(300)
        page.screenshot(path=out)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
