"""Concurrent writers and readers: every acknowledged write lands once, readers never see half of one."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import requests
from requests.adapters import HTTPAdapter
from SPARQLWrapper import JSON, SPARQLWrapper

from conftest import start_server

WRITERS = 4
BATCHES = 12
BATCH_SIZE = 25
READERS = 6
BATCH = "http://example.org/batch"
FEDERATION = "https://w3id.org/sekg/graph/federation/writer-{}"
PER_BATCH = f"SELECT ?batch (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s <{BATCH}> ?batch }} }} GROUP BY ?batch"


def batch_triples(writer: int, batch: int) -> str:
    return "\n".join(f'<http://example.org/item/{writer}/{batch}/{i}> <{BATCH}> "{writer}-{batch}" .'
                     for i in range(BATCH_SIZE))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = start_server(tmp_path_factory.mktemp("concurrency") / "store", SEKG_LOAD_SHIPPED=False,
                        SEKG_THREADS=16, SEKG_QUERY_WORKERS=2)
    yield live
    live.stop()


def test_concurrent_writers_and_readers(server):
    tokens = [server.token(FEDERATION.format(w), label=f"writer {w}") for w in range(WRITERS)]
    acknowledged: dict[str, int] = {}
    refused: dict[str, str] = {}
    torn: list[str] = []
    reads = Counter()
    writing = threading.Event()
    writing.set()

    def write(w: int) -> None:
        graph = FEDERATION.format(w)
        for b in range(BATCHES):
            auth = {"Authorization": f"Bearer {tokens[w]}"}
            if b % 2:  # half by SPARQL Update, half by the Graph Store protocol
                response = requests.post(server.url + "/update", headers=auth, timeout=300, data={
                    "update": f"INSERT DATA {{ GRAPH <{graph}> {{ {batch_triples(w, b)} }} }}"})
            else:
                response = requests.post(server.url + "/store", params={"graph": graph}, timeout=300,
                                         data=batch_triples(w, b).encode(),
                                         headers={**auth, "Content-Type": "application/n-triples"})
            if response.status_code in (201, 204):
                acknowledged[f"{w}-{b}"] = BATCH_SIZE
            else:
                refused[f"{w}-{b}"] = f"{response.status_code} {response.text[:200]}"

    def read_http() -> None:
        while writing.is_set():
            response = server.get("/sparql", params={"query": PER_BATCH})
            assert response.status_code == 200, response.text
            for row in response.json()["results"]["bindings"]:
                if int(row["n"]["value"]) != BATCH_SIZE:
                    torn.append(f"{row['batch']['value']}: {row['n']['value']}")
            reads["http"] += 1

    def read_sparqlwrapper() -> None:
        client = SPARQLWrapper(server.url + "/sparql")
        client.setReturnFormat(JSON)
        client.setQuery(PER_BATCH)
        while writing.is_set():
            for row in client.queryAndConvert()["results"]["bindings"]:
                if int(row["n"]["value"]) != BATCH_SIZE:
                    torn.append(f"{row['batch']['value']}: {row['n']['value']}")
            reads["sparqlwrapper"] += 1

    def read_graphs() -> None:
        while writing.is_set():
            for w in range(WRITERS):
                response = server.get("/store", params={"graph": FEDERATION.format(w)},
                                      headers={"Accept": "application/n-triples"})
                if response.status_code == 404:
                    continue
                counts = Counter(line.rsplit('"', 2)[1] for line in response.text.splitlines() if BATCH in line)
                torn.extend(f"{batch}: {n} in a graph read" for batch, n in counts.items() if n != BATCH_SIZE)
            reads["graph store"] += 1

    readers = [threading.Thread(target=target) for target in
               [read_http, read_sparqlwrapper, read_graphs] * (READERS // 3)]
    writers = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=600)
    writing.clear()
    for thread in readers:
        thread.join(timeout=120)

    assert not refused, refused
    assert not torn, torn[:10]
    assert min(reads.values()) > 0 and len(reads) == 3
    response = server.get("/sparql", params={"query": PER_BATCH})
    final = {row["batch"]["value"]: int(row["n"]["value"]) for row in response.json()["results"]["bindings"]}
    assert final == acknowledged
    # each acknowledged write is logged exactly once, with the triples it added
    entries = server.app.extensions["sekg"].audit.entries(limit=10_000)
    for w in range(WRITERS):
        mine = [e for e in entries if e.graph == FEDERATION.format(w)]
        assert len(mine) == BATCHES
        assert all(e.triples_after - e.triples_before == BATCH_SIZE for e in mine)
        assert sorted(e.triples_after for e in mine) == [BATCH_SIZE * (b + 1) for b in range(BATCHES)]


class FromAddress(HTTPAdapter):
    """Send requests from a chosen loopback address, so one machine can play two clients."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def client(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", FromAddress(address))
    return session


def test_a_flooding_client_cannot_starve_another(tmp_path):
    live = start_server(tmp_path / "store", SEKG_LOAD_SHIPPED=False, SEKG_RATE_LIMIT=0.01, SEKG_RATE_BURST=5)
    flooder, other = client("127.0.0.1"), client("127.0.0.2")
    query = {"query": "ASK { ?s ?p ?o }"}
    try:
        statuses = []
        for _ in range(20):
            # a forged X-Forwarded-For must not buy a fresh bucket: the server does not trust it
            response = flooder.get(live.url + "/sparql", params=query, timeout=60,
                                   headers={"X-Forwarded-For": f"10.0.0.{len(statuses)}"})
            statuses.append(response.status_code)
            if response.status_code == 429:
                break
        assert statuses == [200] * 5 + [429]
        assert int(response.headers["Retry-After"]) >= 1 and "too many queries" in response.json()["message"]

        # while the flooder keeps going, the other client is answered
        stop = threading.Event()
        flood_statuses = Counter()

        def flood():
            while not stop.is_set():
                flood_statuses[flooder.get(live.url + "/sparql", params=query, timeout=60).status_code] += 1

        threads = [threading.Thread(target=flood) for _ in range(3)]
        for thread in threads:
            thread.start()
        try:
            others = [other.get(live.url + "/sparql", params=query, timeout=60) for _ in range(5)]
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        assert [r.status_code for r in others] == [200] * 5
        assert all(r.json()["boolean"] is False for r in others)
        assert flood_statuses[429] > 0 and set(flood_statuses) <= {200, 429}
    finally:
        live.stop()
