"""The query editor: browsers asking /sparql get YASGUI from our own static files, with example queries."""

from __future__ import annotations

import pytest

from browser import watch

pytestmark = pytest.mark.browser


def test_editor_loads_offline_with_example_queries(empty_server, page):
    log = watch(page)
    page.goto(empty_server.url + "/sparql", wait_until="networkidle")
    page.wait_for_selector(".yasqe .CodeMirror")
    tab_names = page.eval_on_selector_all(".tabsList .tab a span", "els => els.map(e => e.textContent.trim())")
    titles = [q.title for q in empty_server.app.extensions["sekg"].queries.values() if q.example]
    assert titles and tab_names == titles
    assert page.evaluate("yasgui.getTab().getEndpoint()") == empty_server.url + "/sparql"
    page.click(".yasqe_queryButton")
    page.wait_for_selector(".yasr_response_chip, .yasr .dataTable, .yasr_results", timeout=15000)
    assert log.offsite() == []
    assert log.page_errors == []
    assert log.console_errors == []


def test_editor_opens_a_shared_query(empty_server, page):
    page.goto(empty_server.url + "/sparql#query=ASK%20%7B%7D", wait_until="networkidle")
    page.wait_for_selector(".yasqe .CodeMirror")
    assert page.evaluate("yasgui.getTab().yasqe.getValue()") == "ASK {}"
