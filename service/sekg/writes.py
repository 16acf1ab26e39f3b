"""Apply writes (SPARQL Update, Graph Store PUT/POST/DELETE) with permission checks and the SHACL gate.

Order of checks: the token (401), the request itself (400), what it touches (403), then the
write runs in a transaction; the graphs it changed are validated and any violation undoes it (422).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .audit import AuditLog
from .errors import BadRequestError, ForbiddenError, ForbiddenFeatureError, ValidationError
from .sparql_text import ALL_GRAPHS, DEFAULT_GRAPH, add_using, analyse_update, check_complexity, check_federation
from .tokens import Grant
from .validation import validate

log = logging.getLogger(__name__)


@dataclass
class WriteOutcome:
    changes: dict[str, tuple[int, int]]
    created: bool = False
    existed: bool = True


def graph_label(graph: str | None) -> str:
    return "the default graph" if graph in (None, DEFAULT_GRAPH) else f"<{graph}>"


class WriteService:
    def __init__(self, store, audit: AuditLog, settings):
        self.store = store
        self.audit = audit
        self.settings = settings
        self.listeners: list = []  # called with the set of changed graphs after each committed write

    def _committed(self, graphs) -> None:
        changed = {None if g in (None, "DEFAULT", DEFAULT_GRAPH) else g for g in graphs}
        for listener in self.listeners:
            try:
                listener(changed)
            except Exception:  # noqa: BLE001 - a listener's failure must not turn a done write into an error
                log.exception("a write listener failed")

    # --- permissions ----------------------------------------------------------------------
    @staticmethod
    def authorize(grant: Grant, targets: set) -> None:
        """Refuse (403) a write that touches a graph the token does not own."""
        if grant.admin:
            return
        if ALL_GRAPHS in targets:
            raise ForbiddenError("this update may change any graph (CLEAR ALL, DROP NAMED, GRAPH ?g ...); "
                                 "only an operator's token may do that")
        if DEFAULT_GRAPH in targets:
            raise ForbiddenError("this request writes the default graph; a federation token may only write "
                                 f"its own graphs: {', '.join(grant.graphs)}")
        outside = sorted(g for g in targets if not grant.may_write(g))
        if outside:
            raise ForbiddenError(f"the token may not write {', '.join('<' + g + '>' for g in outside)}; "
                                 f"it may write {', '.join(grant.graphs)}")

    # --- validation -----------------------------------------------------------------------
    def _validate(self, tx, graphs) -> None:
        for graph in graphs:
            if graph is not None and not tx.graph_exists(graph):
                continue
            report = validate(tx.graph(graph), tx.reference_facts)
            if not report.conforms:
                raise ValidationError(f"the data written to {graph_label(graph)} violates the shapes "
                                      f"({len(report.violations)} violation(s)); nothing was changed", detail=report)

    def _sizes(self, tx, graphs) -> dict:
        return {g: tx.graph_size(g) for g in graphs}

    # --- SPARQL Update ----------------------------------------------------------------------
    def update(self, grant: Grant, text: str, *, base_iri: str, using: list[str], using_named: list[str]):
        check_complexity(text, "the update")
        analysis = analyse_update(text)
        if "LOAD" in analysis.operations:
            raise ForbiddenFeatureError("LOAD is disabled on this server: send the data itself "
                                        "(INSERT DATA or a Graph Store PUT/POST)")
        check_federation(text, self.settings.SEKG_SERVICE_ALLOWLIST)
        from .sparql_text import check_update_syntax

        check_update_syntax(text, base_iri)
        if using or using_named:
            text = add_using(text, using, using_named)
        self.authorize(grant, analysis.targets)
        with self.store.transaction() as tx:
            explicit = {None if g == DEFAULT_GRAPH else g for g in analysis.targets if g != ALL_GRAPHS}
            before = self._sizes(tx, explicit) if ALL_GRAPHS not in analysis.targets else tx.all_sizes()
            tx.update(text, base_iri=base_iri)
            if ALL_GRAPHS in analysis.targets:
                after = tx.all_sizes()
                touched = {g for g in set(before) | set(after) if before.get(g) != after.get(g)}
            else:
                after = self._sizes(tx, explicit)
                touched = explicit
            self._validate(tx, touched)
        changes = {g or "DEFAULT": (before.get(g, 0), after.get(g, 0)) for g in touched}
        self.audit.record(grant.who, "update", changes, {"operations": analysis.operations})
        self._committed(touched)
        return WriteOutcome(changes)

    # --- Graph Store Protocol ---------------------------------------------------------------
    def put_graph(self, grant: Grant, graph: str | None, parts: list[tuple[bytes, str]], *, base_iri: str):
        self.authorize(grant, {graph or DEFAULT_GRAPH})
        with self.store.transaction() as tx:
            existed = tx.graph_exists(graph)
            before = tx.graph_size(graph) if existed else 0
            tx.drop_graph(graph)
            for data, media_type in parts:
                tx.add_to_graph(graph, data, media_type, base_iri=base_iri)
            if graph is not None:
                tx.create_graph(graph)
            self._validate(tx, [graph])
            after = tx.graph_size(graph)
        self.audit.record(grant.who, "put", {graph or "DEFAULT": (before, after)})
        self._committed({graph})
        return WriteOutcome({graph or "DEFAULT": (before, after)}, created=not existed)

    def post_graph(self, grant: Grant, graph: str | None, parts: list[tuple[bytes, str]], *, base_iri: str):
        self.authorize(grant, {graph or DEFAULT_GRAPH})
        with self.store.transaction() as tx:
            existed = tx.graph_exists(graph)
            before = tx.graph_size(graph) if existed else 0
            for data, media_type in parts:
                tx.add_to_graph(graph, data, media_type, base_iri=base_iri)
            if graph is not None:
                tx.create_graph(graph)
            self._validate(tx, [graph])
            after = tx.graph_size(graph)
        self.audit.record(grant.who, "post", {graph or "DEFAULT": (before, after)})
        self._committed({graph})
        return WriteOutcome({graph or "DEFAULT": (before, after)}, created=not existed)

    def replace_imported_graph(self, grant: Grant | None, graph: str, quads, provenance: dict) -> WriteOutcome:
        """Replace a federation's graph with validated imported quads, with its provenance and report.

        The importer has validated the quads already. The provenance graph's statements about this
        graph and the graph's report graph are replaced in the same transaction.
        """
        if grant is not None:
            self.authorize(grant, {graph})
        with self.store.transaction() as tx:
            before = tx.graph_size(graph) if tx.graph_exists(graph) else 0
            tx.drop_graph(graph)
            tx.add_quads(quads)
            tx.create_graph(graph)
            for target, extra in provenance.items():
                if target == graph + "/report":
                    tx.drop_graph(target)
                else:
                    tx.remove_about(target, graph)
                tx.add_quads(extra)
            after = tx.graph_size(graph)
        who = grant.who if grant is not None else "operator (command line)"
        self.audit.record(who, "import", {graph: (before, after)}, {"quads": len(quads)})
        self._committed({graph})
        return WriteOutcome({graph: (before, after)}, created=before == 0)

    def delete_graph(self, grant: Grant, graph: str | None):
        self.authorize(grant, {graph or DEFAULT_GRAPH})
        with self.store.transaction() as tx:
            existed = tx.graph_exists(graph) if graph is not None else True
            before = tx.graph_size(graph) if existed else 0
            if existed:
                tx.drop_graph(graph)
        if existed:
            self.audit.record(grant.who, "delete", {graph or "DEFAULT": (before, 0)})
            self._committed({graph})
        return WriteOutcome({graph or "DEFAULT": (before, 0)}, existed=existed)


def require_known_graph_iri(graph: str) -> str:
    if not graph or ("://" not in graph and not graph.startswith("urn:")):
        raise BadRequestError(f"{graph!r} is not an absolute graph IRI")
    return graph
