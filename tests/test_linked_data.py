"""Dereferenceable URIs: 303s, content negotiation, document contents, validators, 404/406, escaping."""

from __future__ import annotations

import json

import pytest
import requests
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import FOAF, RDF, SKOS

ID = "https://w3id.org/sekg/id/"
TSI = "organisation/torino-social-impact"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

# (Accept header, expected media type or 406)
NEGOTIATION = [
    ("text/turtle", "text/turtle"),
    ("application/ld+json", "application/ld+json"),
    ("application/json", "application/ld+json"),
    ("application/rdf+xml", "application/rdf+xml"),
    ("application/n-triples", "application/n-triples"),
    ("application/n-quads", "application/n-quads"),
    ("application/trig", "application/trig"),
    (BROWSER, "text/html"),
    ("text/html", "text/html"),
    ("*/*", "text/turtle"),
    (None, "text/turtle"),
    ("text/*", "text/turtle"),
    ("text/html;q=0.5, text/turtle", "text/turtle"),
    ("text/turtle;q=0.4, application/ld+json;q=0.8", "application/ld+json"),
    ("*/*, text/turtle;q=0", "application/ld+json"),
    ("text/turtle;q=0, application/rdf+xml;q=0.1", "application/rdf+xml"),
    ("image/png", 406),
    ("text/turtle;q=0", 406),
    ("application/x-unknown, text/plain;q=0", 406),
]


@pytest.mark.parametrize("accept, expected", NEGOTIATION, ids=[f"{a}" for a, _ in NEGOTIATION])
def test_negotiation(shipped_server, accept, expected):
    headers = {} if accept is None else {"Accept": accept}
    response = requests.get(f"{shipped_server.url}/doc/{TSI}", headers=headers)
    if expected == 406:
        assert response.status_code == 406
        assert "text/turtle" in response.text  # the offered types are named
    else:
        assert response.status_code == 200, response.text[:300]
        assert response.headers["Content-Type"].split(";")[0] == expected
    assert "Accept" in response.headers["Vary"]


def test_thing_iri_answers_303_to_its_document(shipped_server):
    response = requests.get(f"{shipped_server.url}/id/{TSI}", allow_redirects=False,
                            headers={"Accept": "text/turtle"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/doc/{TSI}"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    followed = requests.get(f"{shipped_server.url}/id/{TSI}", headers={"Accept": "text/turtle"})
    assert followed.status_code == 200 and followed.headers["Content-Type"].startswith("text/turtle")


@pytest.mark.parametrize("suffix, media_type", [(".ttl", "text/turtle"), (".jsonld", "application/ld+json"),
                                                (".rdf", "application/rdf+xml"), (".nt", "application/n-triples"),
                                                (".html", "text/html"), (".nq", "application/n-quads")])
def test_suffix_forces_the_format(shipped_server, suffix, media_type):
    response = requests.get(f"{shipped_server.url}/doc/{TSI}{suffix}", headers={"Accept": "text/html"})
    assert response.headers["Content-Type"].split(";")[0] == media_type
    assert response.headers["Content-Location"] == f"/doc/{TSI}{suffix}"


def test_headers_link_alternates_location_and_cors(shipped_server):
    response = requests.get(f"{shipped_server.url}/doc/{TSI}", headers={"Accept": "text/turtle"})
    link = response.headers["Link"]
    for suffix, media_type in ((".ttl", "text/turtle"), (".jsonld", "application/ld+json"), (".html", "text/html"),
                               (".rdf", "application/rdf+xml"), (".nt", "application/n-triples")):
        assert f'</doc/{TSI}{suffix}>; rel="alternate"; type="{media_type}"' in link
    assert response.headers["Content-Location"] == f"/doc/{TSI}.ttl"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["ETag"]
    assert response.headers["Last-Modified"]


def test_conditional_get_answers_304(shipped_server):
    first = requests.get(f"{shipped_server.url}/doc/{TSI}", headers={"Accept": "text/turtle"})
    again = requests.get(f"{shipped_server.url}/doc/{TSI}",
                         headers={"Accept": "text/turtle", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    since = requests.get(f"{shipped_server.url}/doc/{TSI}",
                         headers={"Accept": "text/turtle", "If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    other = requests.get(f"{shipped_server.url}/doc/{TSI}",
                         headers={"Accept": "application/ld+json", "If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200  # another representation has another validator


@pytest.mark.parametrize("accept, media_type", [("text/turtle", "text/plain"), ("application/json", "application/json"),
                                                ("text/html", "text/html")])
def test_unknown_resource_is_404_in_the_asked_format(shipped_server, accept, media_type):
    response = requests.get(f"{shipped_server.url}/doc/organisation/does-not-exist", headers={"Accept": accept})
    assert response.status_code == 404
    assert response.headers["Content-Type"].split(";")[0] == media_type
    assert "does-not-exist" in response.text


SAMPLE = ["organisation/torino-social-impact", "project/proseco", "call/smp-cosme-2022-buysocialb2bmarket-01",
          "organisation/cooperativa-sociale-barbara-b", "place/it/torino", "social-mission/work-integration",
          "qualification/societa-benefit"]
FORMATS = [("text/turtle", "turtle"), ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml"),
           ("application/n-triples", "nt")]


@pytest.mark.parametrize("path", SAMPLE)
@pytest.mark.parametrize("accept, rdflib_format", FORMATS)
def test_every_format_parses_and_contains_the_resource(shipped_server, path, accept, rdflib_format):
    response = requests.get(f"{shipped_server.url}/doc/{path}", headers={"Accept": accept})
    assert response.status_code == 200
    graph = Graph().parse(data=response.content, format=rdflib_format,
                          publicID=f"{shipped_server.url}/doc/{path}")
    assert (URIRef(ID + path), None, None) in graph


def test_jsonld_refers_to_the_published_context(shipped_server):
    document = requests.get(f"{shipped_server.url}/doc/{TSI}", headers={"Accept": "application/ld+json"}).json()
    assert document["@context"] == shipped_server.url + "/context.jsonld"
    context = requests.get(shipped_server.url + "/context.jsonld").json()
    assert context["@context"]["sekg"] == "https://w3id.org/sekg/ontology#"


def turtle(server, path) -> Graph:
    response = requests.get(f"{server.url}/doc/{path}", headers={"Accept": "text/turtle"})
    return Graph().parse(data=response.text, format="turtle")


def test_document_holds_statements_labels_incoming_links_and_sources(shipped_server):
    graph = turtle(shipped_server, TSI)
    tsi = URIRef(ID + TSI)
    assert (tsi, SKOS.prefLabel, None) in graph
    # labels of what it links to
    for _, _, linked in graph.triples((tsi, None, None)):
        if isinstance(linked, URIRef) and linked.startswith(ID + "organisation/"):
            assert (linked, SKOS.prefLabel, None) in graph, linked
    # statements that point at it: its participations in projects, with their projects and roles
    sekg = "https://w3id.org/sekg/ontology#"
    participations = set(graph.subjects(URIRef(sekg + "participant"), tsi))
    assert participations
    projects = {graph.value(p, URIRef(sekg + "inProject")) for p in participations}
    assert URIRef(ID + "project/proseco") in projects
    assert (URIRef(ID + "project/proseco"), SKOS.prefLabel, None) in graph
    # where the facts come from: the graphs and their PROV sources
    document = next(graph.subjects(FOAF.primaryTopic, tsi))
    sources = set(graph.objects(document, URIRef("http://purl.org/dc/terms/source")))
    assert any(str(s).startswith("https://w3id.org/sekg/graph/source/") for s in sources)
    derived = set(graph.objects(document, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")))
    assert URIRef("https://torinosocialimpact.it/en/news/torino-social-impact-assembly") in derived


def test_project_document_lists_its_partners(shipped_server):
    graph = turtle(shipped_server, "project/proseco")
    sekg = "https://w3id.org/sekg/ontology#"
    partners = {graph.value(p, URIRef(sekg + "participant"))
                for p in graph.objects(URIRef(ID + "project/proseco"), URIRef(sekg + "hasParticipation"))}
    assert URIRef(ID + "organisation/city-of-lund") in partners
    assert len(partners) >= 11


def test_trig_keeps_each_statement_in_its_source_graph(shipped_server):
    response = requests.get(f"{shipped_server.url}/doc/project/proseco", headers={"Accept": "application/trig"})
    dataset = Dataset()
    dataset.parse(data=response.text, format="trig")
    names = {str(g.identifier) for g in dataset.graphs()}
    assert any(name.startswith("https://w3id.org/sekg/graph/source/kmop") for name in names)
    assert "https://w3id.org/sekg/graph/provenance" in names


def test_canonical_iris_whatever_the_host(shipped_server):
    response = requests.get(f"{shipped_server.url}/doc/{TSI}",
                            headers={"Accept": "text/turtle", "Host": "data.example.net"})
    graph = Graph().parse(data=response.text, format="turtle")
    assert (URIRef(ID + TSI), None, None) in graph


def test_any_mentioned_iri_has_a_page(shipped_server):
    cpv = "http://data.europa.eu/cpv/cpv/55520000"
    response = requests.get(f"{shipped_server.url}/resource", params={"iri": cpv}, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = Graph().parse(data=response.text, format="turtle")
    assert (URIRef(cpv), SKOS.prefLabel, Literal("Catering services", lang="en")) in graph
    ours = requests.get(f"{shipped_server.url}/resource", params={"iri": ID + TSI}, allow_redirects=False)
    assert ours.status_code == 303 and ours.headers["Location"] == f"/doc/{TSI}"


@pytest.mark.parametrize("path", ["/ontology", "/shapes"])
def test_ontology_and_shapes_are_served_with_negotiation(shipped_server, path):
    rdf = requests.get(shipped_server.url + path, headers={"Accept": "text/turtle"})
    assert rdf.status_code == 200
    graph = Graph().parse(data=rdf.text, format="turtle")
    assert len(graph) > 100
    html = requests.get(shipped_server.url + path, headers={"Accept": BROWSER})
    assert html.headers["Content-Type"].startswith("text/html")
    assert requests.get(shipped_server.url + path + ".jsonld").headers["Content-Type"].startswith("application/ld+json")


def test_ontology_page_documents_classes_and_properties_in_both_languages(shipped_server):
    english = requests.get(shipped_server.url + "/ontology?lang=en", headers={"Accept": BROWSER}).text
    italian = requests.get(shipped_server.url + "/ontology?lang=it", headers={"Accept": BROWSER}).text
    assert "Social economy enterprise" in english and 'id="SocialEconomyEnterprise"' in english
    assert "Impresa dell&#39;economia sociale" in italian or "Impresa dell'economia sociale" in italian
    assert "prevailing social mission" in english and "missione sociale prevalente" in italian


def test_html_page_shows_labels_formatted_values_and_embedded_jsonld(shipped_server):
    page = requests.get(f"{shipped_server.url}/doc/call/smp-cosme-2022-buysocialb2bmarket-01",
                        headers={"Accept": BROWSER, "Accept-Language": "it"}).text.replace("\xa0", " ")
    assert "1.300.000 €" in page and "325.000 €" in page
    assert "29 settembre 2022" in page
    assert "EISMEA" in page
    english = requests.get(f"{shipped_server.url}/doc/call/smp-cosme-2022-buysocialb2bmarket-01?lang=en",
                           headers={"Accept": BROWSER}).text.replace("\xa0", " ")
    assert "€1,300,000" in english and "29 September 2022" in english
    start = english.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
    data = json.loads(english[start:english.index("</script>", start)])
    assert data["@context"] == "https://schema.org" and data["@id"].endswith("smp-cosme-2022-buysocialb2bmarket-01")


def test_organisation_jsonld_for_search_engines(shipped_server):
    page = requests.get(f"{shipped_server.url}/doc/organisation/ascensori-rossini", headers={"Accept": BROWSER}).text
    start = page.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
    data = json.loads(page[start:page.index("</script>", start)])
    assert data["@type"] == "Organization" and data["name"] == "Ascensori Rossini"
    assert data["address"]["addressLocality"] == "Vicoforte"


def test_values_from_the_data_are_escaped(empty_server):
    evil = '<script>alert("x")</script>'
    quoted = evil.replace('"', '\\"')
    data = f"""<https://w3id.org/sekg/id/organisation/evil> a <http://www.w3.org/ns/org#Organization> ;
        <http://www.w3.org/2004/02/skos/core#prefLabel> "{quoted}" ;
        <http://purl.org/dc/terms/description> "</script><img src=x onerror=alert(1)>"@en ."""
    response = requests.put(empty_server.url + "/store", params={"graph": "urn:test:evil"}, data=data,
                            headers={**empty_server.auth(), "Content-Type": "text/turtle"})
    assert response.status_code == 201, response.text
    page = requests.get(empty_server.url + "/doc/organisation/evil", headers={"Accept": BROWSER}).text
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert" in page
    start = page.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
    embedded = page[start:page.index("</script>", start)]
    assert json.loads(embedded)["name"] == evil  # the JSON-LD is escaped for HTML, not changed


def test_named_graph_is_dereferenceable(shipped_server):
    response = requests.get(shipped_server.url + "/graph/source/kmop-proseco", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = Graph().parse(data=response.text, format="turtle")
    assert (URIRef(ID + "project/proseco"), None, None) in graph
    page = requests.get(shipped_server.url + "/graph/source/kmop-proseco", headers={"Accept": BROWSER}).text
    assert "https://www.kmop.gr/el/projects-vf/news-proseco" in page
