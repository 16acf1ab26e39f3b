"""Human pages in Chromium: an organisation page, the language switch, and links to a project and its partners."""

from __future__ import annotations

import pytest

from browser import watch

pytestmark = pytest.mark.browser


def test_navigate_from_an_organisation_to_a_project_and_its_partners(shipped_server, page):
    log = watch(page)
    page.goto(shipped_server.url + "/id/organisation/torino-social-impact?lang=en", wait_until="networkidle")
    assert page.locator("h1").inner_text() == "Torino Social Impact"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#statements-h").inner_text() == "Statements"

    page.get_by_test_id("language-switch").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "it"
    assert page.locator("#statements-h").inner_text() == "Affermazioni"
    assert page.locator("#projects-h").inner_text() == "Progetti e ruoli"

    page.locator("section[aria-labelledby=projects-h] a", has_text="PROSECO").first.click()
    page.wait_for_load_state("networkidle")
    assert "/doc/project/proseco" in page.url
    assert "PROSECO" in page.locator("h1").inner_text()
    assert page.locator("html").get_attribute("lang") == "it"  # the choice is remembered

    page.locator("a", has_text="City of Lund").first.click()
    page.wait_for_load_state("networkidle")
    assert "/doc/organisation/city-of-lund" in page.url
    assert page.locator("h1").inner_text() == "City of Lund"
    assert log.page_errors == [] and log.console_errors == []
    assert log.offsite() == []


def test_keyboard_reaches_the_skip_link_first(shipped_server, page):
    page.goto(shipped_server.url + "/doc/project/proseco", wait_until="networkidle")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
