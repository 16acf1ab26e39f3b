"""Read an engine's answer as it streams in and write it out again exactly as the embedded store would.

Solutions are asked for as SPARQL XML results and graphs as N-Triples, both parsed incrementally
by pyoxigraph; the answer is then serialised by the same writers as the embedded store's, so a
client cannot tell the backends apart by the bytes (no Virtuoso `typed-literal`, no `__ASK_RETVAL`).
"""

from __future__ import annotations

import tempfile
from http.client import HTTPException

import pyoxigraph as ox

from ...errors import UpstreamError, UpstreamTimeoutError
from ...formats import DATASET_SYNTAXES, GRAPH_SYNTAXES
from ...results import Capped, boolean_text, write_solutions
from ..base import Answer
from .dialects import Dialect
from .engine import Deadline

SPOOL_IN_MEMORY = 1024 * 1024  # answers past this size are spooled to disk
RDF_FORMATS = {s.key: s.oxigraph for s in GRAPH_SYNTAXES + DATASET_SYNTAXES}
XML_RESULTS = "application/sparql-results+xml"
NTRIPLES = "application/n-triples"
_TAIL = 256  # bytes of the answer kept to explain a parse failure


class EngineStream:
    """Read an engine's answer body: enforce the deadline, mend Virtuoso's blank-node labels, keep the tail.

    Virtuoso writes blank nodes as `<bnode>nodeID://b1004</bnode>`, which is not a valid label; the
    prefix is removed as the bytes pass (it cannot occur elsewhere: `<` is escaped in XML text).
    """

    def __init__(self, raw, deadline: Deadline, bnode_prefix: bytes = b""):
        self.raw = raw
        self.deadline = deadline
        self.pattern = b"<bnode>" + bnode_prefix if bnode_prefix else b""
        self.pending = b""
        self.tail = b""
        self.done = False

    def read(self, size: int = -1) -> bytes:
        want = 65536 if size is None or size < 0 else max(size, 64)
        data = b""
        while not data and not (self.done and not self.pending):
            self.deadline.check()
            chunk = self._read_raw(want)
            data, self.pending = self.pending + chunk, b""
            if self.pattern:
                data = data.replace(self.pattern, b"<bnode>")
                keep = len(self.pattern) - 1  # the pattern may be split between two chunks: hold its start back
                if not self.done:
                    data, self.pending = data[:-keep], data[-keep:]
        self.tail = (self.tail + data)[-_TAIL:]
        return data

    def _read_raw(self, size: int) -> bytes:
        if self.done:
            return b""
        try:
            chunk = self.raw.read(size)
        except (OSError, HTTPException) as exc:
            if "timed out" in str(exc):
                raise UpstreamTimeoutError("the SPARQL engine did not finish its answer in time") from None
            raise UpstreamError("the SPARQL engine broke off its answer") from None
        if not chunk:
            self.done = True
        return chunk or b""

    def readable(self) -> bool:
        return True


def explain_failure(stream: EngineStream, dialect: Dialect, exc: Exception) -> UpstreamError:
    """Tell a cancelled answer (the engine's own timeout) from an unreadable one."""
    if isinstance(exc, UpstreamError):
        return exc
    if dialect.cancelled_marker and dialect.cancelled_marker in stream.tail:
        return UpstreamTimeoutError("the SPARQL engine cancelled the query: it takes longer than the engine allows")
    return UpstreamError("the SPARQL engine sent an answer that cannot be read")


def read_solutions(stream: EngineStream, dialect: Dialect):
    """Parse SPARQL XML results: (variables, rows of terms or None) or a boolean."""
    result = ox.parse_query_results(stream, format=ox.QueryResultsFormat.XML)
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    variables = [v.value for v in result.variables]
    if dialect.ask_as_rows and variables == ["__ASK_RETVAL"]:
        return any(True for _ in result)  # Virtuoso answers ASK as a SELECT: a row means true
    return variables, ([solution[i] for i in range(len(variables))] for solution in result)


def read_triples(stream: EngineStream):
    """Parse an N-Triples answer into triples."""
    return (quad.triple for quad in ox.parse(stream, format=ox.RdfFormat.N_TRIPLES))


class AnswerWriter:
    """Serialise solutions, a boolean or triples into a spooled Answer, cut at the row cap."""

    def __init__(self, form: str, syntax: str, media_type: str, limit: int, prefixes=None):
        self.form, self.syntax, self.media_type, self.limit = form, syntax, media_type, limit
        self.prefixes = prefixes
        self.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)

    def _write(self, data) -> int:
        return self.spool.write(data.encode("utf-8") if isinstance(data, str) else data)

    def boolean(self, value: bool) -> Answer:
        self._write(boolean_text(self.syntax, value))
        return self._answer(1, False)

    def solutions(self, variables: list[str], rows) -> Answer:
        capped = Capped(rows, self.limit)
        write_solutions(self.syntax, variables, capped, self._write)
        return self._answer(capped.count, capped.truncated)

    def triples(self, triples) -> Answer:
        capped = Capped(triples, self.limit)
        fmt = RDF_FORMATS[self.syntax]
        items = capped
        if fmt.supports_datasets:
            items = (ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in capped)
        ox.serialize(items, _SpoolWriter(self.spool), fmt, prefixes=self.prefixes or None)
        return self._answer(capped.count, capped.truncated)

    def _answer(self, count: int, truncated: bool) -> Answer:
        return Answer(form=self.form, syntax=self.syntax, media_type=self.media_type, body=self.spool,
                      count=count, truncated=truncated, limit=self.limit)

    def discard(self) -> None:
        self.spool.close()


class _SpoolWriter:
    """Give pyoxigraph a file-like writer that accepts both bytes and text."""

    def __init__(self, spool):
        self.spool = spool

    def write(self, data) -> int:
        return self.spool.write(data.encode("utf-8") if isinstance(data, str) else data)

    def flush(self) -> None:
        pass
