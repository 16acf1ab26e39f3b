"""Push a transaction's changed graphs to the engine: all at once where it can, else graph by graph with undo.

On an engine that applies a multi-operation update atomically (Oxigraph, and SPARQL 1.1 engines
in general) a commit is one update request, unless it is too big for one. Otherwise (Virtuoso,
or a big commit) each graph is pushed in turn and, if one fails, the graphs already pushed are
put back as they were before: best effort, since the undo itself needs the engine to answer.
A reader may see some graphs changed and others not while such a commit is under way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pyoxigraph as ox

from ...errors import UpstreamError
from .dialects import Dialect
from .engine import Engine

log = logging.getLogger(__name__)

ATOMIC_TRIPLES = 50_000  # past this many triples to send, one update request gets too big
GSP_CHUNK = 50_000  # triples per Graph Store request
BULK_CHUNK = 20_000  # triples per INSERT DATA / DELETE DATA operation where INSERT DATA is fast
SLOW_CHUNK = 200  # ... where it is slow (Virtuoso compiles it: seconds per 1000 triples)


@dataclass
class GraphChange:
    """One engine graph before and after a transaction; None means the graph does not exist."""

    graph: str
    before: set | None
    after: set | None

    @property
    def removed(self) -> set:
        return (self.before or set()) - (self.after or set())

    @property
    def added(self) -> set:
        return (self.after or set()) - (self.before or set())

    def undo(self) -> "GraphChange":
        return GraphChange(self.graph, self.after, self.before)


def _has_bnode(triple) -> bool:
    return isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode)


def _ntriples(triples) -> str:
    return ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES).decode("utf-8")


def _chunks(triples, size: int) -> list[list]:
    """Split triples into chunks; those with blank nodes travel together (a label is scoped to one request)."""
    linked = [t for t in triples if _has_bnode(t)]
    plain = [t for t in triples if not _has_bnode(t)]
    chunks = [linked] if linked else []
    chunks += [plain[i:i + size] for i in range(0, len(plain), size)]
    return chunks


class Pusher:
    """Write graph changes to one engine."""

    def __init__(self, engine: Engine, dialect: Dialect, *, timeout: float, count=None):
        self.engine = engine
        self.dialect = dialect
        self.timeout = timeout
        self.count = count  # count(graph) -> triples on the engine, to check a patch landed as meant
        self.chunk = BULK_CHUNK if dialect.bulk_insert_data else SLOW_CHUNK

    def push(self, changes: list[GraphChange]) -> None:
        """Apply every change, or raise UpstreamError after putting back what was already applied."""
        changes = [c for c in changes if c.before != c.after]
        if not changes:
            return
        size = sum(len(c.removed) + len(c.added) if self._patchable(c) else len(c.after or ()) for c in changes)
        if self.dialect.atomic_updates and size <= ATOMIC_TRIPLES:
            self.engine.update(" ;\n".join(op for c in changes for op in self._operations(c)), timeout=self.timeout)
            return
        done: list[GraphChange] = []
        try:
            for change in changes:
                done.append(change)
                self._apply(change)
        except UpstreamError as exc:
            failed = self._undo(done)
            if failed:
                raise UpstreamError(f"{exc.message}; the graphs written before the failure could not all be put "
                                    f"back ({', '.join('<' + g + '>' for g in failed)})") from None
            raise UpstreamError(f"{exc.message}; nothing was changed") from None

    def _undo(self, done: list[GraphChange]) -> list[str]:
        failed = []
        for change in reversed(done):
            try:
                self._apply(change.undo())
            except UpstreamError:
                log.exception("could not put graph <%s> back after a failed commit", change.graph)
                failed.append(change.graph)
        return failed

    # --- planning ---------------------------------------------------------------------------
    def _patchable(self, change: GraphChange) -> bool:
        """Tell whether a change is sent as its difference rather than as the whole new graph."""
        if not change.before or change.after is None:
            return False
        removed = change.removed
        if any(_has_bnode(t) for t in removed):
            return False  # a blank node of the engine cannot be named in DELETE DATA
        return len(removed) <= self.chunk * 10 and len(removed) + len(change.added) <= len(change.after)

    def _operations(self, change: GraphChange) -> list[str]:
        """Write one change as SPARQL update operations (for one atomic request)."""
        name = str(ox.NamedNode(change.graph))
        if change.after is None:
            return [f"DROP SILENT GRAPH {name}"]
        if self._patchable(change):
            ops = [f"DELETE DATA {{ GRAPH {name} {{ {_ntriples(c)} }} }}" for c in _chunks(change.removed, self.chunk)]
            return ops + self._inserts(name, change.added)
        ops = [f"DROP SILENT GRAPH {name}"]
        if not change.after and self.dialect.keeps_empty_graphs:
            ops.append(f"CREATE SILENT GRAPH {name}")
        return ops + self._inserts(name, change.after)

    def _inserts(self, name: str, triples) -> list[str]:
        ops = []
        for chunk in _chunks(triples, self.chunk):
            if self.dialect.bulk_insert_data or not any(_has_bnode(t) for t in chunk):
                ops.append(f"INSERT DATA {{ GRAPH {name} {{ {_ntriples(chunk)} }} }}")
            else:
                # Virtuoso refuses blank nodes in INSERT DATA; a template with an empty WHERE takes them
                ops.append(f"INSERT {{ GRAPH {name} {{ {_ntriples(chunk)} }} }} WHERE {{ }}")
        return ops

    # --- one graph at a time ----------------------------------------------------------------
    def _apply(self, change: GraphChange) -> None:
        name = str(ox.NamedNode(change.graph))
        if change.after is None:
            self.engine.update(f"DROP SILENT GRAPH {name}", timeout=self.timeout)
        elif self._patchable(change):
            for chunk in _chunks(change.removed, self.chunk):
                self.engine.update(f"DELETE DATA {{ GRAPH {name} {{ {_ntriples(chunk)} }} }}", timeout=self.timeout)
            self._add(change.graph, name, change.added)
            if self.count is not None and self.count(change.graph) != len(change.after):
                # a literal the engine stores in another form (Virtuoso: "x" vs "x"^^xsd:string) was not
                # matched by DELETE DATA: send the whole graph instead
                log.warning("patching <%s> left a different graph on the engine; replacing it whole", change.graph)
                self._apply(GraphChange(change.graph, None, change.after))
        elif self.engine.gsp_url and change.after:
            chunks = _chunks(change.after, GSP_CHUNK)
            self.engine.put_graph(change.graph, _ntriples(chunks[0]).encode(), timeout=self.timeout)
            for chunk in chunks[1:]:
                self.engine.post_graph(change.graph, _ntriples(chunk).encode(), timeout=self.timeout)
        else:
            for op in self._operations(GraphChange(change.graph, change.before, change.after)):
                self.engine.update(op, timeout=self.timeout)

    def _add(self, graph: str, name: str, triples) -> None:
        if not triples:
            return
        if self.engine.gsp_url and not self.dialect.bulk_insert_data:
            for chunk in _chunks(triples, GSP_CHUNK):
                self.engine.post_graph(graph, _ntriples(chunk).encode(), timeout=self.timeout)
            return
        for op in self._inserts(name, triples):
            self.engine.update(op, timeout=self.timeout)
