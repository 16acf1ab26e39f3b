"""Keep the dataset in an external SPARQL 1.1 engine (Virtuoso, Oxigraph server, GraphDB, ...).

Reads go to the engine as they come; answers are re-serialised by the embedded store's writers.
Writes run on a scratch copy of the graphs they touch (remote/transaction.py) and are pushed at
commit (remote/pushing.py), one at a time (a lock in this process). The service starts while
the engine is down, answers 502 meanwhile, and carries on when it is back.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef

from ...errors import ForbiddenFeatureError, QuerySyntaxError, UpstreamError
from ...formats import DATASET_SYNTAXES, GRAPH_SYNTAXES, rdf_syntax_for_media_type
from ...queries import load_queries
from ...sparql_text import insert_values, lex, read_prologue
from ..base import Answer, Store, query_form
from ..embedded import UNLIMITED, EmbeddedSnapshot
from ..terms import to_rdflib
from .answers import AnswerWriter, explain_failure, read_solutions, read_triples
from .datasets import DEFAULT_GRAPH, STATE_GRAPH, Catalogue, DatasetSpec
from .dialects import dialect_named
from .engine import Deadline, Engine, closing_stream
from .pushing import GraphChange, Pusher
from .query_text import check_query, dataset_clauses, describe_parts, page_of_select, with_prelude
from .reading import GraphReader
from .runner import READ_ERRORS, QueryRunner, cut_read_error
from .state import ServiceState
from .transaction import RemoteTransaction

log = logging.getLogger(__name__)

HEALTH_TIMEOUT = 3.0  # seconds a health check waits for the engine
CATALOGUE_TTL = 60.0  # seconds a list of the engine's graphs is trusted when the version has not changed
INTERNAL_READ_TIMEOUT = 120.0  # seconds for a read of the service's own (no row cap), e.g. an import's labels
WRITE_TIMEOUT = 600.0  # seconds for each request of a commit, and for reading the graphs a write touches
SNAPSHOT_ATTEMPTS = 3
SNAPSHOT_IN_MEMORY = 1_000_000  # quads up to which a dump's copy of the dataset is kept in memory
DESCRIBE_CHUNK = 200  # resources described per query
FACTS_CHUNK = 500  # IRIs per reference-facts query
CLOSE_WAIT = 120.0  # seconds close() waits for a dump's copy to end
RETRY_SECONDS = (1, 2, 5)  # waits between attempts to reach an engine that was down at start


class RemoteStore(Store):
    """The dataset on an external SPARQL engine, named by SEKG_REMOTE_* settings."""

    kind = "sparql"

    def __init__(self, settings, *, timeout: float | None = None, **_ignored):
        self.settings = settings
        self.dialect = dialect_named(settings.SEKG_REMOTE_DIALECT)
        self.timeout = timeout if timeout is not None else settings.SEKG_QUERY_TIMEOUT
        self.queries = load_queries()
        self.engine: Engine | None = None
        self._write_lock = threading.Lock()
        self._catalogue: tuple[str, float, Catalogue] | None = None  # (version, when, catalogue)
        self._catalogue_lock = threading.Lock()
        self._pending_fill = None
        self._filling = False
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._snapshots = 0  # copies in progress (dumps): close() waits for them
        self._snapshots_done = threading.Condition()

    # --- lifecycle --------------------------------------------------------------------------
    def open(self) -> "RemoteStore":
        """Prepare the engine's client; the engine is not contacted (it may be down at start)."""
        self.engine = Engine(self.settings, self.dialect)
        self.runner = QueryRunner(self.engine, self.dialect)
        self.reader = GraphReader(self.runner, self.queries)
        self.state = ServiceState(self.runner, self.queries, timeout=min(self.timeout, 10.0))
        self.pusher = Pusher(self.engine, self.dialect, timeout=WRITE_TIMEOUT,
                             count=lambda graph: self.reader.count(graph, timeout=WRITE_TIMEOUT))
        return self

    def close(self) -> None:
        """Stop the watcher and wait for copies in progress (they end early once asked to stop).

        A background thread left inside pyoxigraph when the interpreter exits aborts the process.
        """
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
        with self._snapshots_done:
            self._snapshots_done.wait_for(lambda: self._snapshots == 0, timeout=CLOSE_WAIT)
        if self.engine is not None:
            self.engine.close()

    def fill_if_empty(self, fill) -> None:
        """Fill an empty engine with fill(store); if it does not answer, try again in the background."""
        try:
            self._prepare(fill)
        except UpstreamError as exc:
            log.warning("the SPARQL engine does not answer (%s); serving anyway, and retrying", exc.message)
            self._pending_fill = fill
            self._watcher = threading.Thread(target=self._wait_for_engine, name="sekg-engine-watch", daemon=True)
            self._watcher.start()

    def _prepare(self, fill) -> None:
        if fill is not None and self.is_empty():
            log.info("the SPARQL engine holds no data: filling it with the shipped ontology, vocabularies and data")
            self._filling = True
            try:
                fill(self)
            finally:
                self._filling = False
        with self._write_lock:
            if not self.state.exists and self.state.read(fresh=True) == "0":
                self._commit([])  # give the data a version of its own: caches made from other data are not reused

    def _wait_for_engine(self) -> None:
        attempt = 0
        while not self._stop.wait(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]):
            attempt += 1
            try:
                self._prepare(self._pending_fill)
            except UpstreamError:
                continue
            except Exception:  # noqa: BLE001 - logged; the watcher keeps trying rather than dying silently
                log.exception("preparing the SPARQL engine failed")
                continue
            log.info("the SPARQL engine answers again")
            self._pending_fill = None
            return

    def health(self) -> dict:
        detail = {"ok": False, "store": "sparql", "dialect": self.dialect.name, "version": self.state.version}
        if self._filling:
            detail["reason"] = "filling the SPARQL engine with the shipped data"
            return detail
        try:
            self.engine.ping(self.queries["remote_ping"].text, timeout=min(HEALTH_TIMEOUT, self.timeout))
        except UpstreamError as exc:
            detail["reason"] = exc.message
            return detail
        if self._pending_fill is not None:
            detail["reason"] = "the SPARQL engine answers again; preparing it"
            return detail
        detail["ok"] = True
        detail["version"] = self.state.cached()
        return detail

    # --- version and graphs -------------------------------------------------------------------
    @property
    def version(self) -> str:
        return self.state.cached()

    @property
    def modified(self):
        self.state.cached()
        return self.state.modified

    def catalogue(self, *, fresh: bool = False) -> Catalogue:
        """Return the engine's graphs, listed again after a commit or every CATALOGUE_TTL seconds."""
        version = self.state.cached()
        cached = self._catalogue
        if not fresh and cached and cached[0] == version and time.monotonic() - cached[1] < CATALOGUE_TTL:
            return cached[2]
        with self._catalogue_lock:
            rows = self.runner.rows(self.queries[self.dialect.list_graphs_query].text,
                                    spec=DatasetSpec.from_query(False, False), catalogue=Catalogue(),
                                    timeout=self.timeout)
            catalogue = Catalogue.sort((t.value for t in rows.column("g") if isinstance(t, ox.NamedNode)),
                                       self.dialect)
            self._catalogue = (version, time.monotonic(), catalogue)
            return catalogue

    def named_graphs(self) -> list[str]:
        return list(self.catalogue().named)

    def is_empty(self) -> bool:
        return not self.catalogue(fresh=True).data

    def read_graph(self, graph: str) -> list[ox.Triple]:
        """Return the triples of one engine graph (for writes, exports and dumps)."""
        return self.reader.triples(graph, timeout=WRITE_TIMEOUT)

    # --- queries ------------------------------------------------------------------------------
    def run_query(self, text, *, syntax, media_type, form=None, default_graphs=None, named_graphs=None,
                  bindings=None, max_rows=None, timeout=None, base_iri=None, union=False, prefixes=None) -> Answer:
        form = form or query_form(text)
        self._check(text, base_iri)
        if bindings:
            text = insert_values(text, bindings)
        spec = self._spec(text, default_graphs, named_graphs, union)
        if timeout is None:
            # a client's query has a row cap and the client's deadline; an internal read has neither
            # (it is read whole, over HTTP, from a possibly busy engine): it gets longer
            timeout = self.timeout if max_rows is not None else max(self.timeout, INTERNAL_READ_TIMEOUT)
        writer = AnswerWriter(form, syntax, media_type, max_rows or UNLIMITED, prefixes)
        try:
            if form == "DESCRIBE" and not self.dialect.native_describe:
                return writer.triples(self._describe(text, spec, timeout, base_iri))
            opened = self.runner.open(text, form=form, spec=spec, catalogue=self._catalogue_for(spec),
                                      timeout=timeout, max_rows=max_rows, base_iri=base_iri)
            with closing_stream(opened.reply):
                try:
                    if form in {"SELECT", "ASK"}:
                        parsed = read_solutions(opened.stream, self.dialect)
                        if isinstance(parsed, bool):
                            answer = writer.boolean(parsed)
                        else:
                            variables = parsed[0]
                            answer = writer.solutions(*parsed)
                    else:
                        answer = writer.triples(read_triples(opened.stream))
                except READ_ERRORS as exc:
                    raise explain_failure(opened.stream, self.dialect, exc) from None
        except BaseException:
            writer.discard()
            raise
        if opened.cap is not None and not answer.truncated and answer.count >= opened.cap:
            if max_rows is None:  # an internal read needs every row: read it again in pages
                answer.body.close()
                if form != "SELECT" or spec.query_owns:
                    raise cut_read_error(opened.cap)
                return self._paged_select(text, variables, spec, opened.cap, timeout, base_iri,
                                          AnswerWriter(form, syntax, media_type, UNLIMITED, prefixes))
            answer.truncated, answer.limit = True, min(opened.cap, max_rows)  # the engine's own cap was lower
        return answer

    def _paged_select(self, text: str, variables: list[str], spec: DatasetSpec, page: int, timeout: float,
                      base_iri: str | None, writer: AnswerWriter) -> Answer:
        """Read every solution of a SELECT the engine caps (Virtuoso's ResultSetMaxRows), one page at a time.

        Only internal reads (no row cap of their own) come here, and each page makes the engine
        evaluate and sort the whole query again: they get the time a write gets, not a query's.
        Raising the engine's cap above the largest internal read avoids this (docs/deploy.md).
        """
        log.info("the SPARQL engine capped an internal read at %d rows; reading it in pages", page)
        deadline = Deadline(max(timeout, WRITE_TIMEOUT))
        rows, offset = [], 0
        while True:
            deadline.check()
            found = self.runner.rows(with_prelude(page_of_select(text, variables, page, offset), "", base_iri),
                                     spec=spec, catalogue=self._catalogue_for(spec), timeout=deadline.left,
                                     allow_cap=True)
            where = [found.variables.index(name) if name in found.variables else None for name in variables]
            rows += [[row[i] if i is not None else None for i in where] for row in found.rows]
            if len(found.rows) < page:
                break
            offset += page
        try:
            return writer.solutions(variables, iter(rows))
        except BaseException:
            writer.discard()
            raise

    def _check(self, text: str, base_iri: str | None) -> None:
        """Refuse what the embedded store would refuse, and engine built-ins that reach past SPARQL."""
        if self.dialect.built_in_namespaces:
            self._refuse_built_ins(text)
        check_query(text, base_iri)

    def _refuse_built_ins(self, text: str) -> None:
        tokens = lex(text)
        prologue = read_prologue(tokens)
        for token in tokens:
            if token.kind in {"iri", "pname"}:
                try:
                    iri = prologue.resolve(token)
                except QuerySyntaxError:
                    continue  # an undefined prefix: the parser reports it next
                if iri and iri.startswith(self.dialect.built_in_namespaces):
                    raise ForbiddenFeatureError(f"<{iri}> is an engine built-in; this server only runs standard SPARQL")

    @staticmethod
    def _spec(text: str, default_graphs, named_graphs, union: bool) -> DatasetSpec:
        if default_graphs is not None or named_graphs is not None:
            return DatasetSpec.explicit(default_graphs or [], named_graphs or [])
        default, named = dataset_clauses(text)
        if default or named:
            return DatasetSpec.from_query(bool(default), bool(named))
        return DatasetSpec.union() if union else DatasetSpec.internal()

    def _catalogue_for(self, spec: DatasetSpec) -> Catalogue:
        """Return the graph list a dataset needs written out (not needed when the query or client names it)."""
        if spec.query_owns or (spec.default != "all" and spec.named != "all"):
            return Catalogue()
        return self.catalogue()

    def _describe(self, text: str, spec: DatasetSpec, timeout: float, base_iri: str | None):
        """Describe resources as the embedded store does (the engine's own DESCRIBE answers differently)."""
        deadline = Deadline(timeout)
        parts = describe_parts(text, base_iri)
        resources = [ox.NamedNode(iri) for iri in parts.iris]
        if parts.select is not None:
            rows = self.runner.rows(parts.select, spec=spec, catalogue=self._catalogue_for(spec),
                                    timeout=deadline.left)
            if not rows.rows:
                return
            resources += [term for row in rows.rows for term in row if isinstance(term, ox.NamedNode)]
        if parts.default or parts.named:
            spec = DatasetSpec.explicit(parts.default, parts.named)
        resources = list(dict.fromkeys(resources))
        query = self.queries["remote_describe_resources"].text
        for start in range(0, len(resources), DESCRIBE_CHUNK):
            chunk = [to_rdflib(term) for term in resources[start:start + DESCRIBE_CHUNK]]
            opened = self.runner.open(insert_values(query, {"r": chunk}), form="CONSTRUCT", spec=spec,
                                      catalogue=self._catalogue_for(spec), timeout=deadline.left)
            with closing_stream(opened.reply):
                try:
                    yield from read_triples(opened.stream)
                except READ_ERRORS as exc:
                    raise explain_failure(opened.stream, self.dialect, exc) from None

    def reference_facts(self, iris, *, leave_out: set | None = None) -> Graph:
        """Return the rdf:type and skos:inScheme statements of IRIs, from every graph but those left out."""
        leave_out = leave_out or set()
        spec = DatasetSpec.internal(named_except=leave_out - {None}, default=() if None in leave_out else
                                    (DEFAULT_GRAPH,))
        graph = Graph()
        iris = sorted({URIRef(str(iri)) for iri in iris})
        for start in range(0, len(iris), FACTS_CHUNK):
            rows = self.runner.rows(self.queries["remote_reference_facts"].text, spec=spec,
                                    catalogue=self.catalogue(), timeout=self.timeout,
                                    bindings={"s": iris[start:start + FACTS_CHUNK]})
            for row in rows.rows:
                graph.add(tuple(to_rdflib(term) for term in row))
        return graph

    # --- whole graphs and the dataset --------------------------------------------------------------
    def export_graph(self, graph, media_type):
        syntax = rdf_syntax_for_media_type(media_type, GRAPH_SYNTAXES + DATASET_SYNTAXES)
        if graph is not None and graph not in self.catalogue().named:
            return None
        triples = self.read_graph(DEFAULT_GRAPH if graph is None else graph)
        if syntax.oxigraph.supports_datasets:
            name = ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
            return ox.serialize([ox.Quad(t.subject, t.predicate, t.object, name) for t in triples],
                                format=syntax.oxigraph)
        return ox.serialize(triples, format=syntax.oxigraph)

    def count_quads(self) -> int:
        catalogue = self.catalogue()
        if not catalogue.data:
            return 0
        rows = self.runner.rows(self.queries["remote_count_graph_triples"].text,
                                spec=DatasetSpec.explicit((), catalogue.data, replaces_query_dataset=False),
                                catalogue=catalogue, timeout=self.timeout)
        return sum(int(term.value) for term in rows.column("n"))

    @contextlib.contextmanager
    def snapshot(self):
        """Copy the whole dataset into a temporary local store, graph by graph, at one version.

        The version is read before and after; a commit by the service in between makes the copy
        start again. Writes made behind the service's back are not detected.
        """
        with self._snapshots_done:
            if self._stop.is_set():
                raise UpstreamError("the service is stopping")
            self._snapshots += 1
        folder = Path(tempfile.mkdtemp(prefix="snapshot-", dir=self._scratch_dir()))
        try:
            for _ in range(SNAPSHOT_ATTEMPTS):
                version = self.state.read(fresh=True)
                # a small dataset is copied in memory (faster); a big one on disk, in the state folder
                copy = ox.Store() if self.count_quads() <= SNAPSHOT_IN_MEMORY else ox.Store(str(folder / version))
                copy.bulk_extend(self._all_quads(self.catalogue(fresh=True)))  # one call: each writes its own files
                if self.state.read(fresh=True) == version:
                    break
                del copy
                gc.collect()
            else:
                raise UpstreamError("the data kept changing while it was copied for a dump; try again later")
            yield EmbeddedSnapshot(version, copy)
            del copy
        finally:
            gc.collect()
            shutil.rmtree(folder, ignore_errors=True)
            with self._snapshots_done:
                self._snapshots -= 1
                self._snapshots_done.notify_all()

    def _all_quads(self, catalogue: Catalogue):
        for graph in catalogue.data:
            if self._stop.is_set():
                raise UpstreamError("the service is stopping")
            name = ox.DefaultGraph() if graph == DEFAULT_GRAPH else ox.NamedNode(graph)
            for t in self.read_graph(graph):
                yield ox.Quad(t.subject, t.predicate, t.object, name)

    def dump(self, output, media_type: str) -> int:
        syntax = rdf_syntax_for_media_type(media_type, GRAPH_SYNTAXES + DATASET_SYNTAXES)
        with self.snapshot() as snapshot:
            if syntax.oxigraph.supports_datasets:
                return snapshot.write_quads(output, syntax)
            return snapshot.write_triples(output, syntax)

    def _scratch_dir(self) -> Path:
        folder = self.settings.state_dir / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    # --- writes -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self, *, timeout: float | None = None):
        with self._write_turn(timeout):
            self.state.read(fresh=True)  # the version a failed commit is put back to
            tx = RemoteTransaction(self, self.catalogue(fresh=True))
            yield tx
            self._commit(tx.changes())

    def _commit(self, changes: list[GraphChange]) -> None:
        """Push the changes and a new version together (one request where the engine makes it atomic)."""
        if not changes and self.state.exists:
            return
        version, modified, triples = self.state.next()
        self.pusher.push(changes + [GraphChange(STATE_GRAPH, self.state.current_triples(), triples)])
        self.state.committed(version, modified)
        self._catalogue = None
