"""The directory in Chromium: facets, combinations, search, paging, language, map, exports, no console errors."""

from __future__ import annotations

import re

import pytest

from browser import watch

pytestmark = pytest.mark.browser


def open_directory(page, server, query: str = ""):
    log = watch(page)
    page.goto(server.url + "/?lang=en" + ("&" + query if query else ""), wait_until="networkidle")
    return log


def total(page) -> int:
    return int(page.locator("#results-h").get_attribute("data-total"))


@pytest.mark.parametrize("facet", ["cpv", "type", "mission", "place", "project"])
def test_each_facet_narrows_the_list_to_its_count(synthetic_server, page, facet):
    log = open_directory(page, synthetic_server)
    option = page.locator(f"#facet-{facet} label").first
    expected = int(re.search(r"\((\d+)\)", option.inner_text()).group(1))
    with page.expect_navigation():
        option.locator("input").check()  # the script submits the form on change
    assert f"{facet}=" in page.url
    assert total(page) == expected
    assert page.locator(f"#facet-{facet} input:checked").count() == 1
    assert log.console_errors == [] and log.page_errors == []


def test_filters_combine_and_the_url_keeps_the_state(synthetic_server, page):
    open_directory(page, synthetic_server)
    with page.expect_navigation():
        page.locator("#facet-mission input").first.check()
    after_one = total(page)
    with page.expect_navigation():
        page.locator("#facet-place input").first.check()
    after_two = total(page)
    assert 0 < after_two <= after_one
    shared = page.url
    page.goto(shared, wait_until="networkidle")
    assert total(page) == after_two  # the whole state is in the query string


def test_text_search(synthetic_server, page):
    open_directory(page, synthetic_server)
    page.fill("#q", "barbara")
    with page.expect_navigation():
        page.press("#q", "Enter")
    assert total(page) == 1
    assert page.locator("li.enterprise h3").inner_text() == "Cooperativa Sociale Barbara B"


def test_paging(synthetic_server, page):
    open_directory(page, synthetic_server)
    first = page.locator("li.enterprise h3").all_inner_texts()
    with page.expect_navigation():
        page.click("nav.pager a[rel=next]")
    second = page.locator("li.enterprise h3").all_inner_texts()
    assert len(first) == len(second) == 20 and not set(first) & set(second)
    assert "page 2" in page.locator("nav.pager").inner_text()


def test_language_switch(synthetic_server, page):
    open_directory(page, synthetic_server)
    assert page.locator("#facet-mission legend").inner_text() == "Prevailing social mission"
    with page.expect_navigation():
        page.get_by_test_id("language-switch").click()
    assert page.locator("html").get_attribute("lang") == "it"
    assert page.locator("#facet-mission legend").inner_text() == "Missione sociale prevalente"


def test_map_shows_markers_without_tiles(synthetic_server, page):
    log = open_directory(page, synthetic_server, "place=ITA")
    page.wait_for_function("window.mapReady === true")
    shown = int(page.locator("#map").get_attribute("data-count"))
    assert shown > 0
    assert page.locator("#map .leaflet-marker-icon").count() == shown
    assert log.offsite() == []


def test_exports_match_the_page(synthetic_server, page):
    open_directory(page, synthetic_server, "mission=work-integration&place=ITC1&size=100")
    names = page.locator("li.enterprise h3").all_inner_texts()
    href = page.get_by_test_id("export-json").get_attribute("href")
    data = page.request.get(synthetic_server.url + href).json()
    assert sorted(e["name"] for e in data["enterprises"]) == sorted(names)
    csv_text = page.request.get(synthetic_server.url + page.get_by_test_id("export-csv").get_attribute("href")).text()
    assert all(name in csv_text for name in names)


def test_show_the_query_opens_the_editor_with_it(synthetic_server, page):
    open_directory(page, synthetic_server, "mission=work-integration")
    with page.expect_navigation():
        page.get_by_test_id("show-query").click()
    page.wait_for_selector(".yasqe .CodeMirror")
    assert "prevailingSocialMission" in page.evaluate("yasgui.getTab().yasqe.getValue()")


def test_keyboard_and_labels(synthetic_server, page):
    open_directory(page, synthetic_server)
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).length""")
    assert unlabelled == 0
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() in ("Skip to content", "Vai al contenuto")


def test_tender_and_charts_pages(synthetic_server, page):
    log = watch(page)
    page.goto(synthetic_server.url + "/tender?lang=en", wait_until="networkidle")
    page.fill("#codes", "Notice 2026/S 001-000001: CPV 77310000-6 Planting and maintenance")
    with page.expect_navigation():
        page.click("form.tender button")
    assert page.locator("#matches-h").get_attribute("data-total") != "0"
    assert "Cooperativa Sociale Barbara B" in page.content()
    page.goto(synthetic_server.url + "/charts", wait_until="networkidle")
    page.wait_for_function("window.chartsReady === true")
    points = page.eval_on_selector_all("canvas[data-chart]", "els => els.map(e => Number(e.dataset.points || 0))")
    assert len(points) == 5 and all(p > 0 for p in points)
    assert log.console_errors == [] and log.page_errors == [] and log.offsite() == []
