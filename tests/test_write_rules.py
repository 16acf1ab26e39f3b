"""Who may write: tokens, graph scopes, the SHACL gate; a refused write leaves the store as it was."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests
from rdflib import Graph
from rdflib.compare import isomorphic

FED_A = "https://w3id.org/sekg/graph/federation/a"
FED_B = "https://w3id.org/sekg/graph/federation/b"
TTL = {"Content-Type": "text/turtle"}
GOOD = """@prefix ex: <http://example.org/> . ex:x ex:p "fine" ."""
# An organisation without a name breaks the shapes (sekgsh:Organisation-prefLabel).
BAD = """@prefix org: <http://www.w3.org/ns/org#> . <http://example.org/nameless> a org:Organization ."""


def snapshot(server) -> Graph:
    """Return every quad of the store as one graph of reified quads, for comparison."""
    response = server.get("/sparql", params={"query": "CONSTRUCT { ?s ?p ?o . ?s <urn:in> ?g } "
                                                      "WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"},
                          headers={"Accept": "application/n-triples"})
    return Graph().parse(data=response.text, format="nt")


@pytest.fixture
def seeded(empty_server):
    for graph in (FED_A, FED_B):
        response = requests.put(empty_server.url + "/store", params={"graph": graph}, data=GOOD,
                                headers={**empty_server.auth(), **TTL})
        assert response.status_code == 201
    return empty_server


def test_write_without_token_is_401_and_changes_nothing(seeded):
    before = snapshot(seeded)
    put = requests.put(seeded.url + "/store", params={"graph": FED_A}, data=GOOD.replace("fine", "x"), headers=TTL)
    update = seeded.post("/update", data={"update": f"INSERT DATA {{ GRAPH <{FED_A}> {{ <urn:a> <urn:b> 1 }} }}"})
    delete = requests.delete(seeded.url + "/store", params={"graph": FED_A})
    assert (put.status_code, update.status_code, delete.status_code) == (401, 401, 401)
    assert put.headers["WWW-Authenticate"].startswith("Bearer")
    assert isomorphic(snapshot(seeded), before)


def test_revoked_or_unknown_token_is_401(seeded):
    from sekg.tokens import TokenStore

    token = seeded.token(FED_A)
    TokenStore(seeded.settings.state_dir / "tokens.sqlite").revoke(token)
    for value in (token, "sekg_not-a-token"):
        response = requests.put(seeded.url + "/store", params={"graph": FED_A}, data=GOOD,
                                headers={**seeded.auth(value), **TTL})
        assert response.status_code == 401


def test_token_writes_its_own_graph(seeded):
    token = seeded.token(FED_A)
    response = requests.post(seeded.url + "/store", params={"graph": FED_A},
                             data='<http://example.org/y> <http://example.org/p> "more" .',
                             headers={**seeded.auth(token), **TTL})
    assert response.status_code == 204
    update = seeded.post("/update", headers=seeded.auth(token),
                         data={"update": f"DELETE WHERE {{ GRAPH <{FED_A}> {{ ?s ?p \"more\" }} }}"})
    assert update.status_code == 204


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_graph_store_write_outside_the_tokens_graphs_is_403(seeded, method):
    token = seeded.token(FED_A)
    before = snapshot(seeded)
    response = requests.request(method, seeded.url + "/store", params={"graph": FED_B}, data=GOOD,
                                headers={**seeded.auth(token), **TTL})
    assert response.status_code == 403
    assert FED_B in response.json()["message"]
    assert isomorphic(snapshot(seeded), before)


@pytest.mark.parametrize("update", [
    "INSERT DATA { <urn:a> <urn:b> 1 }",  # the default graph
    f"INSERT DATA {{ GRAPH <{FED_A}> {{ <urn:a> <urn:b> 1 }} GRAPH <{FED_B}> {{ <urn:a> <urn:b> 1 }} }}",
    f"WITH <{FED_B}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}",
    "CLEAR ALL",
    "INSERT { GRAPH ?g { <urn:a> <urn:b> 1 } } WHERE { GRAPH ?g { ?s ?p ?o } }",
    f"MOVE <{FED_A}> TO <{FED_B}>",
    "DELETE WHERE { ?s ?p ?o }",
])
def test_update_touching_default_or_another_graph_is_403(seeded, update):
    token = seeded.token(FED_A)
    before = snapshot(seeded)
    response = seeded.post("/update", data={"update": update}, headers=seeded.auth(token))
    assert response.status_code == 403, response.text
    assert isomorphic(snapshot(seeded), before)


def test_put_to_default_graph_needs_an_operator_token(seeded):
    token = seeded.token(FED_A)
    response = requests.put(seeded.url + "/store?default", data=GOOD, headers={**seeded.auth(token), **TTL})
    assert response.status_code == 403
    response = requests.put(seeded.url + "/store?default", data=GOOD, headers={**seeded.auth(), **TTL})
    assert response.status_code in (201, 204)


@pytest.mark.parametrize("accept, check", [
    ("application/json", lambda r: json.loads(r.text)["report"]["violations"] >= 1),
    ("text/turtle", lambda r: "sh:ValidationReport" in r.text and "sh:conforms false" in r.text),
])
def test_shacl_violation_is_422_with_the_report(seeded, accept, check):
    token = seeded.token(FED_A)
    before = snapshot(seeded)
    response = requests.put(seeded.url + "/store", params={"graph": FED_A}, data=BAD,
                            headers={**seeded.auth(token), **TTL, "Accept": accept})
    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith(accept)
    assert check(response)
    assert isomorphic(snapshot(seeded), before)


def test_shacl_violation_through_update_is_undone(seeded):
    token = seeded.token(FED_A)
    before = snapshot(seeded)
    update = (f"PREFIX org: <http://www.w3.org/ns/org#> DELETE DATA {{ GRAPH <{FED_A}> {{ "
              f"<http://example.org/x> <http://example.org/p> \"fine\" }} }} ; "
              f"INSERT DATA {{ GRAPH <{FED_A}> {{ <http://example.org/nameless> a org:Organization }} }}")
    response = seeded.post("/update", data={"update": update}, headers=seeded.auth(token))
    assert response.status_code == 422
    message = json.dumps(response.json()["report"])
    assert "An organisation needs a name" in message
    assert isomorphic(snapshot(seeded), before)


def test_malformed_data_is_400_and_changes_nothing(seeded):
    before = snapshot(seeded)
    response = requests.put(seeded.url + "/store", params={"graph": FED_A}, data="<urn:a> <urn:b> .",
                            headers={**seeded.auth(), **TTL})
    assert response.status_code == 400
    assert "line 1" in response.json()["message"] or "error" in response.json()["message"]
    assert isomorphic(snapshot(seeded), before)


def test_writes_are_logged(seeded):
    token = seeded.token(FED_A, label="federation A")
    requests.post(seeded.url + "/store", params={"graph": FED_A}, data=GOOD.replace("fine", "again"),
                  headers={**seeded.auth(token), **TTL})
    entries = seeded.app.extensions["sekg"].audit.entries(graph=FED_A)
    assert entries[-1].operation == "post"
    assert "federation A" in entries[-1].who
    assert (entries[-1].triples_before, entries[-1].triples_after) == (1, 2)


def test_token_cli_prints_the_token_alone_on_the_last_line(tmp_path):
    store = tmp_path / "store"
    result = subprocess.run([sys.executable, "-m", "sekg.cli", "token", "create", "--graph", FED_A,
                             "--store", str(store)], capture_output=True, text=True, check=True)
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("sekg_") and " " not in token
    listing = subprocess.run([sys.executable, "-m", "sekg.cli", "token", "list", "--store", str(store)],
                             capture_output=True, text=True, check=True).stdout
    assert FED_A in listing and token not in listing
    subprocess.run([sys.executable, "-m", "sekg.cli", "token", "revoke", token, "--store", str(store)], check=True)
    from sekg.tokens import TokenStore

    assert TokenStore(store / "tokens.sqlite").check(token) is None
