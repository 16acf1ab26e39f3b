"""One contract, three stores: the service on its embedded store, on Virtuoso 7.2 and on the Oxigraph server.

Each backend is a real service (Waitress on port 0) filled with the shipped data by the service
itself; answers are compared, through HTTP and real clients, with the session's reference server
(the embedded store, tests/conftest.py `shipped_server`). The write tests come last and leave the
data as they found it.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

import pytest
import requests
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from SPARQLWrapper import JSON, POST, SPARQLWrapper

from conftest import PROJECT, LiveServer, remote_settings, start_server
from triplestores import OxigraphServer, VirtuosoServer

SEKG = "https://w3id.org/sekg/ontology#"
ID = "https://w3id.org/sekg/id/"
GRAPH = "https://w3id.org/sekg/graph/"
PLACES, PROVENANCE = GRAPH + "places", GRAPH + "provenance"
FEDERATION = GRAPH + "federation/contract"
OTHER_FEDERATION = GRAPH + "federation/contract-other"
CALL = ID + "call/smp-cosme-2022-buysocialb2bmarket-01"  # has blank-node budgets
SOURCE = GRAPH + "source/tsi-welcoming-enterprise"  # names an enterprise
PREFIXES = (f"PREFIX sekg: <{SEKG}> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
            "PREFIX schema: <https://schema.org/> PREFIX foaf: <http://xmlns.com/foaf/0.1/> ")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
MAX_ROWS = 1000
# Virtuoso's ResultSetMaxRows in these tests: below the CPV graph (264 721 triples), so that whole-graph
# reads page, and above the ~250 000 labels an import reads (paged internal SELECTs have their own test)
VIRTUOSO_CAP = 255_000
CPV = GRAPH + "vocab/cpv"
# Every pair of NUTS statements, compared as strings: about 10^8 pairs, far past any timeout.
HEAVY = ("SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/sekg/graph/vocab/nuts> { ?a ?b ?c } "
         "GRAPH <https://w3id.org/sekg/graph/vocab/nuts> { ?d ?e ?f } FILTER(STR(?c) < STR(?f)) }")
VALID = f"""@prefix sekg: <{SEKG}> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix org: <http://www.w3.org/ns/org#> .
<{ID}organisation/contract-test-cooperative> a org:Organization ;
    skos:prefLabel "Contract test cooperative"@en .
"""
INVALID = """@prefix org: <http://www.w3.org/ns/org#> . <http://example.org/nameless> a org:Organization ."""
TTL = {"Content-Type": "text/turtle"}

BACKENDS = [
    pytest.param("embedded", id="embedded"),
    pytest.param("virtuoso", id="virtuoso", marks=pytest.mark.remote),
    pytest.param("oxigraph", id="oxigraph", marks=pytest.mark.remote),
]


@dataclass
class Backend:
    """A service on one kind of store, and the engine behind it (None for the embedded store)."""

    kind: str
    live: LiveServer
    engine: object | None

    @property
    def url(self) -> str:
        return self.live.url


def start_engine(kind: str):
    if kind == "virtuoso":
        return VirtuosoServer(result_set_max_rows=VIRTUOSO_CAP).start()
    if kind == "oxigraph":
        return OxigraphServer().start()
    return None


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request, tmp_path_factory):
    engine = start_engine(request.param)
    try:
        live = start_server(tmp_path_factory.mktemp(request.param) / "store", SEKG_MAX_RESULT_ROWS=MAX_ROWS,
                            **(remote_settings(engine) if engine else {}))
    except BaseException:
        if engine:
            engine.stop()
        raise
    live.get("/dumps")  # start making the dumps now, in the background, for test_dumps_hold_every_quad
    yield Backend(request.param, live, engine)
    live.stop()
    if engine:
        engine.stop()


@pytest.fixture(scope="module")
def reference(shipped_server):
    """The embedded store filled with the shipped data: what every backend must answer."""
    return shipped_server


# --- clients ------------------------------------------------------------------------------------
def select(url: str, query: str, **params) -> Counter:
    """Run a SELECT through SPARQLWrapper; return its solutions as a multiset (blank nodes unnamed)."""
    client = SPARQLWrapper(url + "/sparql")
    client.setMethod(POST)
    client.setReturnFormat(JSON)
    client.setTimeout(60)
    for name, values in params.items():
        for value in values:
            client.addParameter(name.replace("_", "-"), value)
    client.setQuery(query)
    document = client.queryAndConvert()
    return Counter(frozenset((name, _term(value)) for name, value in row.items())
                   for row in document["results"]["bindings"])


def _term(value: dict) -> tuple:
    if value["type"] == "bnode":
        return ("bnode",)
    return (value["type"], value["value"], value.get("xml:lang"), value.get("datatype"))


def rdf(url: str, query: str) -> Graph:
    response = requests.post(url + "/sparql", data={"query": query}, headers={"Accept": "text/turtle"}, timeout=60)
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.text, format="turtle")


def ask(url: str, query: str) -> bool:
    response = requests.get(url + "/sparql", params={"query": query},
                            headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["boolean"]


def wait_until(check, seconds: float = 120, what: str = "the condition"):
    """Poll until check() returns something true; return it."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {seconds} s")
        time.sleep(0.25)


def portal_ready(url: str) -> bool:
    return requests.get(url + "/health", timeout=30).json().get("portal_index") == "fresh"


def store_graph(url: str, graph: str) -> Graph | None:
    response = requests.get(url + "/store", params={"graph": graph}, headers={"Accept": "application/n-triples"},
                            timeout=60)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.text, format="nt")


# --- queries: the same answers everywhere ---------------------------------------------------------
SELECTS = {
    "triples in the union": ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", {}),
    "graphs and their sizes": ("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", {}),
    "graph names, empty pattern": ("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }", {}),
    "enterprises and names": (PREFIXES + "SELECT ?e ?name WHERE { ?e a sekg:SocialEconomyEnterprise ; "
                              "skos:prefLabel ?name }", {}),
    "optional homepage": (PREFIXES + "SELECT ?e ?site WHERE { ?e a sekg:SocialEconomyEnterprise "
                          "OPTIONAL { ?e foaf:homepage ?site } }", {}),
    "language filter": (PREFIXES + "SELECT ?c ?label WHERE { ?c skos:inScheme <" + ID + "scheme/social-mission> ; "
                        "skos:prefLabel ?label FILTER(lang(?label) = 'it') }", {}),
    "types with many members": ("SELECT ?t (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?t } GROUP BY ?t "
                                "HAVING (COUNT(DISTINCT ?s) > 40)", {}),
    "blank-node budgets": (PREFIXES + "SELECT ?call ?b ?amount ?currency WHERE { ?call sekg:budget ?b . "
                           "?b schema:value ?amount ; schema:currency ?currency }", {}),
    "property path": (PREFIXES + "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c skos:broader+ "
                      "<http://data.europa.eu/cpv/cpv/79000000> }", {}),
    "FROM names the default graph": (f"SELECT (COUNT(*) AS ?n) FROM <{PLACES}> WHERE {{ ?s ?p ?o }}", {}),
    "FROM alone leaves no named graphs": (f"SELECT (COUNT(*) AS ?n) FROM <{PLACES}> "
                                          "WHERE { GRAPH ?g { ?s ?p ?o } }", {}),
    "FROM NAMED alone leaves an empty default graph": (f"SELECT (COUNT(*) AS ?n) FROM NAMED <{PLACES}> "
                                                       "WHERE { ?s ?p ?o }", {}),
    "default-graph-uri": ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", {"default_graph_uri": [PLACES]}),
    "named-graph-uri": ("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
                        {"named_graph_uri": [PLACES, PROVENANCE]}),
    "protocol graphs override FROM": (f"SELECT (COUNT(*) AS ?n) FROM <{PROVENANCE}> WHERE {{ ?s ?p ?o }}",
                                      {"default_graph_uri": [PLACES]}),
    "VALUES, BIND and strings": (PREFIXES + "SELECT ?c (UCASE(STR(?label)) AS ?upper) WHERE { VALUES ?c { "
                                 "<http://data.europa.eu/cpv/cpv/79000000> <http://data.europa.eu/cpv/cpv/45000000> } "
                                 "?c skos:prefLabel ?label FILTER(lang(?label) = 'en') }", {}),
}


def test_backend_is_healthy_and_filled(backend, reference):
    health = requests.get(backend.url + "/health", timeout=30)
    assert health.status_code == 200, health.text
    assert health.json()["store"] == ("sparql" if backend.engine else "embedded")
    assert select(backend.url, SELECTS["triples in the union"][0]) == select(reference.url,
                                                                             SELECTS["triples in the union"][0])


@pytest.mark.parametrize("name", list(SELECTS))
def test_select_answers_match(backend, reference, name):
    query, params = SELECTS[name]
    expected = select(reference.url, query, **params)
    assert expected, "the reference answer is empty: the query tests nothing"
    assert select(backend.url, query, **params) == expected


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml",
                                    "text/csv", "text/tab-separated-values"])
def test_ordered_answers_are_the_same_bytes(backend, reference, accept):
    query = PREFIXES + "SELECT ?e ?name WHERE { ?e a sekg:SocialEconomyEnterprise ; skos:prefLabel ?name } ORDER BY ?e ?name"
    answers = [requests.post(url + "/sparql", data={"query": query}, headers={"Accept": accept}, timeout=60)
               for url in (backend.url, reference.url)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].headers["Content-Type"] == answers[1].headers["Content-Type"]
    assert answers[0].content == answers[1].content


@pytest.mark.parametrize("query, expected", [
    (PREFIXES + "ASK { ?e a sekg:SocialEconomyEnterprise }", True),
    ("ASK { <urn:x-nothing> ?p ?o }", False),
    (f"ASK {{ GRAPH <{PLACES}> {{ }} }}", True),
    ("ASK { GRAPH <urn:x-no-such-graph> { } }", False),
])
def test_ask_answers_match(backend, reference, query, expected):
    assert ask(reference.url, query) is expected
    assert ask(backend.url, query) is expected


@pytest.mark.parametrize("query", [
    PREFIXES + "CONSTRUCT { ?e skos:prefLabel ?n } WHERE { ?e a sekg:SocialEconomyEnterprise ; skos:prefLabel ?n }",
    PREFIXES + "CONSTRUCT { ?call sekg:budget ?b . ?b ?p ?o } WHERE { ?call sekg:budget ?b . ?b ?p ?o }",
    f"DESCRIBE <{CALL}>",
    PREFIXES + "DESCRIBE ?call WHERE { ?call a sekg:Call }",
    PREFIXES + "DESCRIBE ?shape WHERE { ?shape <http://www.w3.org/ns/shacl#path> schema:startDate }",
], ids=["construct", "construct blank nodes", "describe an IRI", "describe found resources",
        "describe nested blank nodes"])
def test_graph_answers_are_isomorphic(backend, reference, query):
    expected = rdf(reference.url, query)
    assert len(expected) > 0
    assert isomorphic(rdf(backend.url, query), expected)


def test_result_cap_is_signalled(backend):
    response = requests.get(backend.url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"},
                            headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert response.status_code == 200
    assert response.headers["X-SPARQL-MaxRows"] == str(MAX_ROWS)
    assert "Sekg-Results-Truncated" in response.headers
    assert len(response.json()["results"]["bindings"]) == MAX_ROWS


def test_malformed_query_is_400_with_the_parsers_message(backend, reference):
    answers = [requests.get(url + "/sparql", params={"query": "SELEC * WHERE { ?s ?p ?o }"},
                            headers={"Accept": "application/json"}, timeout=30) for url in (backend.url, reference.url)]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json()["message"] == answers[1].json()["message"]


# --- published documents -----------------------------------------------------------------------------
@pytest.mark.parametrize("path", [
    "/doc/organisation/torino-social-impact.ttl",
    f"/doc/{CALL[len(ID):]}.ttl",
    "/resource?format=ttl&iri=" + quote("http://data.europa.eu/cpv/cpv/79000000", safe=""),
    "/graph/places.ttl",
])
def test_documents_are_isomorphic(backend, reference, path):
    answers = [requests.get(url + path, headers={"Accept": "text/turtle"}, timeout=60)
               for url in (backend.url, reference.url)]
    assert [a.status_code for a in answers] == [200, 200], path
    mine, theirs = (Graph().parse(data=a.text.replace(url, "http://server"), format="turtle")
                    for a, url in zip(answers, (backend.url, reference.url)))
    assert len(theirs) > 0
    assert isomorphic(mine, theirs)


def test_identifiers_redirect_to_the_same_documents(backend, reference):
    path = "/id/organisation/torino-social-impact"
    answers = [requests.get(url + path, allow_redirects=False, timeout=30) for url in (backend.url, reference.url)]
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["Location"].replace(backend.url, "") == answers[1].headers["Location"].replace(
        reference.url, "")


def test_portal_directory_totals_are_equal(backend, reference):
    for live in (backend, reference):
        wait_until(lambda: portal_ready(live.url), what="the directory index")
    pages = [requests.get(url + "/?lang=en", timeout=60).text for url in (backend.url, reference.url)]
    totals = [int(re.search(r'data-total="(\d+)"', page).group(1)) for page in pages]
    assert totals[0] == totals[1] > 0
    facets = [re.findall(r'value="([^"]+)"(?: checked)?>\s*[^<]*<span class="count"[^>]*>\((\d+)\)', p) for p in pages]
    assert sorted(facets[0]) == sorted(facets[1])


def test_catalog_has_the_same_datasets(backend, reference):
    graphs = [Graph().parse(data=requests.get(url + "/catalog.ttl", timeout=60).text, format="turtle")
              for url in (backend.url, reference.url)]
    datasets = [{(d, str(g.value(d, DCT.title))) for d in g.subjects(None, DCAT.Dataset)} for g in graphs]
    assert datasets[0] == datasets[1]
    assert len(datasets[0]) > 10


def test_dumps_hold_every_quad(backend, reference):
    def manifest():
        listing = requests.get(backend.url + "/dumps", headers={"Accept": "application/json"}, timeout=60).json()
        return listing["manifest"] if listing["fresh"] and listing["manifest"] else None

    count = wait_until(manifest, what="the dumps")["files"]["sekg.nq.gz"]["quads"]
    lines = gzip.decompress(requests.get(backend.url + "/dumps/sekg.nq.gz", timeout=120).content).splitlines()
    assert len([line for line in lines if line.strip()]) == count
    described = Graph().parse(data=requests.get(backend.url + "/sparql", headers={"Accept": "text/turtle"},
                                                timeout=60).text, format="turtle")
    assert count in {int(o) for o in described.objects(None, URIRef("http://rdfs.org/ns/void#triples"))}
    query = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"  # the shipped data has no default graph
    assert select(reference.url, query) == select(backend.url, query) == Counter(
        [frozenset({("n", ("literal", str(count), None, "http://www.w3.org/2001/XMLSchema#integer"))})])


# --- writes: token scopes, the SHACL gate, the Graph Store Protocol, updates ------------------------------
def test_writes_need_a_token_scoped_to_the_graph(backend):
    live = backend.live
    token = live.token(FEDERATION)
    anonymous = requests.put(live.url + "/store", params={"graph": FEDERATION}, data=VALID, headers=TTL, timeout=60)
    elsewhere = requests.put(live.url + "/store", params={"graph": OTHER_FEDERATION}, data=VALID,
                             headers={**live.auth(token), **TTL}, timeout=60)
    default = live.post("/update", headers=live.auth(token), data={"update": "INSERT DATA { <urn:a> <urn:b> 1 }"})
    everything = live.post("/update", headers=live.auth(token), data={"update": "CLEAR ALL"})
    assert (anonymous.status_code, elsewhere.status_code, default.status_code, everything.status_code) == \
        (401, 403, 403, 403)
    assert store_graph(live.url, OTHER_FEDERATION) is None


def engine_view(backend, graph: str) -> Graph:
    """Read a graph straight from the engine (or from the embedded store's snapshot)."""
    if backend.engine is None:
        return Graph().parse(data=backend.live.store.export_graph(graph, "application/n-triples") or b"", format="nt")
    client = SPARQLWrapper(backend.engine.query_url)
    client.setMethod(POST)
    client.setReturnFormat(JSON)
    client.setQuery(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    if isinstance(backend.engine, VirtuosoServer):
        client.setHTTPAuth("DIGEST")
        client.setCredentials(backend.engine.user, backend.engine.password)
        client.endpoint = backend.engine.update_url
    graph_ = Graph()
    for row in client.queryAndConvert()["results"]["bindings"]:
        terms = []
        for name in ("s", "p", "o"):
            value = row[name]
            if value["type"] == "uri":
                terms.append(URIRef(value["value"]))
            elif value["type"] == "bnode":
                from rdflib import BNode

                terms.append(BNode(value["value"].replace("nodeID://", "")))
            else:
                terms.append(Literal(value["value"], lang=value.get("xml:lang"), datatype=value.get("datatype")))
        graph_.add(tuple(terms))
    return graph_


def test_graph_store_round_trip(backend):
    live = backend.live
    token = live.token(FEDERATION)
    put = requests.put(live.url + "/store", params={"graph": FEDERATION}, data=VALID,
                       headers={**live.auth(token), **TTL}, timeout=60)
    assert put.status_code == 201, put.text
    assert isomorphic(store_graph(live.url, FEDERATION), Graph().parse(data=VALID, format="turtle"))
    extra = f'<{ID}organisation/contract-test-cooperative> <http://www.w3.org/2004/02/skos/core#altLabel> "CTC" .'
    post = requests.post(live.url + "/store", params={"graph": FEDERATION}, data=extra,
                         headers={**live.auth(token), **TTL}, timeout=60)
    assert post.status_code == 204, post.text
    assert len(store_graph(live.url, FEDERATION)) == 3
    assert len(engine_view(backend, FEDERATION)) == 3
    delete = requests.delete(live.url + "/store", params={"graph": FEDERATION}, headers=live.auth(token), timeout=60)
    assert delete.status_code == 204
    assert store_graph(live.url, FEDERATION) is None
    assert len(engine_view(backend, FEDERATION)) == 0


def test_invalid_write_is_422_and_leaves_the_engine_unchanged(backend):
    live = backend.live
    token = live.token(FEDERATION)
    assert requests.put(live.url + "/store", params={"graph": FEDERATION}, data=VALID,
                        headers={**live.auth(token), **TTL}, timeout=60).status_code == 201
    before = engine_view(backend, FEDERATION)
    version = requests.get(live.url + "/health", timeout=30).json()["version"]
    put = requests.put(live.url + "/store", params={"graph": FEDERATION}, data=INVALID,
                       headers={**live.auth(token), **TTL}, timeout=60)
    update = live.post("/update", headers=live.auth(token), data={"update": (
        f"INSERT DATA {{ GRAPH <{FEDERATION}> {{ <http://example.org/nameless> a <http://www.w3.org/ns/org#Organization> }} }}")})
    assert (put.status_code, update.status_code) == (422, 422)
    assert put.json()["report"]
    assert isomorphic(engine_view(backend, FEDERATION), before)
    assert requests.get(live.url + "/health", timeout=30).json()["version"] == version
    assert requests.delete(live.url + "/store", params={"graph": FEDERATION}, headers=live.auth(token),
                           timeout=60).status_code == 204


def test_update_reads_one_graph_and_writes_another(backend, reference):
    live = backend.live
    token = live.token(FEDERATION)
    pattern = (f"{{ ?e skos:prefLabel ?name ; a <http://www.w3.org/ns/org#Organization> }}", 
               f"GRAPH <{SOURCE}> {{ ?e a sekg:SocialEconomyEnterprise ; skos:prefLabel ?name }}")
    expected = rdf(reference.url, PREFIXES + f"CONSTRUCT {pattern[0]} WHERE {{ {pattern[1]} }}")
    response = live.post("/update", headers=live.auth(token), data={
        "update": PREFIXES + f"INSERT {{ GRAPH <{FEDERATION}> {pattern[0]} }} WHERE {{ {pattern[1]} }}"})
    assert response.status_code == 204, response.text
    assert len(expected) > 0
    assert isomorphic(store_graph(live.url, FEDERATION), expected)
    assert isomorphic(engine_view(backend, FEDERATION), expected)
    delete = live.post("/update", headers=live.auth(token), data={"update": f"DROP GRAPH <{FEDERATION}>"})
    assert delete.status_code == 204, delete.text
    assert store_graph(live.url, FEDERATION) is None


# --- what only an external engine does ------------------------------------------------------------------
@contextmanager
def another_service(engine, folder, **settings):
    """Run a second service on an engine that already holds the data (its own settings, nothing loaded)."""
    live = start_server(folder, **{"SEKG_LOAD_SHIPPED": False, **remote_settings(engine), **settings})
    try:
        yield live
    finally:
        live.stop()


def test_engine_timeout_is_504(backend, tmp_path):
    if backend.engine is None:
        pytest.skip("the embedded store stops a query by ending its worker (503): tests/test_limits.py")
    if backend.kind == "oxigraph":
        # `oxigraph serve --timeout-s` cancels the query itself and says so at the end of a 200 answer
        engine = OxigraphServer(timeout_s=1).start()
        engine.put_graph(GRAPH + "vocab/nuts", backend.live.store.export_graph(GRAPH + "vocab/nuts", "text/turtle"))
        timeout = 20
    else:
        engine, timeout = backend.engine, 2  # the service asks Virtuoso to stop at its own deadline
    try:
        with another_service(engine, tmp_path / "state", SEKG_QUERY_TIMEOUT=timeout) as live:
            started = time.monotonic()
            response = live.get("/sparql", params={"query": HEAVY}, headers={"Accept": "application/json"})
            elapsed = time.monotonic() - started
            assert response.status_code == 504, response.text
            assert response.json()["error"] == "Upstream SPARQL engine timed out"
            assert elapsed < timeout + 10
            assert live.get("/sparql", params={"query": "ASK { ?s ?p ?o }"},
                            headers={"Accept": "application/json"}).json()["boolean"] is True
    finally:
        if engine is not backend.engine:
            engine.stop()


def test_engine_result_cap_below_the_services_is_signalled(backend, tmp_path):
    if backend.kind != "virtuoso":
        pytest.skip("only Virtuoso caps answers itself (ResultSetMaxRows)")
    with another_service(backend.engine, tmp_path / "state", SEKG_MAX_RESULT_ROWS=1_000_000) as live:
        response = live.get("/sparql", params={"query": "SELECT ?s WHERE { ?s ?p ?o }"},
                            headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["X-SPARQL-MaxRows"] == str(VIRTUOSO_CAP)
    assert len(response.text.splitlines()) == VIRTUOSO_CAP + 1


def test_internal_reads_past_the_engines_cap_are_complete(backend, reference, tmp_path):
    if backend.kind != "virtuoso":
        pytest.skip("only Virtuoso caps answers itself (ResultSetMaxRows)")
    nuts = GRAPH + "vocab/nuts"
    query = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{nuts}> {{ ?s ?p ?o }} }}"
    expected = reference.store.select_values(query)
    cap = 1000
    assert len(expected) > 5 * cap
    with VirtuosoServer(result_set_max_rows=cap) as small:  # a small cap, so that the read takes many pages
        small.put_graph(nuts, reference.store.export_graph(nuts, "text/turtle"))
        with another_service(small, tmp_path / "state") as live:
            rows = live.store.select_values(query)  # an internal read: no row cap of its own
    key = lambda row: tuple(sorted(row.items()))  # noqa: E731
    assert Counter(map(key, rows)) == Counter(map(key, expected))


def test_engine_error_formats_become_service_errors(backend):
    if backend.engine is None:
        pytest.skip("the embedded store has no engine whose errors need translating")
    from sekg.errors import EngineRejectedError

    engine = backend.live.store.engine
    with pytest.raises(EngineRejectedError) as rejected:  # Virtuoso: "Virtuoso 37000 Error SP030 ...", Oxigraph: plain text
        engine.query("SELECT * WHERE { ?s ?p }", accept="application/sparql-results+xml", timeout=30)
    assert rejected.value.status == 400
    assert rejected.value.message.startswith("the SPARQL engine rejected the query: ")
    assert len(rejected.value.message) < 400 and "\n" not in rejected.value.message
    assert backend.engine.base_url not in rejected.value.message
    with pytest.raises(EngineRejectedError) as refused:
        engine.update("INSERT DATA { <urn:a> <urn:b> }", timeout=30)
    assert refused.value.status == 400  # Virtuoso: "Virtuoso 37000 Error SP030: SPARQL compiler, line 1: ..."
    assert refused.value.message.startswith("the SPARQL engine rejected the change: ")
    assert backend.engine.base_url not in refused.value.message


def test_engine_built_ins_are_refused(backend):
    if backend.kind != "virtuoso":
        pytest.skip("only Virtuoso runs SQL built-ins from SPARQL")
    query = "PREFIX bif: <bif:> SELECT ?x WHERE { BIND(bif:sys_stat('st_dbms_name') AS ?x) }"
    response = requests.get(backend.url + "/sparql", params={"query": query}, headers={"Accept": "application/json"},
                            timeout=30)
    assert response.status_code == 403


def test_service_starts_without_its_engine_and_recovers(backend, reference, tmp_path):
    if backend.engine is None:
        pytest.skip("the embedded store has no engine to lose")
    engine = backend.engine
    engine.crash()
    try:
        with another_service(engine, tmp_path / "state", SEKG_LOAD_SHIPPED=True) as fresh:
            for live in (fresh, backend.live):
                health = live.get("/health")
                assert health.status_code == 503
                assert health.json()["reason"] == "the SPARQL engine cannot be reached"
            for path in ("/sparql?query=" + quote("SELECT * WHERE { ?s ?p ?o } LIMIT 1"),
                         "/doc/organisation/torino-social-impact", "/catalog.ttl", "/graph/places.ttl"):
                response = fresh.get(path, headers={"Accept": "application/json"})
                assert response.status_code == 502, (path, response.status_code)
                assert response.json()["message"] == "the SPARQL engine cannot be reached"
            engine.relaunch()
            query = SELECTS["triples in the union"][0]
            for live in (fresh, backend.live):
                wait_until(lambda: live.get("/health").status_code == 200, what="recovery")
                assert select(live.url, query) == select(reference.url, query)
    finally:
        if engine.process is None or engine.process.poll() is not None:
            engine.relaunch()


# --- spreadsheet imports: mapped, SHACL-checked, written (last: they leave a federation's graphs behind) -------
EXAMPLES = PROJECT / "data" / "import" / "examples"
TEMPLATE_CSV = EXAMPLES / "tsi-network-template.csv"
IMPORTED = GRAPH + "federation/contract-import"


def import_file(live, token, data: bytes, name: str) -> requests.Response:
    return requests.post(live.url + "/import", params={"federation": "contract-import"}, headers=live.auth(token),
                         files={"file": (name, data)}, timeout=600)


def test_import_passes_the_shacl_gate_and_reaches_the_engine(backend):
    live = backend.live
    token = live.token(IMPORTED)
    answer = import_file(live, token, TEMPLATE_CSV.read_bytes(), TEMPLATE_CSV.name)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["rows_accepted"], report["rows_rejected"], report["violations"], report["written"]) == \
        (14, 0, 0, True)
    served = store_graph(live.url, IMPORTED)
    assert isomorphic(engine_view(backend, IMPORTED), served)
    enterprises = set(served.subjects(URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                                      URIRef(SEKG + "SocialEconomyEnterprise")))
    karibu = URIRef(ID + "organisation/contract-import-karibu-open")
    assert len(enterprises) == 14 and karibu in enterprises
    assert (karibu, URIRef(SEKG + "offers"), URIRef("http://data.europa.eu/cpv/cpv/55520000")) in served
    provenance = select(live.url, f"SELECT ?a WHERE {{ GRAPH <{PROVENANCE}> {{ <{IMPORTED}> "
                                  "<http://www.w3.org/ns/prov#wasGeneratedBy> ?a } }")
    assert sum(provenance.values()) == 1
    live.app.extensions["sekg"].extras["portal_index"].ensure_current(wait=True)
    found = live.get("/directory.json", params={"q": "Karibu"}).json()
    assert str(karibu) in {item["iri"] for item in found["enterprises"]}


def test_import_with_bad_cells_is_refused_and_writes_nothing(backend):
    live = backend.live
    token = live.token(IMPORTED)
    before = engine_view(backend, IMPORTED)
    version = live.get("/health").json()["version"]
    lines = TEMPLATE_CSV.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = next(csv.reader([lines[1]]))
    cells[header.index("website")] = "not a site"
    rows = io.StringIO()
    csv.writer(rows).writerows([header, cells])
    answer = import_file(live, token, rows.getvalue().encode("utf-8"), "bad.csv")
    assert answer.status_code == 422, answer.text
    assert answer.json()["written"] is False
    assert (2, "website") in {(p["row"], p["column"]) for p in answer.json()["problems"]}
    assert isomorphic(engine_view(backend, IMPORTED), before)
    assert live.get("/health").json()["version"] == version
