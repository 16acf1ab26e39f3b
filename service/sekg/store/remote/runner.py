"""Send one query to the engine with its dataset, deadline and row cap, and open its answer."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import UpstreamError, UpstreamTimeoutError
from ...sparql_text import insert_values
from .answers import NTRIPLES, XML_RESULTS, EngineStream, explain_failure, read_solutions
from .datasets import Catalogue, DatasetSpec, render
from .dialects import Dialect
from .engine import Deadline, Engine, Reply, closing_stream
from .query_text import (fill_empty_graph_patterns, graph_constants, insert_dataset_clauses, strip_dataset_clauses,
                         with_prelude)

READ_ERRORS = (SyntaxError, ValueError, OSError)  # what pyoxigraph raises on a broken or cut answer


@dataclass
class Opened:
    """An answer whose body is still to be read, and the row cap the engine says it applied."""

    reply: Reply
    stream: EngineStream
    cap: int | None


@dataclass
class Rows:
    """A SELECT answer read to the end."""

    variables: list[str]
    rows: list[list]
    cap: int | None

    def column(self, name: str) -> list:
        index = self.variables.index(name)
        return [row[index] for row in self.rows]

    def dicts(self) -> list[dict]:
        return [{v: t for v, t in zip(self.variables, row) if t is not None} for row in self.rows]


class QueryRunner:
    """Run queries on one engine the way its dialect needs."""

    def __init__(self, engine: Engine, dialect: Dialect):
        self.engine = engine
        self.dialect = dialect

    def open(self, text: str, *, form: str, spec: DatasetSpec, catalogue: Catalogue, timeout: float,
             max_rows: int | None = None, base_iri: str | None = None) -> Opened:
        """Send a query; solutions are asked for as SPARQL XML results, graphs as N-Triples."""
        dialect = self.dialect
        if not dialect.empty_graph_patterns:
            text = fill_empty_graph_patterns(text)
        constants = graph_constants(text) if dialect.dataset_in_text else ()
        rendered = render(spec, dialect, catalogue, constants)
        if rendered.strip_from:
            text = strip_dataset_clauses(text)
        if rendered.clauses:
            text = insert_dataset_clauses(text, *rendered.clauses)
        text = with_prelude(text, rendered.prelude, base_iri)
        params = list(rendered.params)
        if max_rows is not None and dialect.max_rows_param:
            params.append((dialect.max_rows_param, str(max_rows + 1)))  # one more row tells a cut answer
        if dialect.timeout_param:
            # the engine stops the query itself at our deadline instead of working on for nobody
            params.append((dialect.timeout_param, str(max(1, int(timeout * 1000)))))
        deadline = Deadline(timeout)
        accept = XML_RESULTS if form in {"SELECT", "ASK"} else NTRIPLES
        reply = self.engine.query(text, accept=accept, params=params, timeout=timeout)
        if dialect.partial_result_header and reply.header(dialect.partial_result_header) in \
                dialect.partial_result_states:
            # Virtuoso's "anytime" answer: complete-looking, but cut when the time ran out
            with closing_stream(reply):
                pass
            raise UpstreamTimeoutError(f"the SPARQL engine stopped the query after {timeout:g} s")
        cap_header = reply.header(dialect.row_cap_header) if dialect.row_cap_header else None
        cap = int(cap_header) if cap_header and cap_header.strip().isdigit() else None
        return Opened(reply, EngineStream(reply.stream, deadline, dialect.bnode_prefix), cap)

    def rows(self, text: str, *, spec: DatasetSpec, catalogue: Catalogue, timeout: float,
             bindings: dict | None = None, allow_cap: bool = False) -> Rows:
        """Run an internal SELECT and read it whole; an answer the engine cut is an error unless allowed."""
        if bindings:
            text = insert_values(text, bindings)
        opened = self.open(text, form="SELECT", spec=spec, catalogue=catalogue, timeout=timeout)
        with closing_stream(opened.reply):
            try:
                parsed = read_solutions(opened.stream, self.dialect)
                variables, rows = parsed
                rows = list(rows)
            except READ_ERRORS as exc:
                raise explain_failure(opened.stream, self.dialect, exc) from None
        if opened.cap is not None and len(rows) >= opened.cap and not allow_cap:
            raise cut_read_error(opened.cap)
        return Rows(variables, rows, opened.cap)

    def ask(self, text: str, *, spec: DatasetSpec, catalogue: Catalogue, timeout: float) -> bool:
        opened = self.open(text, form="ASK", spec=spec, catalogue=catalogue, timeout=timeout)
        with closing_stream(opened.reply):
            try:
                return bool(read_solutions(opened.stream, self.dialect))
            except READ_ERRORS as exc:
                raise explain_failure(opened.stream, self.dialect, exc) from None


def cut_read_error(cap: int) -> UpstreamError:
    return UpstreamError(f"the SPARQL engine cut an internal read at {cap} rows; raise its result cap "
                         "(Virtuoso: ResultSetMaxRows in [SPARQL])")
