"""Script injection through the data: values with markup are shown as text on every HTML page, never run.

A federation graph whose labels, descriptions and links carry script payloads is loaded; every HTML
page that can show them is then read twice: parsed (no event handler, javascript: link or script
with the payload) and opened in Chromium (no dialog opens, no payload element exists).
"""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
import requests

from conftest import start_server

ID = "https://w3id.org/sekg/id/"
EVIL_GRAPH = "https://w3id.org/sekg/graph/federation/evil"
SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(2)>'
CLOSER = "</script><script>alert(3)</script><svg onload=alert(4)>"
ATTRIBUTE = "' onmouseover='alert(5)' x='"
HTML = {"Accept": "text/html"}


def turtle_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid Turtle string for these payloads


EVIL = f"""@prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix org: <http://www.w3.org/ns/org#> .
@prefix sekg: <https://w3id.org/sekg/ontology#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix legal: <http://www.w3.org/ns/legal#> . @prefix schema: <https://schema.org/> .
<{ID}organisation/evil> a sekg:SocialEconomyEnterprise, org:FormalOrganization, org:Organization ;
    skos:prefLabel {turtle_string(SCRIPT)} ; legal:legalName {turtle_string(IMAGE)} ;
    skos:altLabel {turtle_string(ATTRIBUTE)} ;
    dct:description {turtle_string(CLOSER + " <a href=javascript:alert(6)>x</a>")}@en ;
    schema:url <javascript:alert(7)> ;
    sekg:offers <http://data.europa.eu/cpv/cpv/85311200> ;
    sekg:prevailingSocialMission <{ID}social-mission/evil> .
<{ID}social-mission/evil> a skos:Concept ; skos:inScheme <{ID}scheme/social-mission> ;
    skos:prefLabel {turtle_string(SCRIPT)}@en , {turtle_string(IMAGE)}@it .
"""
PROVENANCE = f"""<{EVIL_GRAPH}> a <https://w3id.org/sekg/ontology#SourceGraph> ;
    <http://www.w3.org/2000/01/rdf-schema#label> {turtle_string(CLOSER)} ;
    <http://www.w3.org/ns/prov#wasDerivedFrom> <javascript:alert(8)> ;
    <https://w3id.org/sekg/ontology#confidence> <https://w3id.org/sekg/id/confidence/inferred> .
"""

PAGES = [
    "/doc/organisation/evil", "/doc/social-mission/evil", "/doc/scheme/social-mission",
    "/resource?iri=javascript%3Aalert(7)", "/graph/federation/evil", "/", "/?q=" + requests.utils.quote(SCRIPT),
    "/?q=" + requests.utils.quote(IMAGE), "/?q=evil", "/?mission=evil", "/?lang=it&mission=evil",
    "/tender?codes=85311200", "/tender?codes=" + requests.utils.quote(SCRIPT + " 85311200"),
    "/tender?codes=85311200&place=" + requests.utils.quote(IMAGE), "/charts", "/ontology", "/shapes", "/catalog", "/dumps", "/sparql", "/doc/nothing" + requests.utils.quote(SCRIPT),
    "/no-such-page" + requests.utils.quote(IMAGE),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = start_server(tmp_path_factory.mktemp("injection") / "store", SEKG_TILE_URL="")
    response = requests.put(live.url + "/store", params={"graph": EVIL_GRAPH}, data=EVIL.encode(), timeout=120,
                            headers={**live.auth(), "Content-Type": "text/turtle"})
    assert response.status_code == 201, response.text
    response = requests.post(live.url + "/store", params={"graph": "https://w3id.org/sekg/graph/provenance"},
                             data=PROVENANCE.encode(), headers={**live.auth(), "Content-Type": "text/turtle"}, timeout=120)
    assert response.status_code == 204, response.text
    live.app.extensions["sekg"].extras["portal_index"].ensure_current(wait=True)
    yield live
    live.stop()


class ActiveContent(HTMLParser):
    """Collect what a browser would run: event handlers, script URLs, script bodies and injected elements."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script = None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name in {"href", "src", "action", "formaction", "xlink:href"} and value and \
                    value.strip().lower().startswith(("javascript:", "data:text/html", "vbscript:")):
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag in {"img", "svg", "iframe", "object", "embed"} and ("src", "x") in attrs:
            self.found.append(f"<{tag}> from the data")
        if tag == "script":
            self._script = dict(attrs).get("type", "")

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script is None:
            return
        if "json" in self._script:
            json.loads(data)  # an embedded JSON block must still be one JSON value
        elif "alert(" in data:
            self.found.append(f"script running {data[:80]!r}")


def test_the_payloads_are_on_the_pages(server):
    """Guard the other tests: the payloads really reach the pages (as text)."""
    resource = requests.get(server.url + "/doc/organisation/evil", headers=HTML, timeout=60).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in resource
    directory = requests.get(server.url + "/", params={"mission": "evil"}, headers=HTML, timeout=60).text
    assert "&lt;/script&gt;&lt;script&gt;alert(3)" in directory
    graph = requests.get(server.url + "/graph/federation/evil", headers=HTML, timeout=60).text
    assert "javascript:alert(8)" in graph  # shown, but as text (see below)
    tender = requests.get(server.url + "/tender", params={"codes": "85311200"}, headers=HTML, timeout=60).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in tender


@pytest.mark.parametrize("path", PAGES)
def test_no_active_content_from_the_data(server, path):
    response = requests.get(server.url + path, headers=HTML, timeout=60)
    assert response.status_code in (200, 400, 404), response.status_code
    assert response.headers["Content-Type"].startswith("text/html")
    for payload in (SCRIPT, IMAGE, CLOSER, "<a href=javascript:"):
        assert payload not in response.text
    parser = ActiveContent()
    parser.feed(response.text)
    assert parser.found == []


def test_javascript_homepage_is_refused_by_the_shapes(server):
    data = f'<{ID}organisation/evil> <http://xmlns.com/foaf/0.1/homepage> <javascript:alert(9)> .'
    response = requests.post(server.url + "/store", params={"graph": EVIL_GRAPH}, data=data.encode(), timeout=60,
                             headers={**server.auth(), "Content-Type": "text/turtle", "Accept": "application/json"})
    assert response.status_code == 422
    assert "http(s)" in json.dumps(response.json()["report"])


@pytest.mark.parametrize("path", ["/doc/organisation/evil", "/?mission=evil", "/?q=evil", "/tender?codes=85311200",
                                  "/charts", "/graph/federation/evil", "/doc/social-mission/evil",
                                  "/?q=" + requests.utils.quote(SCRIPT)])
def test_no_dialog_opens_in_a_browser(server, page, path):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(server.url + path)
    page.wait_for_load_state("networkidle")
    if path == "/charts":
        page.wait_for_function("window.chartsReady === true")
    elif path.startswith("/?"):
        page.wait_for_function("window.mapReady === true")
    for link in page.locator("a").all():
        href = (link.get_attribute("href") or "").strip().lower()
        assert not href.startswith("javascript:"), href
    # an injected mouse-over or focus handler would fire here
    page.evaluate("""document.querySelectorAll('body *').forEach(function (element) {
        ['mouseover', 'mouseenter', 'focus', 'click'].forEach(function (kind) {
            if (kind === 'click' && element.closest('a, button, form')) return;
            element.dispatchEvent(new Event(kind, {bubbles: true}));
        });
    })""")
    assert dialogs == []
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"], svg[onload], [onerror], [onmouseover]').length") == 0
