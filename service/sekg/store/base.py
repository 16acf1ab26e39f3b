"""Define the storage interface every backend implements; nothing above it knows which is in use."""

from __future__ import annotations

import contextlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator

from rdflib import Graph

from ..errors import StoreBusyError
from ..sparql_text import lex, prologue_end
from .terms import rows_from_json


@dataclass
class Answer:
    """A finished query answer, serialised and ready to stream: the body may be spooled to disk."""

    form: str  # "SELECT" | "ASK" | "CONSTRUCT" | "DESCRIBE"
    syntax: str  # key of the results or RDF syntax
    media_type: str
    body: BinaryIO
    count: int = 0
    truncated: bool = False
    limit: int = 0
    extra_headers: dict = field(default_factory=dict)

    def chunks(self, size: int = 65536) -> Iterator[bytes]:
        try:
            self.body.seek(0)
            while True:
                chunk = self.body.read(size)
                if not chunk:
                    return
                yield chunk
        finally:
            self.body.close()

    def read(self) -> bytes:
        return b"".join(self.chunks())


def query_form(text: str) -> str:
    """Return SELECT, ASK, CONSTRUCT or DESCRIBE: the form of a query, read after its prologue."""
    from ..errors import QuerySyntaxError

    tokens = lex(text)
    i = prologue_end(tokens)
    if i < len(tokens) and tokens[i].keyword in {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}:
        return tokens[i].keyword
    raise QuerySyntaxError("the query must be a SELECT, ASK, CONSTRUCT or DESCRIBE query")


class Snapshot(ABC):
    """One consistent state of the dataset, for reads that must agree with each other (dumps)."""

    version: str

    @abstractmethod
    def write_quads(self, output: BinaryIO, syntax) -> int:
        """Write every quad, graphs included (N-Quads or TriG); return how many."""

    @abstractmethod
    def write_triples(self, output: BinaryIO, syntax) -> int:
        """Write the distinct triples of all graphs merged (N-Triples, Turtle, JSON-LD, ...); return how many."""


class Transaction(ABC):
    """A write in progress: changes are invisible to readers until the transaction commits."""

    @abstractmethod
    def update(self, text: str, *, base_iri: str | None = None) -> None:
        """Run a SPARQL 1.1 Update inside the transaction."""

    @abstractmethod
    def replace_graph(self, graph: str | None, data: bytes, media_type: str, *, base_iri: str | None = None) -> None:
        """Replace a graph's content (None = default graph) with RDF data."""

    @abstractmethod
    def add_to_graph(self, graph: str | None, data: bytes, media_type: str, *, base_iri: str | None = None) -> None:
        """Add RDF data to a graph (None = default graph)."""

    @abstractmethod
    def load_file(self, path, syntax, graph: str | None = None, progress=None) -> int:
        """Add a file's statements (triples go to `graph`); call progress(bytes_read) as it goes."""

    @abstractmethod
    def add_quads(self, quads) -> None:
        """Add pyoxigraph quads (each names its graph)."""

    @abstractmethod
    def remove_about(self, graph: str, subject: str) -> None:
        """Remove every statement of a graph whose subject is `subject`."""

    @abstractmethod
    def drop_graph(self, graph: str | None) -> bool:
        """Remove a graph (None clears the default graph); return whether it existed."""

    @abstractmethod
    def graph(self, graph: str | None) -> Graph:
        """Return the graph's current content inside the transaction as an rdflib graph."""

    @abstractmethod
    def graph_exists(self, graph: str | None) -> bool:
        """Tell whether a named graph exists inside the transaction."""

    @abstractmethod
    def create_graph(self, graph: str) -> None:
        """Make a named graph exist, even empty."""

    @abstractmethod
    def graph_size(self, graph: str | None) -> int:
        """Count a graph's triples inside the transaction."""

    @abstractmethod
    def all_sizes(self) -> dict:
        """Count the triples of every graph (None = default graph) inside the transaction."""

    @abstractmethod
    def reference_facts(self, iris) -> Graph:
        """Return the rdf:type and skos:inScheme statements of the given IRIs, from any graph."""


class Store(ABC):
    """A SPARQL 1.1 dataset: queries, transactional writes, graph access and health."""

    kind = "abstract"

    # --- lifecycle ------------------------------------------------------------------------
    def open(self) -> "Store":
        return self

    def close(self) -> None:
        pass

    @contextlib.contextmanager
    def _write_turn(self, timeout: float | None):
        """Hold the store's one write lock (`self._write_lock`), or refuse (503) after `timeout` seconds."""
        wait = self.timeout if timeout is None else timeout
        if not self._write_lock.acquire(timeout=wait):
            raise StoreBusyError("another write is in progress; try again shortly", headers={"Retry-After": "5"})
        try:
            yield
        finally:
            self._write_lock.release()

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    @abstractmethod
    def health(self) -> dict:
        """Report whether the store answers; {'ok': bool, ...}."""

    # --- reads ----------------------------------------------------------------------------
    @abstractmethod
    def run_query(self, text: str, *, syntax: str, media_type: str, form: str | None = None,
                  default_graphs: list[str] | None = None, named_graphs: list[str] | None = None,
                  bindings: dict | None = None, max_rows: int | None = None,
                  timeout: float | None = None, base_iri: str | None = None) -> Answer:
        """Evaluate a query and return its answer serialised in `syntax`.

        `max_rows` caps the answer (the public endpoint's limit); None means no cap.
        """

    def select(self, text: str, bindings: dict | None = None, **kwargs) -> list[dict]:
        """Run a SELECT query; return rows of {variable: rdflib term} (unbound variables absent)."""
        answer = self.run_query(text, syntax="json", media_type="application/sparql-results+json",
                                form="SELECT", bindings=bindings, **kwargs)
        return rows_from_json(json.loads(answer.read()))

    def select_values(self, text: str, bindings: dict | None = None, **kwargs) -> list[dict[str, str]]:
        """Run a SELECT query; return rows of {variable: lexical value}, cheaper than rdflib terms for big reads."""
        answer = self.run_query(text, syntax="json", media_type="application/sparql-results+json",
                                form="SELECT", bindings=bindings, **kwargs)
        return [{name: value["value"] for name, value in row.items()}
                for row in json.loads(answer.read())["results"]["bindings"]]

    def ask(self, text: str, bindings: dict | None = None, **kwargs) -> bool:
        answer = self.run_query(text, syntax="json", media_type="application/sparql-results+json",
                                form="ASK", bindings=bindings, **kwargs)
        return bool(json.loads(answer.read())["boolean"])

    def construct(self, text: str, bindings: dict | None = None, **kwargs) -> Graph:
        """Run a CONSTRUCT or DESCRIBE query; return the rdflib graph."""
        answer = self.run_query(text, syntax="ntriples", media_type="application/n-triples",
                                form=query_form(text), bindings=bindings, **kwargs)
        graph = Graph()
        graph.parse(data=answer.read().decode("utf-8"), format="nt")
        return graph

    @abstractmethod
    def reference_facts(self, iris) -> Graph:
        """Return the rdf:type and skos:inScheme statements of the given IRIs (validation context)."""

    @abstractmethod
    def named_graphs(self) -> list[str]:
        """List the IRIs of the named graphs."""

    @abstractmethod
    def export_graph(self, graph: str | None, media_type: str) -> bytes | None:
        """Serialise one graph (None = default graph); None when a named graph does not exist."""

    @abstractmethod
    def count_quads(self) -> int:
        """Count every quad of the dataset."""

    @abstractmethod
    def dump(self, output: BinaryIO, media_type: str) -> int:
        """Write the whole dataset (graphs included) from one consistent snapshot; return the quad count."""

    @abstractmethod
    def snapshot(self):
        """Pin the current state for a series of reads (a context manager yielding a Snapshot)."""

    @property
    def modified(self):
        """When committed data last changed (a timezone-aware datetime), or None when unknown."""
        return None

    @property
    @abstractmethod
    def version(self) -> str:
        """An opaque string that changes whenever committed data changes (for ETags and caches)."""

    # --- writes ---------------------------------------------------------------------------
    @abstractmethod
    def transaction(self, *, timeout: float | None = None):
        """Open a write transaction (a context manager yielding a Transaction); writes are serialised."""

    def is_empty(self) -> bool:
        return self.count_quads() == 0

    def fill_if_empty(self, fill) -> None:
        """Call fill(store) when the store holds nothing (a remote store retries once its engine answers)."""
        if self.is_empty():
            fill(self)
