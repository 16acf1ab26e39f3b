"""Prove the external triplestore fixtures: start real Virtuoso and Oxigraph servers, write, read, reset."""

from __future__ import annotations

import os

import pytest
import requests
from SPARQLWrapper import JSON, SPARQLWrapper

from triplestores import SYSTEM_GRAPHS, OxigraphServer, VirtuosoServer

pytestmark = pytest.mark.remote

EX = "http://example.org/sekg-test/"


def assert_gone(pid: int, workdir) -> None:
    """Check that a stopped server's process was reaped and its temp dir removed."""
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not workdir.exists()


@pytest.fixture(scope="module")
def virtuoso():
    with VirtuosoServer() as server:
        pid, workdir = server.process.pid, server.workdir
        yield server
    assert_gone(pid, workdir)


@pytest.fixture(scope="module")
def oxigraph():
    with OxigraphServer() as server:
        pid, workdir = server.process.pid, server.workdir
        yield server
    assert_gone(pid, workdir)


@pytest.fixture(params=["virtuoso", "oxigraph"])
def store(request):
    """Give each test an emptied server of each engine."""
    server = request.getfixturevalue(request.param)
    server.reset()
    return server


def update(server, sparql: str) -> None:
    """Send a SPARQL update to the server's update endpoint (with digest auth on Virtuoso)."""
    response = requests.post(server.update_url, data={"update": sparql}, auth=server.auth, timeout=30)
    assert response.status_code in (200, 204), response.text


def select(server, query: str) -> list[dict]:
    """Run a SELECT through SPARQLWrapper (JSON) on the query endpoint; return the bindings' values."""
    sparql = SPARQLWrapper(server.query_url)
    sparql.setQuery(query)
    sparql.setReturnFormat(JSON)
    sparql.setTimeout(30)
    bindings = sparql.query().convert()["results"]["bindings"]
    return [{name: term["value"] for name, term in binding.items()} for binding in bindings]


def user_graphs(server) -> set[str]:
    """Return the named graphs that hold data, leaving out Virtuoso's system graphs."""
    return {row["g"] for row in select(server, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")} \
        - set(SYSTEM_GRAPHS)


def test_update_then_query(store):
    update(store, f'INSERT DATA {{ GRAPH <{EX}g1> {{ <{EX}s> <{EX}p> "b", "a" ; <{EX}q> <{EX}o> }} }}')

    rows = select(store, f"SELECT ?o WHERE {{ GRAPH <{EX}g1> {{ <{EX}s> <{EX}p> ?o }} }} ORDER BY ?o")

    assert rows == [{"o": "a"}, {"o": "b"}]
    assert user_graphs(store) == {f"{EX}g1"}


def test_put_graph_through_graph_store_protocol(store):
    assert store.put_graph(f"{EX}g2", f'<{EX}s> <{EX}p> "first" .\n') == 201
    store.put_graph(f"{EX}g2", f'@prefix ex: <{EX}> .\nex:s ex:p "second", "third" .\n', "text/turtle")

    rows = select(store, f"SELECT ?o WHERE {{ GRAPH <{EX}g2> {{ ?s ?p ?o }} }} ORDER BY ?o")

    assert rows == [{"o": "second"}, {"o": "third"}]


def test_reset_empties_the_store(store):
    update(store, f"INSERT DATA {{ GRAPH <{EX}g3> {{ <{EX}s> <{EX}p> <{EX}o> }} }}")
    store.put_graph(f"{EX}g4", f"<{EX}s> <{EX}p> <{EX}o> .\n", "application/n-triples")
    assert user_graphs(store) == {f"{EX}g3", f"{EX}g4"}

    store.reset()

    assert user_graphs(store) == set()


def test_virtuoso_updates_need_digest_auth(virtuoso):
    insert = {"update": f"INSERT DATA {{ GRAPH <{EX}g5> {{ <{EX}s> <{EX}p> <{EX}o> }} }}"}

    anonymous = requests.post(virtuoso.query_url, data=insert, timeout=30)
    wrong = requests.post(virtuoso.update_url, data=insert, timeout=30,
                          auth=requests.auth.HTTPDigestAuth(virtuoso.user, virtuoso.password + "x"))

    assert anonymous.status_code == 500 and "SR186" in anonymous.text
    assert wrong.status_code == 401
    assert f"{EX}g5" not in user_graphs(virtuoso)


def test_virtuoso_bulk_load_survives_reset_and_reload(virtuoso):
    virtuoso.reset()
    quads = virtuoso.load_dir / "quads.nq"
    quads.write_text(f'<{EX}s> <{EX}p> "loaded" <{EX}g6> .\n')
    triples = virtuoso.load_dir / "triples.ttl"
    triples.write_text(f'<{EX}s> <{EX}p> "turtle" .\n')

    virtuoso.bulk_load(quads)
    virtuoso.bulk_load(triples, graph=f"{EX}g7")
    assert user_graphs(virtuoso) == {f"{EX}g6", f"{EX}g7"}
    virtuoso.reset()
    assert user_graphs(virtuoso) == set()
    virtuoso.bulk_load(quads)

    assert select(virtuoso, f"SELECT ?o WHERE {{ GRAPH <{EX}g6> {{ ?s ?p ?o }} }}") == [{"o": "loaded"}]


def test_virtuoso_bulk_load_reports_bad_files(virtuoso):
    broken = virtuoso.load_dir / "broken.nq"
    broken.write_text(f'<{EX}s> <{EX}p> "unterminated <{EX}g8> .\n')
    triples = virtuoso.load_dir / "no-graph.nt"
    triples.write_text(f"<{EX}s> <{EX}p> <{EX}o> .\n")

    with pytest.raises(RuntimeError, match="SP029"):
        virtuoso.bulk_load(broken)
    with pytest.raises(ValueError, match="pass the graph"):
        virtuoso.bulk_load(triples)
    assert f"{EX}g8" not in user_graphs(virtuoso)


def test_oxigraph_reset_also_empties_the_default_graph(oxigraph):
    update(oxigraph, f"INSERT DATA {{ <{EX}s> <{EX}p> <{EX}o> }}")
    assert select(oxigraph, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == [{"n": "1"}]

    oxigraph.reset()

    assert select(oxigraph, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == [{"n": "0"}]


def test_missing_virtuoso_is_explained(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")

    with pytest.raises(RuntimeError, match=r"install virtuoso-opensource \(bash \.ci/install --test does\)"):
        VirtuosoServer().start()
