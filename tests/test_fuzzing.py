"""Fuzz the query, update and upload paths with Hypothesis: never a server error, always a message.

Inputs are built from SPARQL and RDF fragments (so that many get past the parsers and reach the
engine, the validator and the store) mixed with arbitrary text and bytes. Every answer must be a
2xx, or a 4xx whose JSON names the problem; a 503 is allowed only for a query the timeout
stopped. The server runs as a separate process: a crash fails the module instead of killing it.
"""

from __future__ import annotations

import os

import pytest
import requests
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from processes import admin_token, start_serving

# Fixed examples keep the suite reproducible; FUZZ_EXAMPLES=5000 FUZZ_RANDOM=1 hunts for new failures.
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow], derandomize=not os.environ.get("FUZZ_RANDOM"))
GRAPH = "http://example.org/graph/fuzz"
SEED = """@prefix ex: <http://example.org/> .
ex:a ex:p "alpha"@en , 1 , 2.5 , true ; ex:q ex:b .
ex:b ex:p "beta" ; ex:q ex:a .
"""

QUERY_WORDS = ["SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "{", "}", "(", ")", "[", "]", "?s", "?p", "?o",
               "?x", "*", ".", ";", ",", "<http://example.org/a>", "<http://example.org/p>", "ex:p", "PREFIX ex:",
               "<http://example.org/>", "BASE", '"alpha"', '"alpha"@en', "1", "-2.5e3", "true", "FILTER", "BIND",
               "AS", "OPTIONAL", "UNION", "MINUS", "GRAPH", "?g", "VALUES", "UNDEF", "LIMIT", "OFFSET", "ORDER BY",
               "GROUP BY", "HAVING", "DISTINCT", "REDUCED", "COUNT(*)", "SUM(?o)", "REGEX(?o, \"a\")", "STR(?s)",
               "LANG(?o)", "IRI(?o)", "BNODE()", "NOW()", "FROM", "FROM NAMED", "SERVICE", "\\u0053ERVICE", "EXISTS",
               "NOT", "IN", "a", "^", "/", "|", "+", "?", "!", "=", "!=", "<", ">", "&&", "||", "#", "\n", "'''",
               '"""', "_:b", "[]", "()", "<>", "<urn:x>", "\\", "%", "\x00", "\ud7ff", "é", "😀"]
UPDATE_WORDS = ["INSERT DATA", "DELETE DATA", "DELETE WHERE", "INSERT", "DELETE", "WHERE", "WITH", "USING",
                "USING NAMED", f"GRAPH <{GRAPH}>", f"<{GRAPH}>", "GRAPH ?g", "CLEAR", "DROP", "CREATE", "ADD", "MOVE",
                "COPY", "TO", "SILENT", "ALL", "DEFAULT", "NAMED", "LOAD", "INTO", ";", "{", "}", ".",
                "<http://example.org/a>", "<http://example.org/p>", '"v"', "1", "?s", "?p", "?o",
                "a <http://www.w3.org/ns/org#Organization>", "_:b", "PREFIX ex: <http://example.org/>", "ex:a"]

fragments = st.lists(st.sampled_from(QUERY_WORDS) | st.text(max_size=6), min_size=1, max_size=25)
terms = st.sampled_from(["?s", "?p", "?o", "?x", "<http://example.org/a>", "<http://example.org/p>",
                         "<http://example.org/q>", '"alpha"@en', '"beta"', "1", "2.5", "true", "[]"])
literals = st.text(max_size=12).map(lambda text: '"' + text.replace("\\", "").replace('"', "") + '"')
expressions = st.recursive(
    terms | literals,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["=", "!=", "<", ">", "+", "-", "*", "/", "&&", "||"]), inner)
        .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["STR", "LANG", "UCASE", "STRLEN", "isIRI", "BOUND", "ABS", "xsd:integer"]), inner)
        .map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(inner, literals).map(lambda t: f"REGEX(STR({t[0]}), {t[1]})"),
        inner.map(lambda e: f"!{e}")),
    max_leaves=8)
patterns = st.recursive(
    st.tuples(terms, terms | st.sampled_from(["a", "<http://example.org/p>+", "^<http://example.org/q>",
                                              "(<http://example.org/q>/<http://example.org/p>)?"]), terms)
    .map(lambda t: " ".join(t) + " ."),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda t: f"{{ {t[0]} }} UNION {{ {t[1]} }}"),
        inner.map(lambda p: f"OPTIONAL {{ {p} }}"), inner.map(lambda p: f"MINUS {{ {p} }}"),
        inner.map(lambda p: f"GRAPH ?g {{ {p} }}"), expressions.map(lambda e: f"FILTER({e})"),
        expressions.map(lambda e: f"BIND({e} AS ?b)"), st.lists(inner, min_size=2, max_size=3).map(" ".join)),
    max_leaves=6)
structured = st.tuples(
    st.sampled_from(["SELECT *", "SELECT DISTINCT ?s ?o", "SELECT (COUNT(*) AS ?n)", "ASK", "CONSTRUCT { ?s ?p ?o }",
                     "DESCRIBE ?s", "SELECT ?s (SAMPLE(?o) AS ?v)"]),
    patterns,
    st.sampled_from(["", "LIMIT 3", "ORDER BY ?o", "GROUP BY ?s", "OFFSET 1 LIMIT 2", "ORDER BY DESC(STR(?s))"]),
).map(lambda t: f"PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> {t[0]} WHERE {{ {t[1]} }} {t[2]}")
queries = structured | fragments.map(" ".join) | st.text(max_size=200)
updates = st.lists(st.sampled_from(UPDATE_WORDS) | st.text(max_size=6), min_size=1, max_size=25).map(" ".join)
ACCEPTS = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv", "text/turtle",
           "application/ld+json", "text/html", "*/*", "", "garbage", "application/json;q=0", "text/*;q=0.5"]
UPLOAD_TYPES = ["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml",
                "application/n-quads", "application/trig", "text/n3", "application/json", "application/xml",
                "text/plain", "", "text/turtle; charset=latin-1", "application/octet-stream", "multipart/form-data"]
VALID_BODIES = {
    "text/turtle": SEED,
    "application/n-triples": '<http://example.org/a> <http://example.org/p> "x" .\n',
    "application/ld+json": '{"@id": "http://example.org/a", "http://example.org/p": [{"@value": "x"}, 3]}',
    "application/rdf+xml": '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                           'xmlns:ex="http://example.org/"><rdf:Description rdf:about="http://example.org/a">'
                           '<ex:p>x</ex:p></rdf:Description></rdf:RDF>',
}


@st.composite
def mutated(draw, text: str) -> bytes:
    """Return a valid document with a few random edits (cuts, insertions, stray bytes)."""
    data = bytearray(text.encode())
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["cut", "insert", "byte"]))
        if action == "cut":
            del data[at:at + draw(st.integers(1, 10))]
        elif action == "insert":
            data[at:at] = draw(st.sampled_from(["{", "}", "<", ">", '"', "@", "[", "]", "&lt;", "\\u0000", "\x00",
                                                "<!DOCTYPE x>", "@graph", '"@context": "http://127.0.0.1:9/"'])).encode()
        else:
            data[at:at] = bytes([draw(st.integers(0, 255))])
    return bytes(data)


bodies = st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                   st.sampled_from(sorted(VALID_BODIES)).flatmap(lambda kind: mutated(VALID_BODIES[kind])))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    store = tmp_path_factory.mktemp("fuzz") / "store"
    token = admin_token(store)
    live = start_serving(store, SEKG_QUERY_TIMEOUT="5", SEKG_QUERY_WORKERS="2")
    live.auth = {"Authorization": f"Bearer {token}"}
    response = requests.put(live.url + "/store", params={"graph": GRAPH}, data=SEED.encode(), timeout=60,
                            headers={**live.auth, "Content-Type": "text/turtle"})
    assert response.status_code == 201
    yield live
    live.stop()


def answered(server, response: requests.Response) -> None:
    """Assert a success, or an error the client can act on; the server process must still be running."""
    assert server.alive(), "the server process died"
    status = response.status_code
    event(f"{response.request.method} {status}")  # shown by --hypothesis-show-statistics
    if status < 400:
        return
    body = response.json() if "json" in response.headers.get("Content-Type", "") else {"message": response.text}
    assert body.get("message"), response.text[:300]
    if status == 503:
        assert "timed out" in body["message"] or "stopped" in body["message"], body["message"]
        return
    assert 400 <= status < 500, (status, body["message"])


@given(text=queries, accept=st.sampled_from(ACCEPTS), how=st.sampled_from(["GET", "form", "direct"]))
@FUZZ
def test_query_fuzz(server, text, accept, how):
    headers = {"Accept": accept} if accept else {}
    if how == "GET":
        response = requests.get(server.url + "/sparql", params={"query": text}, headers=headers, timeout=120)
    elif how == "form":
        response = requests.post(server.url + "/sparql", data={"query": text}, headers=headers, timeout=120)
    else:
        response = requests.post(server.url + "/sparql", data=text.encode("utf-8", "surrogatepass"), timeout=120,
                                 headers={**headers, "Content-Type": "application/sparql-query"})
    answered(server, response)


@given(data=st.binary(max_size=200), content_type=st.sampled_from(
    ["application/sparql-query", "application/x-www-form-urlencoded", "text/plain", "", "multipart/form-data"]))
@FUZZ
def test_query_bytes_fuzz(server, data, content_type):
    response = requests.post(server.url + "/sparql", data=data, timeout=120,
                             headers={"Content-Type": content_type} if content_type else {})
    answered(server, response)


@given(text=updates, direct=st.booleans())
@FUZZ
def test_update_fuzz(server, text, direct):
    if direct:
        response = requests.post(server.url + "/update", data=text.encode("utf-8", "surrogatepass"), timeout=120,
                                 headers={**server.auth, "Content-Type": "application/sparql-update"})
    else:
        response = requests.post(server.url + "/update", data={"update": text}, headers=server.auth, timeout=120)
    answered(server, response)


@given(body=bodies, content_type=st.sampled_from(UPLOAD_TYPES), method=st.sampled_from(["PUT", "POST"]),
       target=st.sampled_from([{"graph": GRAPH + "/upload"}, {"graph": "urn:fuzz"}, {"default": ""}, {}]))
@FUZZ
def test_upload_fuzz(server, body, content_type, method, target):
    if content_type == "multipart/form-data":
        response = requests.request(method, server.url + "/store", params=target, headers=server.auth, timeout=120,
                                    files={"data": ("data", body, "text/turtle")})
    else:
        response = requests.request(method, server.url + "/store", params=target, data=body, timeout=120,
                                    headers={**server.auth, "Content-Type": content_type})
    answered(server, response)


@given(graph=st.text(max_size=40), accept=st.sampled_from(ACCEPTS))
@FUZZ
def test_graph_store_read_fuzz(server, graph, accept):
    response = requests.get(server.url + "/store", params={"graph": graph}, timeout=120,
                            headers={"Accept": accept} if accept else {})
    answered(server, response)


# The spreadsheet import (POST /import) is fuzzed in test_import_fuzzing.py: each import runs the RML
# engine in a subprocess, so it gets its own server and a smaller number of examples.


def test_server_survived_the_fuzzing(server):
    assert server.alive()
    health = requests.get(server.url + "/health", timeout=60).json()
    assert health["ok"] and health["workers_ok"]
    answer = requests.get(server.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=60)
    assert answer.status_code == 200
