"""`sekg backup` takes a consistent snapshot while the server writes and reads; `sekg restore` brings it back."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import requests

from conftest import start_server
from processes import sekg
from sekg.store.embedded import EmbeddedStore

GRAPHS = [f"http://example.org/graph/{name}" for name in ("a", "b", "c", "d", "e")]
NT = {"Content-Type": "application/n-triples"}


def write_for(step: int) -> tuple[str, set[tuple[str, str, str]]]:
    """Return the graph the step-th write replaces and the triples it puts there (sizes vary with the step)."""
    graph = GRAPHS[step % len(GRAPHS)]
    return graph, {(f"http://example.org/s/{step}/{i}", "http://example.org/p", f'"step {step} item {i}"')
                   for i in range(5 + step % 7)}


def state_after(steps: int) -> set[tuple[str, str, str, str]]:
    """Return the quads the store holds once writes 1..steps are done (each write replaces its graph)."""
    latest = {}
    for step in range(1, steps + 1):
        graph, triples = write_for(step)
        latest[graph] = triples
    return {(s, p, o, g) for g, triples in latest.items() for (s, p, o) in triples}


def store_quads(path: Path) -> set[tuple[str, str, str, str]]:
    store = EmbeddedStore(path=path).open()
    try:
        return {(q.subject.value, q.predicate.value, str(q.object), g) for g in store.named_graphs()
                for q in store.graph_quads(g)}
    finally:
        store.close()


class Traffic:
    """One writer replacing graphs in a known order, and readers querying, until stopped."""

    def __init__(self, server, readers: int = 3):
        self.server = server
        self.acknowledged = 0
        self.started = 0
        self.failures: list[str] = []
        self.reads = 0
        self.stop = threading.Event()
        self.progress = threading.Condition()
        self.threads = [threading.Thread(target=self.write, daemon=True)]
        self.threads += [threading.Thread(target=self.read, daemon=True) for _ in range(readers)]

    def write(self):
        step = 0
        while not self.stop.is_set():
            step += 1
            graph, triples = write_for(step)
            body = "".join(f"<{s}> <{p}> {o} .\n" for (s, p, o) in triples)
            self.started = step
            response = requests.put(self.server.url + "/store", params={"graph": graph}, data=body.encode(),
                                    headers={**self.server.auth(), **NT}, timeout=120)
            if response.status_code not in (201, 204):
                self.failures.append(f"write {step}: {response.status_code} {response.text[:200]}")
                return
            with self.progress:
                self.acknowledged = step
                self.progress.notify_all()

    def read(self):
        query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        while not self.stop.is_set():
            response = self.server.get("/sparql", params={"query": query})
            if response.status_code != 200:
                self.failures.append(f"read: {response.status_code} {response.text[:200]}")
            self.reads += 1

    def wait_for(self, steps: int) -> None:
        with self.progress:
            assert self.progress.wait_for(lambda: self.acknowledged >= steps or self.failures, timeout=300)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)


@pytest.fixture
def busy_server(tmp_path):
    live = start_server(tmp_path / "store", SEKG_LOAD_SHIPPED=False)
    yield live
    live.stop()


def test_backup_while_writing_and_reading_restores_the_state_at_backup_time(busy_server, tmp_path):
    backup = tmp_path / "backup"
    with Traffic(busy_server) as traffic:
        traffic.wait_for(5)
        first_possible = traffic.acknowledged
        result = sekg("backup", str(backup), "--store", str(busy_server.settings.store_path))
        last_possible = traffic.started
        traffic.wait_for(last_possible + 3)  # the server keeps writing after the backup
    assert result.returncode == 0, result.stderr
    assert not traffic.failures, traffic.failures
    assert traffic.reads > 0

    fresh = tmp_path / "restored"
    restored = sekg("restore", str(backup), "--store", str(fresh))
    assert restored.returncode == 0, restored.stderr
    quads = store_quads(fresh)
    matches = [k for k in range(first_possible, last_possible + 1) if state_after(k) == quads]
    assert matches, f"the restored store equals no state between write {first_possible} and {last_possible}"
    manifest = json.loads((backup / "BACKUP.json").read_text())
    assert manifest["quads"] == len(quads)
    assert busy_server.store.version > manifest["version"]  # the server went on writing after the snapshot

    # the backup carried the tokens: the operator's token still writes to a server on the restored store
    again = start_server(fresh, SEKG_LOAD_SHIPPED=False)
    try:
        response = requests.put(again.url + "/store", params={"graph": GRAPHS[0]}, data=b"<urn:a> <urn:b> <urn:c> .",
                                headers={**busy_server.auth(), **NT}, timeout=60)
        assert response.status_code == 204
    finally:
        again.stop()
    log = sekg("log", "--store", str(fresh), "--json", check=True)
    assert [entry["operation"] for entry in json.loads(log.stdout)][-2:] == ["restore", "put"]


def test_restore_refuses_a_store_a_running_server_holds(busy_server, tmp_path):
    store = busy_server.settings.store_path
    requests.put(busy_server.url + "/store", params={"graph": GRAPHS[0]}, data=b"<urn:a> <urn:b> <urn:c> .",
                 headers={**busy_server.auth(), **NT}, timeout=60)
    backup = tmp_path / "backup"
    sekg("backup", str(backup), "--store", str(store), check=True)
    version = busy_server.store.version
    result = sekg("restore", str(backup), "--store", str(store), "--replace")
    assert result.returncode == 1
    assert "is open in" in result.stderr and "stop it before restoring" in result.stderr
    assert busy_server.store.version == version
    assert busy_server.get("/store", params={"graph": GRAPHS[0]}).status_code == 200


def test_restore_replaces_a_stopped_store_only_when_asked(tmp_path):
    store = tmp_path / "store"
    first, second = tmp_path / "first.nt", tmp_path / "second.nt"
    first.write_text("<http://example.org/a> <http://example.org/p> \"first\" .\n")
    second.write_text("<http://example.org/b> <http://example.org/p> \"second\" .\n")
    sekg("load", str(first), "--graph", GRAPHS[0], "--store", str(store), check=True)
    backup = tmp_path / "backup"
    sekg("backup", str(backup), "--store", str(store), check=True)
    at_backup = store_quads(store)
    sekg("load", str(second), "--graph", GRAPHS[1], "--store", str(store), check=True)

    refused = sekg("restore", str(backup), "--store", str(store))
    assert refused.returncode == 1 and "--replace" in refused.stderr
    assert store_quads(store) != at_backup
    assert sekg("restore", str(backup), "--store", str(store), "--replace").returncode == 0
    assert store_quads(store) == at_backup

    again = sekg("backup", str(backup), "--store", str(store))
    assert again.returncode == 1 and "not empty" in again.stderr


def test_damaged_or_unfinished_backup_is_refused(tmp_path):
    store = tmp_path / "store"
    data = tmp_path / "data.nt"
    data.write_text("<http://example.org/a> <http://example.org/p> \"x\" .\n")
    sekg("load", str(data), "--graph", GRAPHS[0], "--store", str(store), check=True)
    backup = tmp_path / "backup"
    sekg("backup", str(backup), "--store", str(store), check=True)
    sst = next((backup / "oxigraph").glob("*.sst"))
    sst.write_bytes(sst.read_bytes()[:-1] + b"\x00")
    damaged = sekg("restore", str(backup), "--store", str(tmp_path / "fresh"))
    assert damaged.returncode == 1 and "damaged" in damaged.stderr and sst.name in damaged.stderr
    (backup / "BACKUP.json").unlink()
    unfinished = sekg("restore", str(backup), "--store", str(tmp_path / "fresh"))
    assert unfinished.returncode == 1 and "not a finished backup" in unfinished.stderr
    assert not (tmp_path / "fresh" / "checkpoints" / "CURRENT").exists()
