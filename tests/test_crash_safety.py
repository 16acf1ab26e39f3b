"""A process killed with SIGKILL in the middle of a write restarts holding exactly the acknowledged writes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import requests
from rdflib import Graph
from rdflib.compare import isomorphic

from processes import admin_token, sekg, start_serving

NT = {"Content-Type": "application/n-triples"}
GRAPH = "http://example.org/graph/"
BIG_TRIPLES = 200_000


def triples(prefix: str, count: int) -> bytes:
    return "".join(f'<http://example.org/{prefix}/{i}> <http://example.org/p> "{prefix} {i}" .\n'
                   for i in range(count)).encode()


def working_copy_bytes(store: Path) -> int:
    return sum(p.stat().st_size for p in (store / "oxigraph").iterdir() if p.is_file())


def wait_for_partial_write(store: Path, before: int, *, done) -> None:
    """Return once a write is in progress and has put data into the working copy (not yet published)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not done():
        if (store / "WRITING").exists() and working_copy_bytes(store) > before + 1_000_000:
            return
        time.sleep(0.01)
    raise AssertionError("the big write never got under way, or finished before it could be interrupted")


def graph_sizes(url: str) -> dict[str, int]:
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    response = requests.get(url + "/sparql", params={"query": query}, timeout=120,
                            headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return {row["g"]["value"]: int(row["n"]["value"]) for row in response.json()["results"]["bindings"]}


def test_server_killed_during_a_big_put_keeps_exactly_the_acknowledged_writes(tmp_path):
    store = tmp_path / "store"
    token = admin_token(store)
    auth = {"Authorization": f"Bearer {token}", **NT}
    server = start_serving(store)
    expected: dict[str, int] = {}
    try:
        for i in range(4):
            response = requests.put(server.url + "/store", params={"graph": f"{GRAPH}{i}"},
                                    data=triples(f"g{i}", 50 * (i + 1)), headers=auth, timeout=120)
            assert response.status_code == 201
            expected[f"{GRAPH}{i}"] = 50 * (i + 1)
        response = requests.post(server.url + "/store", params={"graph": f"{GRAPH}0"},
                                 data=triples("more", 7), headers=auth, timeout=120)
        assert response.status_code == 204
        expected[f"{GRAPH}0"] += 7
        assert requests.delete(server.url + "/store", params={"graph": f"{GRAPH}3"}, headers=auth,
                               timeout=120).status_code == 204
        del expected[f"{GRAPH}3"]
        response = requests.put(server.url + "/store", params={"graph": f"{GRAPH}big"}, data=triples("old", 10),
                                headers=auth, timeout=120)
        assert response.status_code == 201
        expected[f"{GRAPH}big"] = 10

        outcome: dict = {}

        def big_put():
            try:
                outcome["response"] = requests.put(server.url + "/store", params={"graph": f"{GRAPH}big"},
                                                   data=triples("new", BIG_TRIPLES), headers=auth, timeout=600)
            except requests.ConnectionError as exc:
                outcome["error"] = exc

        before = working_copy_bytes(store)
        writer = threading.Thread(target=big_put)
        writer.start()
        wait_for_partial_write(store, before, done=lambda: not writer.is_alive())
        server.kill()
        writer.join(timeout=60)
    finally:
        server.stop()
    assert "response" not in outcome, "the big write was acknowledged before the kill"
    assert (store / "WRITING").exists()

    restarted = start_serving(store)
    try:
        assert graph_sizes(restarted.url) == expected
        assert requests.get(restarted.url + "/store", params={"graph": f"{GRAPH}3"}, timeout=60).status_code == 404
        # the restarted store takes writes again
        response = requests.put(restarted.url + "/store", params={"graph": f"{GRAPH}after"}, data=triples("after", 3),
                                headers=auth, timeout=120)
        assert response.status_code == 201
        assert graph_sizes(restarted.url) == {**expected, f"{GRAPH}after": 3}
    finally:
        restarted.stop()
    assert not (store / "WRITING").exists()


@pytest.mark.parametrize("kill_at", ["validating", "writing"])
def test_load_killed_midway_leaves_the_store_as_it_was(tmp_path, kill_at):
    import signal
    import subprocess

    from processes import SEKG

    store = tmp_path / "store"
    small = tmp_path / "small.nt"
    small.write_bytes(triples("small", 25))
    sekg("load", str(small), "--graph", f"{GRAPH}small", "--store", str(store), check=True)
    big = tmp_path / "big.nt"
    big.write_bytes(triples("big", BIG_TRIPLES // 2))  # the load validates the whole file first: keep that short
    before = working_copy_bytes(store)
    load = subprocess.Popen([SEKG, "load", str(big), "--graph", f"{GRAPH}big", "--store", str(store)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        if kill_at == "writing":
            wait_for_partial_write(store, before, done=lambda: load.poll() is not None)
        else:
            # validation reads the whole file before the transaction opens: kill while it runs
            deadline = time.monotonic() + 120
            while not (store / "sekg.lock").read_text().endswith(str(load.pid)) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert load.poll() is None and not (store / "WRITING").exists()
        load.send_signal(signal.SIGKILL)
        assert load.wait(timeout=60) == -signal.SIGKILL
    finally:
        if load.poll() is None:
            load.kill()
    server = start_serving(store)
    try:
        assert graph_sizes(server.url) == {f"{GRAPH}small": 25}
    finally:
        server.stop()


def test_server_killed_while_an_import_writes_keeps_the_previous_import(tmp_path):
    import csv
    import io

    from conftest import PROJECT

    federation = "https://w3id.org/sekg/graph/federation/crash"
    with open(PROJECT / "data" / "import" / "examples" / "tsi-network-template.csv", encoding="utf-8",
              newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if not row["vat"] and not row["fiscal_code"]]

    def spreadsheet(copies: int) -> bytes:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        for i in range(copies):
            writer.writerows({**row, "name": f"{row['name']} {i}", "website": ""} for row in rows)
        return buffer.getvalue().encode()

    def statements(url: str) -> Graph:
        response = requests.get(url + "/store", params={"graph": federation}, timeout=120,
                                headers={"Accept": "application/n-triples"})
        assert response.status_code == 200
        return Graph().parse(data=response.text, format="nt")

    store = tmp_path / "store"
    token = admin_token(store)
    auth = {"Authorization": f"Bearer {token}"}
    server = start_serving(store, SEKG_LOAD_SHIPPED="true")  # the import matches values to the vocabularies
    outcome: dict = {}
    try:
        first = requests.post(server.url + "/import", params={"federation": "crash", "skip-invalid": "true"},
                              headers=auth, files={"file": ("small.csv", spreadsheet(1))}, timeout=600)
        assert first.status_code == 200 and first.json()["written"], first.text[:500]
        acknowledged = statements(server.url)

        def big_import():
            try:
                outcome["response"] = requests.post(
                    server.url + "/import", params={"federation": "crash", "skip-invalid": "true"}, headers=auth,
                    files={"file": ("big.csv", spreadsheet(100))}, timeout=900)
            except requests.ConnectionError as exc:
                outcome["error"] = exc

        importer = threading.Thread(target=big_import)
        importer.start()
        # the import reads, matches, maps and validates first; kill once its transaction is writing
        deadline = time.monotonic() + 600
        while not (store / "WRITING").exists() and importer.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
        server.kill()
        importer.join(timeout=60)
    finally:
        server.stop()
    assert "response" not in outcome, "the big import was acknowledged before the kill"
    assert (store / "WRITING").exists()

    restarted = start_serving(store)
    try:
        assert len(acknowledged) > 100 and isomorphic(statements(restarted.url), acknowledged)
    finally:
        restarted.stop()
