"""Keep the service's data version and modification time in a small graph on the engine.

The version changes with every commit the service makes, which is what its caches (documents,
the directory index, dumps, ETags) follow. It is read again at most every TTL seconds, so
several service processes sharing one engine see each other's writes within that time. Writes
made to the engine behind the service's back do not change it: see docs/deploy.md.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime, timezone

import pyoxigraph as ox
from rdflib import URIRef

from ...errors import UpstreamError
from .datasets import STATE_GRAPH, Catalogue, DatasetSpec
from .runner import QueryRunner

TTL = 2.0  # seconds a version read from the engine is trusted
VERSION = ox.NamedNode("http://www.w3.org/2002/07/owl#versionInfo")
MODIFIED = ox.NamedNode("http://purl.org/dc/terms/modified")
XSD_DATETIME = ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
NEVER_WRITTEN = "0"
UNAVAILABLE = "unavailable"  # the engine has not answered since the service started


class ServiceState:
    """The version and modification time, cached for TTL seconds."""

    def __init__(self, runner: QueryRunner, queries, *, timeout: float):
        self.runner = runner
        self.queries = queries
        self.timeout = timeout
        self.version = UNAVAILABLE
        self.modified: datetime | None = None
        self.exists = False
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def read(self, *, fresh: bool = False) -> str:
        """Return the version, asking the engine when the cached one is older than TTL (or `fresh`)."""
        if not fresh and time.monotonic() - self._read_at < TTL:
            return self.version
        with self._lock:
            if not fresh and time.monotonic() - self._read_at < TTL:
                return self.version  # another thread has just read it
            rows = self.runner.rows(self.queries["remote_read_state"].text,
                                    spec=DatasetSpec.explicit((), (STATE_GRAPH,), replaces_query_dataset=False),
                                    catalogue=Catalogue(), timeout=self.timeout,
                                    bindings={"state": URIRef(STATE_GRAPH)}).dicts()
            if rows:
                self.version = rows[0]["version"].value
                modified = rows[0].get("modified")
                self.modified = _datetime(modified.value) if modified is not None else None
            else:
                self.version, self.modified = NEVER_WRITTEN, None
            self.exists = bool(rows)
            self._read_at = time.monotonic()
            return self.version

    def cached(self) -> str:
        """Return the version, or the last one known while the engine does not answer (never raises)."""
        try:
            return self.read()
        except UpstreamError:
            return self.version

    def next(self) -> tuple[str, datetime, set]:
        """Make the version of a new commit: (version, time, the state graph's triples)."""
        now = datetime.now(timezone.utc).replace(microsecond=0)
        version = now.strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(4)
        subject = ox.NamedNode(STATE_GRAPH)
        triples = {ox.Triple(subject, VERSION, ox.Literal(version)),
                   ox.Triple(subject, MODIFIED, ox.Literal(now.isoformat().replace("+00:00", "Z"),
                                                           datatype=XSD_DATETIME))}
        return version, now, triples

    def committed(self, version: str, modified: datetime) -> None:
        """Remember a version this service has just written (readers here see it at once)."""
        with self._lock:
            self.version, self.modified, self.exists = version, modified, True
            self._read_at = time.monotonic()

    def current_triples(self) -> set | None:
        """Return the state graph as it is now (to put it back if a commit fails), None when absent."""
        if not self.exists:
            return None
        subject = ox.NamedNode(STATE_GRAPH)
        triples = {ox.Triple(subject, VERSION, ox.Literal(self.version))}
        if self.modified is not None:
            triples.add(ox.Triple(subject, MODIFIED, ox.Literal(
                self.modified.isoformat().replace("+00:00", "Z"), datatype=XSD_DATETIME)))
        return triples


def _datetime(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
