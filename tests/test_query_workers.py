"""Query worker processes that run several queries at once: a runaway costs its worker, its neighbours are run again."""

from __future__ import annotations

import os
import threading
import time

import pytest

from sekg.errors import QueryTimeoutError
from sekg.store.embedded import EmbeddedStore

GRAPH = "http://example.org/workers"


def _count_query(width: int) -> str:
    # a cross product of the graph's 30 triples with itself, `width` times: 30**width solutions
    return "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(width)) + " }"


RUNAWAY = _count_query(10)
SLOW = _count_query(5)  # several seconds: still running when its neighbour's deadline passes


@pytest.fixture
def store(tmp_path):
    store = EmbeddedStore(path=tmp_path / "store", workers=1, threads=2, timeout=60).open()
    data = " ".join(f"<http://example.org/n{i}> <http://example.org/value> {i} ." for i in range(30))
    with store.transaction() as txn:
        txn.replace_graph(GRAPH, data.encode(), "text/turtle")
    yield store
    store.close()


def _count(store, text, timeout):
    rows = store.select(text, union=True, timeout=timeout)
    return int(rows[0]["n"])


def test_neighbour_of_a_runaway_query_is_run_again_and_answered(store):
    pool = store._pool
    first_pid = pool._all[0].process.pid
    outcome = {}

    def slow():
        started = time.monotonic()
        outcome["slow"] = _count(store, SLOW, timeout=60)
        outcome["slow_elapsed"] = time.monotonic() - started

    neighbour = threading.Thread(target=slow)
    neighbour.start()
    time.sleep(0.2)  # the slow query is running on the only worker's first thread
    started = time.monotonic()
    with pytest.raises(QueryTimeoutError):
        _count(store, RUNAWAY, timeout=1)
    assert time.monotonic() - started < 1 + 1
    neighbour.join(60)
    assert outcome["slow"] == 30 ** 5
    assert pool.killed == 1
    assert pool.retried == 1
    with pytest.raises(ProcessLookupError):
        os.kill(first_pid, 0)  # the killed worker is gone, not left running the slow query


def test_one_worker_runs_its_threads_at_once(store):
    results = []
    worker = store._pool._all[0]
    most_busy = 0

    def run():
        for _ in range(3):
            results.append(_count(store, _count_query(4), timeout=60))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        most_busy = max(most_busy, len(store._pool._in_use))
        time.sleep(0.002)
    assert results == [30 ** 4] * 6
    assert most_busy == 2
    assert store._pool._all == [worker] and store._pool.killed == 0


def test_jobs_beyond_the_free_slots_wait_for_one(store):
    # two slots, three slow queries: the third waits for a free thread and is still answered
    results = []

    def run():
        results.append(_count(store, _count_query(4), timeout=60))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [30 ** 4] * 3


@pytest.mark.parametrize("text, quick", [
    ("DESCRIBE <http://example.org/n1>", True),
    ("PREFIX ex: <http://example.org/> BASE <http://example.org/> DESCRIBE ex:n1 <n2>", True),
    ("describe <http://example.org/n1> # a comment\n", True),
    ("DESCRIBE ?s WHERE { ?s ?p ?o }", False),
    ("DESCRIBE *", False),
    ("DESCRIBE <http://example.org/n1> FROM <http://example.org/g>", False),
    ("DESCRIBE <http://example.org/n1> WHERE {}", False),
    ("DESCRIBE " + " ".join(f"<http://example.org/n{i}>" for i in range(17)), False),
    ("SELECT * WHERE { ?s ?p ?o }", False),
])
def test_quick_describe_is_only_a_few_named_resources(text, quick):
    from sekg.sparql_text import is_quick_describe

    assert is_quick_describe(text) is quick


def test_describing_named_resources_needs_no_free_worker(tmp_path):
    store = EmbeddedStore(path=tmp_path / "store", workers=1, threads=1, timeout=60).open()
    try:
        data = " ".join(f"<http://example.org/n{i}> <http://example.org/value> {i} ." for i in range(30))
        with store.transaction() as txn:
            txn.replace_graph(GRAPH, data.encode(), "text/turtle")
        busy = threading.Thread(target=lambda: pytest.raises(QueryTimeoutError, _count, store, RUNAWAY, 3))
        busy.start()
        time.sleep(0.3)  # the only slot is taken by the runaway query
        graph = store.construct("DESCRIBE <http://example.org/n7>", union=True)
        assert len(graph) == 1 and int(next(iter(graph))[2]) == 7
        assert busy.is_alive()  # answered while the worker was still busy
        busy.join(10)
    finally:
        store.close()


def _mapped_libraries(pid: int) -> str:
    with open(f"/proc/{pid}/maps") as maps:
        return maps.read()


@pytest.mark.parametrize("setting, expect_jemalloc", [("auto", True), ("system", False)])
def test_workers_preload_the_chosen_allocator(tmp_path, setting, expect_jemalloc):
    import ctypes.util

    if expect_jemalloc and ctypes.util.find_library("jemalloc") is None:
        pytest.skip("jemalloc is not installed here (.ci/install installs libjemalloc2)")
    store = EmbeddedStore(path=tmp_path / "store", workers=1, threads=1, allocator=setting).open()
    try:
        assert store.ask("ASK {}")  # the worker is up and answering
        pid = store._pool._all[0].process.pid
        assert ("libjemalloc" in _mapped_libraries(pid)) is expect_jemalloc
        assert "libjemalloc" not in _mapped_libraries(os.getpid())  # the server process keeps its own
        assert store.health()["worker_allocator"] == ("system" if not expect_jemalloc else store._pool.allocator)
    finally:
        store.close()
