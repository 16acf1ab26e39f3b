"""Write to an external engine through a private scratch copy of the graphs a transaction touches.

A graph is copied from the engine the first time the transaction uses it; updates and loads run
on the copy (so SHACL validation reads exactly what would be committed) and nothing reaches
the engine before commit, when the changed graphs are pushed. The copy is in memory: a write's
cost grows with the size of the graphs it touches, not with the size of the dataset.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from ...errors import DataSyntaxError, SekgError
from ...sparql_text import ALL_GRAPHS, DEFAULT_GRAPH as DEFAULT_TARGET, analyse_update
from ..embedded import EmbeddedTransaction
from ..terms import parse_into
from .datasets import DEFAULT_GRAPH, Catalogue
from .pushing import GraphChange
from .query_text import graphs_mentioned

BATCH = 50_000


def _name(graph: str | None):
    return ox.DefaultGraph() if graph is None else ox.NamedNode(graph)


def engine_graph(graph: str | None) -> str:
    """Return the engine graph that holds a service graph (None = the default graph)."""
    return DEFAULT_GRAPH if graph is None else graph


class RemoteTransaction(EmbeddedTransaction):
    """The embedded store's transaction, run on a scratch store filled from the engine on demand."""

    def __init__(self, store, catalogue: Catalogue):
        super().__init__(store)
        self._remote = store
        self._catalogue = catalogue
        self._scratch = ox.Store()
        self._before: dict[str | None, set | None] = {}

    @property
    def _primary(self) -> ox.Store:
        return self._scratch

    # --- copying from the engine --------------------------------------------------------------
    def _ensure(self, graph: str | None) -> None:
        """Copy a graph from the engine into the scratch store, once."""
        if graph in self._before:
            return
        exists = self._catalogue.has_default if graph is None else graph in self._catalogue.named
        triples = self._remote.read_graph(engine_graph(graph)) if exists else []
        name = _name(graph)
        self._scratch.extend(ox.Quad(t.subject, t.predicate, t.object, name) for t in triples)
        if exists and graph is not None:
            self._scratch.add_graph(name)
        self._before[graph] = set(triples) if exists else None

    def _ensure_all(self) -> None:
        self._ensure(None)
        for graph in self._catalogue.named:
            self._ensure(graph)

    def _ensure_quads(self, quads):
        """Pass quads through, copying each graph they name before it is written."""
        for quad in quads:
            graph = quad.graph_name
            key = None if isinstance(graph, ox.DefaultGraph) else graph.value
            if key not in self._before:
                self._ensure(key)
            yield quad

    # --- the Transaction interface --------------------------------------------------------------
    def update(self, text, *, base_iri=None):
        analysis = analyse_update(text)
        mentioned, variable_graph = graphs_mentioned(text, base_iri)
        if ALL_GRAPHS in analysis.targets or variable_graph:
            self._ensure_all()
        else:
            self._ensure(None)
            for graph in (mentioned & set(self._catalogue.named)) | (analysis.targets - {DEFAULT_TARGET}):
                self._ensure(graph)
        super().update(text, base_iri=base_iri)
        for name in self._scratch.named_graphs():
            if isinstance(name, ox.NamedNode) and name.value not in self._before:
                # the update wrote a graph it was not seen to name: refuse rather than overwrite it
                raise SekgError(f"the update wrote graph <{name.value}>, which the service could not foresee; "
                                "name the graphs it writes with GRAPH <iri>")

    def replace_graph(self, graph, data, media_type, *, base_iri=None):
        self._ensure(graph)
        super().replace_graph(graph, data, media_type, base_iri=base_iri)

    def add_to_graph(self, graph, data, media_type, *, base_iri=None):
        self._ensure(graph)
        super().add_to_graph(graph, data, media_type, base_iri=base_iri)

    def load_file(self, path, syntax, graph=None, progress=None):
        if syntax.oxigraph.supports_datasets and graph is not None:
            raise DataSyntaxError(f"{path}: {syntax.media_type} carries graphs of its own; do not give --graph")
        self._ensure(graph)
        count = 0
        with open(path, "rb") as handle:
            batch = []
            try:
                quads = parse_into(handle, syntax.oxigraph, graph, base_iri=Path(path).resolve().as_uri())
                for quad in self._ensure_quads(quads):
                    batch.append(quad)
                    if len(batch) >= BATCH:
                        self._scratch.extend(batch)
                        count += len(batch)
                        batch = []
                        if progress:
                            progress(handle.tell())
            except SyntaxError as exc:
                raise DataSyntaxError(f"{path}: {exc}") from None
            self._scratch.extend(batch)
            count += len(batch)
            if progress:
                progress(handle.tell())
        if graph is not None:
            self._scratch.add_graph(_name(graph))
        return count

    def add_quads(self, quads):
        self._scratch.extend(list(self._ensure_quads(quads)))

    def remove_about(self, graph, subject):
        self._ensure(graph)
        super().remove_about(graph, subject)

    def drop_graph(self, graph):
        self._ensure(graph)
        return super().drop_graph(graph)

    def graph(self, graph) -> Graph:
        self._ensure(graph)
        return super().graph(graph)

    def graph_exists(self, graph):
        self._ensure(graph)
        return super().graph_exists(graph)

    def create_graph(self, graph):
        self._ensure(graph)
        super().create_graph(graph)

    def graph_size(self, graph):
        self._ensure(graph)
        return super().graph_size(graph)

    def all_sizes(self):
        self._ensure_all()
        return super().all_sizes()

    def reference_facts(self, iris):
        """Read the facts from the engine for the graphs left alone, and from the scratch copy for the rest."""
        from ...validation import reference_facts

        iris = list(iris)
        facts = self._remote.reference_facts(iris, leave_out=set(self._before))
        for triple in reference_facts(self._scratch, iris):
            facts.add(triple)
        return facts

    # --- commit ---------------------------------------------------------------------------------
    def changes(self) -> list[GraphChange]:
        """Compare each copied graph with its state now; list what has to reach the engine."""
        changes = []
        for graph, before in self._before.items():
            name = _name(graph)
            exists = graph is None or self._scratch.contains_named_graph(name)
            after = {q.triple for q in self._scratch.quads_for_pattern(None, None, None, name)} if exists else None
            if graph is None and not after:
                after = None  # an empty default graph needs no stand-in graph on the engine
            if after != before:
                changes.append(GraphChange(engine_graph(graph), before, after))
        return changes
