"""Limits that keep the endpoint up: timeouts that stop work, no fetching of arbitrary URLs, safe XML."""

from __future__ import annotations

import http.server
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from sekg.config import load_settings
from sekg.errors import ConfigError

GRAPH = "http://example.org/graph/numbers"


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        RecordingHandler.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/turtle")
        self.end_headers()
        self.wfile.write(b"<urn:x> <urn:y> <urn:z> .")

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def listener():
    """A local HTTP server that records every request it gets: nothing should ever reach it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    RecordingHandler.hits = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from conftest import start_server

    live = start_server(tmp_path_factory.mktemp("limits") / "store", SEKG_LOAD_SHIPPED=False,
                        SEKG_QUERY_TIMEOUT=2, SEKG_QUERY_WORKERS=2,
                        SEKG_SERVICE_ALLOWLIST=("https://query.wikidata.org/sparql",))
    data = " ".join(f"<http://example.org/n{i}> <http://example.org/value> {i} ." for i in range(30))
    response = requests.put(live.url + "/store", params={"graph": GRAPH}, data=data,
                            headers={**live.auth(), "Content-Type": "text/turtle"})
    assert response.status_code == 201
    yield live
    live.stop()


RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(10)) + " }"
QUICK = "ASK { ?s ?p 7 }"


def test_runaway_query_is_stopped_while_others_are_answered(server):
    pool = server.store._pool
    killed_before = pool.killed
    with ThreadPoolExecutor(max_workers=2) as executor:
        started = time.monotonic()
        runaway = executor.submit(server.get, "/sparql", params={"query": RUNAWAY})
        time.sleep(0.3)
        quick = server.get("/sparql", params={"query": QUICK})
        quick_elapsed = time.monotonic() - started
        response = runaway.result()
        elapsed = time.monotonic() - started
    assert quick.status_code == 200 and quick.json()["boolean"] is True
    assert quick_elapsed < 2
    assert response.status_code == 503
    assert "stopped" in response.json()["message"]
    assert elapsed < 2 + 1
    assert pool.killed == killed_before + 1


def test_stopped_worker_is_gone_and_replaced(server):
    pool = server.store._pool
    server.get("/sparql", params={"query": RUNAWAY})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with pool._lock:
            workers = list(pool._all)
        if len(workers) == pool.size and all(w.alive() for w in workers):
            break
        time.sleep(0.1)
    with pool._lock:
        pids = [w.process.pid for w in pool._all]
    assert len(pids) == pool.size
    for pid in pids:
        os.kill(pid, 0)  # raises if a worker is not running
    assert server.get("/health").json()["workers_ok"] is True


@pytest.mark.parametrize("template", [
    "SELECT * WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE SILENT <{url}/sparql> {{ ?s ?p ?o }} }}",
    "PREFIX x: <{url}/> SELECT * WHERE {{ SERVICE x:sparql {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ \\u0053ERVICE <{url}/sparql> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ BIND(<{url}/sparql> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ {{ SELECT * WHERE {{ service <{url}/sparql> {{ ?s ?p ?o }} }} }} }}",
])
def test_service_outside_the_allow_list_is_refused_before_the_engine(server, listener, template):
    RecordingHandler.hits = []
    response = server.get("/sparql", params={"query": template.format(url=listener)})
    assert response.status_code == 403, response.text
    assert RecordingHandler.hits == []


def test_allow_list_refuses_private_addresses_at_start_up(tmp_path):
    for endpoint in ("http://127.0.0.1:8890/sparql", "http://10.0.0.5/sparql", "http://169.254.169.254/",
                     "http://[::1]/sparql", "file:///etc/passwd"):
        with pytest.raises(ConfigError):
            load_settings(environ={}, SEKG_STORE=str(tmp_path), SEKG_SERVICE_ALLOWLIST=(endpoint,))


def test_from_never_fetches(server, listener):
    RecordingHandler.hits = []
    response = server.get("/sparql", params={"query": f"SELECT * FROM <{listener}/data.ttl> WHERE {{ ?s ?p ?o }}"})
    assert response.status_code == 200
    assert response.json()["results"]["bindings"] == []
    assert RecordingHandler.hits == []


def test_load_is_refused(server, listener):
    RecordingHandler.hits = []
    response = server.post("/update", data={"update": f"LOAD <{listener}/data.ttl> INTO GRAPH <urn:g>"},
                           headers=server.auth())
    assert response.status_code == 403
    assert "LOAD" in response.json()["message"]
    assert RecordingHandler.hits == []


def test_service_in_an_update_is_refused(server, listener):
    RecordingHandler.hits = []
    update = f"INSERT {{ GRAPH <urn:g> {{ ?s ?p ?o }} }} WHERE {{ SERVICE <{listener}/sparql> {{ ?s ?p ?o }} }}"
    response = server.post("/update", data={"update": update}, headers=server.auth())
    assert response.status_code == 403
    assert RecordingHandler.hits == []


def test_jsonld_remote_context_is_not_fetched(server, listener):
    RecordingHandler.hits = []
    body = '{"@context": "%s/context.jsonld", "@id": "http://example.org/a", "name": "x"}' % listener
    response = requests.put(server.url + "/store", params={"graph": "urn:g:jsonld"}, data=body,
                            headers={**server.auth(), "Content-Type": "application/ld+json"})
    assert response.status_code == 400
    assert RecordingHandler.hits == []


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/a"><ex:p>&secret;</ex:p></rdf:Description>
</rdf:RDF>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/a"><ex:p>&lol4;</ex:p></rdf:Description>
</rdf:RDF>"""


@pytest.mark.parametrize("body", [XXE, LAUGHS], ids=["external-entity", "entity-expansion"])
def test_xml_entities_are_refused(server, body):
    response = requests.put(server.url + "/store", params={"graph": "urn:g:xml"}, data=body,
                            headers={**server.auth(), "Content-Type": "application/rdf+xml"})
    assert response.status_code == 400
    assert "DTD" in response.json()["message"]
    assert server.get("/store", params={"graph": "urn:g:xml"}).status_code == 404


def test_rate_limit_answers_429_with_retry_after(tmp_path):
    from conftest import start_server

    live = start_server(tmp_path / "store", SEKG_LOAD_SHIPPED=False, SEKG_RATE_LIMIT=0.5, SEKG_RATE_BURST=3)
    try:
        statuses = [live.get("/sparql", params={"query": QUICK}).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = live.get("/sparql", params={"query": QUICK})
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert "per second" in refused.json()["message"]
        assert live.get("/health").status_code == 200  # other endpoints are not limited
    finally:
        live.stop()


def test_rate_limiter_refills_over_time():
    from sekg.errors import TooManyRequestsError
    from sekg.ratelimit import RateLimiter

    now = [0.0]
    limiter = RateLimiter(rate=2, burst=2, clock=lambda: now[0])
    limiter.check("a")
    limiter.check("a")
    with pytest.raises(TooManyRequestsError):
        limiter.check("a")
    limiter.check("b")  # clients do not share a bucket
    now[0] += 0.5
    limiter.check("a")
