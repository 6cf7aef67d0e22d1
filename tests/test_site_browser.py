"""The built report in headless Chromium from file://, with the network cut off."""

import json
from pathlib import Path

import pytest

from tests.browser import offline_browser

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(example_site):
    return example_site


def flat_sorted_top_page(site):
    for page in sorted((site / "pages").glob("*-top.html")):
        if json.loads((site / "data" / f"{page.stem}.json").read_text())["sort"] == "flat":
            return page
    raise AssertionError("no top page sorted by flat")


def column(page, table, index):
    return page.eval_on_selector_all(
        f"#{table} tbody tr:not([hidden])",
        f"rows => rows.map(r => parseFloat(r.cells[{index}].dataset.value))")


def test_every_page_loads_offline_without_errors(site):
    with offline_browser() as new_page:
        w = new_page()
        for path in [site / "index.html", *sorted((site / "pages").glob("*.html"))]:
            w.open(path)
            assert w.page.locator("main table").first.is_visible(), path
        assert w.outside == []
        assert w.errors == []


def test_top_table_sorts_and_filters(site):
    page_path = flat_sorted_top_page(site)
    with offline_browser() as new_page:
        w = new_page()
        w.open(page_path)
        page = w.page
        flat = column(page, "top", 0)
        assert flat == sorted(flat, key=abs, reverse=True)  # pprof's order to start with
        page.click("#top thead th:nth-child(4)")  # cum, descending
        cum = column(page, "top", 3)
        assert cum == sorted(cum, key=abs, reverse=True) and cum != flat
        page.click("#top thead th:nth-child(4)")  # again: ascending
        assert column(page, "top", 3) == sorted(cum, key=abs)
        page.keyboard.press("/")
        page.keyboard.type("^runtime\\.")
        names = page.eval_on_selector_all(
            "#top tbody tr:not([hidden])", "rows => rows.map(r => r.dataset.name)")
        assert names and all(n.startswith("runtime.") for n in names)
        assert page.text_content("#top-count").startswith(f"{len(names)} of ")
        assert w.outside == [] and w.errors == []


def test_row_anchor_highlights_its_row(site):
    page_path = next(p for p in sorted((site / "pages").glob("*-top.html")))
    with offline_browser() as new_page:
        w = new_page()
        w.open(page_path)
        row_id = w.page.get_attribute("#top tbody tr:nth-child(3)", "id")
        w.open(page_path, "#" + row_id)
        assert w.page.evaluate("document.querySelector(':target').id") == row_id
