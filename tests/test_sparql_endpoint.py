"""The /sparql endpoint with real clients: every query form and result format, negotiation, headers."""

from __future__ import annotations

import csv
import io
import json

import pytest
import requests
from rdflib import Graph, Literal, URIRef
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

DATA = """
@prefix ex: <http://example.org/> .
ex:alice ex:name "Alice"@en , "Alice, \\"A\\""@it ; ex:age 42 ; ex:knows ex:bob .
ex:bob ex:name "Bob" ; ex:knows [ ex:name "Carol" ] .
"""
GRAPH = "http://example.org/graph/people"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from conftest import start_server

    live = start_server(tmp_path_factory.mktemp("sparql") / "store", SEKG_LOAD_SHIPPED=False,
                        SEKG_MAX_RESULT_ROWS=3, SEKG_MAX_URL_BYTES=2048, SEKG_MAX_BODY_BYTES=64 * 1024)
    response = requests.put(live.url + "/store", params={"graph": GRAPH}, data=DATA.encode(),
                            headers={**live.auth(), "Content-Type": "text/turtle"})
    assert response.status_code == 201
    yield live
    live.stop()


def wrapper(server, query, fmt=JSON, method="GET"):
    sparql = SPARQLWrapper(server.url + "/sparql")
    sparql.setQuery(query)
    sparql.setReturnFormat(fmt)
    sparql.setMethod(method)
    return sparql


SELECT = "PREFIX ex: <http://example.org/> SELECT ?name WHERE { ex:alice ex:name ?name } ORDER BY ?name"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_select_json_with_sparqlwrapper(server, method):
    result = wrapper(server, SELECT, JSON, method).query().convert()
    assert result["head"]["vars"] == ["name"]
    values = {(b["name"]["value"], b["name"].get("xml:lang")) for b in result["results"]["bindings"]}
    assert values == {("Alice", "en"), ('Alice, "A"', "it")}


def test_select_post_direct(server):
    sparql = wrapper(server, SELECT, JSON, "POST")
    sparql.setRequestMethod("postdirectly")
    assert len(sparql.query().convert()["results"]["bindings"]) == 2


def test_select_xml(server):
    document = wrapper(server, SELECT, XML).query().convert()
    literals = document.getElementsByTagName("literal")
    assert sorted(node.firstChild.data for node in literals) == ["Alice", 'Alice, "A"']


def test_select_csv_quotes_fields(server):
    body = wrapper(server, SELECT, CSV).query().convert().decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows == [["name"], ["Alice"], ['Alice, "A"']]


def test_select_tsv_uses_ntriples_terms(server):
    body = wrapper(server, SELECT, TSV).query().convert().decode()
    assert body.splitlines() == ["?name", '"Alice"@en', '"Alice, \\"A\\""@it']


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml",
                                    "text/csv", "text/tab-separated-values"])
def test_ask_in_every_results_format(server, accept):
    response = server.get("/sparql", params={"query": "ASK { ?s ?p 42 }"}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(accept)
    assert "true" in response.text


def test_ask_with_sparqlwrapper(server):
    assert wrapper(server, "ASK { ?s ?p 43 }", JSON).query().convert()["boolean"] is False


@pytest.mark.parametrize("fmt, rdflib_format", [(TURTLE, "turtle"), (RDFXML, "xml"), (JSONLD, "json-ld"),
                                                (N3, "turtle")])
def test_construct_formats(server, fmt, rdflib_format):
    query = "PREFIX ex: <http://example.org/> CONSTRUCT { ?s ex:name ?n } WHERE { ?s ex:name ?n }"
    result = wrapper(server, query, fmt).query().convert()
    graph = result if isinstance(result, Graph) else Graph().parse(data=result, format=rdflib_format)
    assert (URIRef("http://example.org/bob"), URIRef("http://example.org/name"), Literal("Bob")) in graph
    assert len(graph) == 3  # capped at SEKG_MAX_RESULT_ROWS


@pytest.mark.parametrize("accept, media_type", [("application/n-triples", "application/n-triples"),
                                                ("application/n-quads", "application/n-quads"),
                                                ("application/trig", "application/trig")])
def test_describe_in_ntriples_nquads_trig(server, accept, media_type):
    response = server.get("/sparql", params={"query": "DESCRIBE <http://example.org/bob>"}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(media_type)
    assert "<http://example.org/bob>" in response.text


def test_default_graph_is_the_union_of_named_graphs(server):
    response = server.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"},
                          headers={"Accept": "application/sparql-results+json"})
    assert json.loads(response.text)["results"]["bindings"][0]["n"]["value"] == "7"


def test_protocol_dataset_overrides_union(server):
    response = server.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
                                             "default-graph-uri": "http://example.org/nothing"})
    assert response.json()["results"]["bindings"][0]["n"]["value"] == "0"


def test_q_values_pick_the_preferred_format(server):
    response = server.get("/sparql", params={"query": SELECT},
                          headers={"Accept": "application/sparql-results+xml;q=0.5, text/csv;q=0.9"})
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Vary"] == "Accept"


def test_q_zero_excludes_a_format(server):
    response = server.get("/sparql", params={"query": SELECT},
                          headers={"Accept": "*/*, application/sparql-results+json;q=0"})
    assert response.headers["Content-Type"].startswith("application/sparql-results+xml")


def test_unacceptable_format_is_406_with_offers(server):
    response = server.get("/sparql", params={"query": SELECT}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "application/sparql-results+json" in response.json()["message"]


def test_format_parameter_overrides_accept(server):
    response = server.get("/sparql", params={"query": SELECT, "format": "tsv"}, headers={"Accept": "text/csv"})
    assert response.headers["Content-Type"].startswith("text/tab-separated-values")


def test_cors_on_reads(server):
    response = server.get("/sparql", params={"query": SELECT}, headers={"Origin": "https://example.net"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = requests.options(server.url + "/sparql", headers={
        "Origin": "https://example.net", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]


def test_result_cap_is_signalled(server):
    response = server.get("/sparql", params={"query": "SELECT * { ?s ?p ?o }"})
    assert len(response.json()["results"]["bindings"]) == 3
    assert response.headers["X-SPARQL-MaxRows"] == "3"
    assert response.headers["Sekg-Results-Truncated"].startswith("true")
    small = server.get("/sparql", params={"query": "SELECT * { ?s ?p ?o } LIMIT 2"})
    assert "X-SPARQL-MaxRows" not in small.headers


def test_service_description_for_rdf_clients(server):
    response = server.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = Graph().parse(data=response.text, format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    endpoint = URIRef(server.url + "/sparql")
    assert (endpoint, URIRef(sd + "supportedLanguage"), URIRef(sd + "SPARQL11Query")) in graph
    assert (endpoint, URIRef(sd + "feature"), URIRef(sd + "UnionDefaultGraph")) in graph
    assert (None, URIRef(sd + "name"), URIRef(GRAPH)) in graph


def test_malformed_query_is_400_with_the_parser_message(server):
    response = server.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p }"})
    assert response.status_code == 400
    assert "error at 1:" in response.json()["message"]


def test_update_sent_to_query_endpoint_is_refused(server):
    response = server.post("/sparql", data={"update": "CLEAR ALL"}, headers=server.auth())
    assert response.status_code == 400
    assert "/update" in response.json()["message"]


def test_update_by_get_is_405(server):
    response = server.get("/update", params={"update": "CLEAR ALL"}, headers=server.auth())
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_unsupported_media_type_is_415(server):
    response = server.post("/sparql", data=SELECT, headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


def test_long_uri_is_414(server):
    response = server.get("/sparql", params={"query": SELECT + " " + "#" * 3000})
    assert response.status_code == 414
    assert "POST" in response.json()["message"]


def test_large_body_is_413(server):
    response = server.post("/sparql", data=SELECT + " " + "#" * (70 * 1024),
                           headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 413


def test_invalid_utf8_is_400(server):
    response = server.post("/sparql", data=b"SELECT * { ?s ?p \"\xff\xfe\" }",
                           headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 400
    assert "UTF-8" in response.json()["message"]
