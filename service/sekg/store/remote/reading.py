"""Read whole graphs from the engine: in one answer, or page by page where the engine caps every answer.

Virtuoso cuts every answer (Graph Store GETs and CONSTRUCTs included) at ResultSetMaxRows, and
refuses ORDER BY past 10000 rows, so a big graph is read as unordered LIMIT/OFFSET pages of a
CONSTRUCT. Unordered pages are only trusted when their distinct triples add up to the graph's
COUNT; otherwise the read is retried once and then refused, never returned short.
"""

from __future__ import annotations

import logging

import pyoxigraph as ox
from rdflib import URIRef

from ...errors import UpstreamError
from .answers import EngineStream, explain_failure, read_triples
from .datasets import Catalogue, DatasetSpec
from ...sparql_text import insert_values
from .engine import Deadline, closing_stream
from .query_text import append_page
from .runner import READ_ERRORS, QueryRunner

log = logging.getLogger(__name__)

ATTEMPTS = 2


class GraphReader:
    """Read the triples of one engine graph."""

    def __init__(self, runner: QueryRunner, queries):
        self.runner = runner
        self.engine = runner.engine
        self.dialect = runner.dialect
        self.queries = queries
        self.page_rows: int | None = None  # the engine's row cap, once an answer has shown it

    def triples(self, graph: str, *, timeout: float) -> list[ox.Triple]:
        """Return every triple of a graph (empty when the graph does not exist)."""
        if self.dialect.capped_graph_reads:
            return self._paged(graph, timeout)
        if self.engine.gsp_url:
            return self._gsp(graph, timeout)
        return self._construct(graph, timeout)

    def _spec(self, graph: str) -> DatasetSpec:
        return DatasetSpec.explicit((), (graph,), replaces_query_dataset=False)

    def _gsp(self, graph: str, timeout: float) -> list[ox.Triple]:
        response = self.engine.get_graph(graph, timeout=timeout)
        if response is None:
            return []
        response.raw.decode_content = True
        stream = EngineStream(response.raw, Deadline(timeout))
        try:
            return list(read_triples(stream))
        except READ_ERRORS as exc:
            raise explain_failure(stream, self.dialect, exc) from None
        finally:
            response.close()

    def _construct(self, graph: str, timeout: float, page: tuple[int, int] | None = None) -> list[ox.Triple]:
        """Read a graph (or one LIMIT/OFFSET page of it) with a CONSTRUCT answered in N-Triples."""
        text = insert_values(self.queries["remote_graph_statements"].text, {"g": URIRef(graph)})
        if page is not None:
            text = append_page(text, *page)
        opened = self.runner.open(text, form="CONSTRUCT", spec=self._spec(graph), catalogue=Catalogue(),
                                  timeout=timeout)
        with closing_stream(opened.reply):
            try:
                return list(read_triples(opened.stream))
            except READ_ERRORS as exc:
                raise explain_failure(opened.stream, self.dialect, exc) from None

    def count(self, graph: str, *, timeout: float) -> int:
        """Count a graph's triples on the engine."""
        rows = self.runner.rows(self.queries["remote_count_graph_triples"].text, spec=self._spec(graph),
                                catalogue=Catalogue(), timeout=timeout, bindings={"g": URIRef(graph)})
        return sum(int(term.value) for term in rows.column("n"))

    def _paged(self, graph: str, timeout: float) -> list[ox.Triple]:
        deadline = Deadline(timeout)
        for _ in range(ATTEMPTS):
            expected = self.count(graph, timeout=deadline.left)
            if expected == 0:
                return []
            found = self._pages(graph, expected, deadline)
            if len(found) == expected:
                return list(found)
            log.warning("paged read of <%s> gave %d distinct triples for %d counted; reading again",
                        graph, len(found), expected)
        raise UpstreamError(f"reading graph <{graph}> from the SPARQL engine gave inconsistent pages; "
                            "raise the engine's result cap (Virtuoso: ResultSetMaxRows) above the graph's size")

    def _pages(self, graph: str, expected: int, deadline: Deadline) -> set[ox.Triple]:
        # N-Triples, because Virtuoso writes XML results four times slower; a CONSTRUCT answer is cut
        # at the row cap too (without saying so): an answer shorter than the COUNT reveals the cap
        if self.page_rows is None or self.page_rows >= expected:
            triples = self._construct(graph, deadline.left)
            if len(triples) >= expected or not triples:
                return set(triples)
            self.page_rows = len(triples)
        found: set[ox.Triple] = set()
        offset = 0
        while offset < expected:
            page = self._construct(graph, deadline.left, (self.page_rows, offset))
            found.update(page)
            if len(page) < self.page_rows:
                break
            offset += self.page_rows
        return found
