"""Take the README's screenshot: the example report in headless Chromium.

    python -m reportgen build site.yml -o site && python docs/screenshot.py site
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright


def main(site: str, out: str = "docs/screenshot.png") -> None:
    page_path = next(p for p in sorted(Path(site, "pages").glob("profile-cpu-before-*.html"))
                     if not p.stem.endswith("-calls"))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                     args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(page_path.resolve().as_uri())
        page.wait_for_timeout(300)
        page.screenshot(path=out)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
