"""Keep the dataset in a persistent on-disk Oxigraph store, with snapshot reads and atomic writes.

Layout of the store folder:
  oxigraph/          the working copy that writes go to (private to the writer)
  checkpoints/NNNN   published, immutable snapshots; readers only ever open these, read-only
  checkpoints/CURRENT the name of the latest published snapshot
  WRITING            present while a write is in progress

A write runs on the working copy; it becomes visible (and durable) only when a new checkpoint
is published. A failed write, or a crash before publication, is undone by restoring the working
copy from the current checkpoint: the latest checkpoint is always exactly the acknowledged state.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import io
import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from ..errors import (DataSyntaxError, QuerySyntaxError, SekgError, StoreLockedError)
from ..formats import DATASET_SYNTAXES, GRAPH_SYNTAXES, READABLE_SYNTAXES, rdf_syntax_for_media_type
from ..config import ALLOCATOR_AUTO
from .allocator import resolve_allocator
from .base import Answer, Snapshot, Store, Transaction, query_form
from .query_worker import run_job
from ..sparql_text import insert_values, is_quick_describe
from .terms import carries_graphs, graph_from_triples, parse_into
from .worker_pool import WorkerPool

log = logging.getLogger(__name__)

KEEP_CHECKPOINTS = 2  # published snapshots kept besides those readers still use
UNLIMITED = 2**62  # internal reads are never cut; the public endpoint passes its cap


def _graph_name(graph: str | None):
    return ox.DefaultGraph() if graph is None else ox.NamedNode(graph)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rdf_format(media_type: str) -> ox.RdfFormat:
    syntax = rdf_syntax_for_media_type(media_type, READABLE_SYNTAXES)
    if syntax is None:
        raise DataSyntaxError(f"unsupported RDF media type {media_type!r}")
    return syntax.oxigraph


class _ListPipe:
    """Collect a worker's messages in-process (used when the store runs without worker processes)."""

    def __init__(self):
        self.messages: list[bytes] = []

    def send_bytes(self, data: bytes) -> None:
        self.messages.append(data)


class EmbeddedTransaction(Transaction):
    def __init__(self, store: "EmbeddedStore"):
        self._store = store

    @property
    def _primary(self) -> ox.Store:
        return self._store._primary

    def update(self, text, *, base_iri=None):
        try:
            self._primary.update(text, base_iri=base_iri)
        except SyntaxError as exc:
            raise QuerySyntaxError(str(exc)) from None
        except OSError as exc:
            raise SekgError(f"update failed: {exc}") from None

    def _parse(self, data, media_type, graph, base_iri):
        fmt = _rdf_format(media_type)
        if carries_graphs(fmt) and graph is not None:
            raise DataSyntaxError(f"{media_type} carries graphs of its own; it cannot be written into one graph")
        try:
            return list(parse_into(io.BytesIO(data), fmt, graph, base_iri=base_iri))
        except SyntaxError as exc:
            raise DataSyntaxError(f"invalid {fmt.name} data: {exc}") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise DataSyntaxError(f"invalid {fmt.name} data: {exc}") from None

    def replace_graph(self, graph, data, media_type, *, base_iri=None):
        quads = self._parse(data, media_type, graph, base_iri)
        self.drop_graph(graph)
        self._primary.extend(quads)
        if graph is not None:
            self._primary.add_graph(ox.NamedNode(graph))

    def add_to_graph(self, graph, data, media_type, *, base_iri=None):
        quads = self._parse(data, media_type, graph, base_iri)
        self._primary.extend(quads)
        if graph is not None:
            self._primary.add_graph(ox.NamedNode(graph))

    def load_file(self, path, syntax, graph=None, progress=None):
        if carries_graphs(syntax.oxigraph) and graph is not None:
            raise DataSyntaxError(f"{path}: {syntax.media_type} carries graphs of its own; do not give --graph")
        count = 0
        with open(path, "rb") as handle:
            batch = []
            try:
                for quad in parse_into(handle, syntax.oxigraph, graph, base_iri=Path(path).resolve().as_uri()):
                    batch.append(quad)
                    if len(batch) >= 50_000:
                        self._primary.extend(batch)
                        count += len(batch)
                        batch = []
                        if progress:
                            progress(handle.tell())
            except (SyntaxError, ValueError) as exc:
                raise DataSyntaxError(f"{path}: {exc}") from None
            self._primary.extend(batch)
            count += len(batch)
            if progress:
                progress(handle.tell())
        if graph is not None:
            self._primary.add_graph(_graph_name(graph))
        return count

    def add_quads(self, quads):
        # The working copy is private until published, so a large write may skip the per-write
        # transaction: a failure restores the copy from the last checkpoint anyway.
        if len(quads) > 50_000:
            self._primary.bulk_extend(quads)
        else:
            self._primary.extend(quads)

    def remove_about(self, graph, subject):
        for quad in list(self._primary.quads_for_pattern(ox.NamedNode(subject), None, None, ox.NamedNode(graph))):
            self._primary.remove(quad)

    def drop_graph(self, graph):
        if graph is None:
            self._primary.clear_graph(ox.DefaultGraph())
            return True
        name = ox.NamedNode(graph)
        existed = self._primary.contains_named_graph(name)
        if existed:
            self._primary.remove_graph(name)
        return existed

    def graph(self, graph):
        return graph_from_triples(self._primary.quads_for_pattern(None, None, None, _graph_name(graph)))

    def graph_exists(self, graph):
        return graph is None or self._primary.contains_named_graph(ox.NamedNode(graph))

    def create_graph(self, graph):
        self._primary.add_graph(ox.NamedNode(graph))

    def graph_size(self, graph):
        return sum(1 for _ in self._primary.quads_for_pattern(None, None, None, _graph_name(graph)))

    def all_sizes(self):
        sizes = {None: self.graph_size(None)}
        for name in self._primary.named_graphs():
            if isinstance(name, ox.NamedNode):
                sizes[name.value] = self.graph_size(name.value)
        return sizes

    def reference_facts(self, iris):
        from ..validation import reference_facts

        return reference_facts(self._primary, iris)


DISTINCT_TRIPLES = "SELECT DISTINCT ?s ?p ?o WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"


class EmbeddedSnapshot(Snapshot):
    def __init__(self, version: str, store: ox.Store):
        self.version = version
        self.store = store

    def write_quads(self, output, syntax) -> int:
        self.store.dump(output, syntax.oxigraph)
        return len(self.store)

    def write_triples(self, output, syntax) -> int:
        count = 0

        def triples():
            nonlocal count
            for solution in self.store.query(DISTINCT_TRIPLES):
                count += 1
                yield ox.Triple(solution[0], solution[1], solution[2])

        ox.serialize(triples(), output, syntax.oxigraph)
        return count


class EmbeddedStore(Store):
    """The persistent Oxigraph store on this machine."""

    kind = "embedded"

    def __init__(self, settings=None, *, path: str | os.PathLike | None = None, workers: int | None = None,
                 threads: int | None = None, allocator: str | None = None, timeout: float | None = None):
        self.path = Path(path if path is not None else settings.store_path).resolve()
        self.worker_count = workers if workers is not None else (settings.SEKG_QUERY_WORKERS if settings else 0)
        self.worker_threads = threads if threads is not None else (settings.SEKG_QUERY_THREADS if settings else 1)
        self.allocator = allocator if allocator is not None else (settings.SEKG_QUERY_ALLOCATOR if settings else ALLOCATOR_AUTO)
        self.timeout = timeout if timeout is not None else (settings.SEKG_QUERY_TIMEOUT if settings else 30.0)
        self._primary: ox.Store | None = None
        self._reader: tuple[str, ox.Store] | None = None
        self._reader_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._lock_file = None
        self._pool: WorkerPool | None = None
        self._current: str | None = None
        self._pinned: set[str] = set()
        self._cleaned_for: str | None = None  # the checkpoint current at the last clean-up check
        self.recovered = False

    # --- paths ----------------------------------------------------------------------------
    @property
    def primary_dir(self) -> Path:
        return self.path / "oxigraph"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def marker(self) -> Path:
        return self.path / "WRITING"

    def checkpoint_path(self, name: str | None = None) -> Path:
        return self.checkpoints_dir / (name or self._current)

    # --- lifecycle ------------------------------------------------------------------------
    def open(self) -> "EmbeddedStore":
        self.path.mkdir(parents=True, exist_ok=True)
        self.checkpoints_dir.mkdir(exist_ok=True)
        self._take_lock()
        current_file = self.checkpoints_dir / "CURRENT"
        self._current = current_file.read_text().strip() if current_file.exists() else None
        if self._current and not self.checkpoint_path().is_dir():
            raise SekgError(f"store {self.path} is damaged: checkpoint {self._current} is missing")
        if self._current and (self.marker.exists() or not self.primary_dir.exists()):
            # a write was in progress when the last process stopped: it was never acknowledged
            log.warning("discarding an unfinished write in %s", self.path)
            self._restore_primary()
            self.recovered = True
        self._primary = ox.Store(str(self.primary_dir))
        if self._current is None:
            self._publish()
        self._remove_stale()
        if self.worker_count:
            self._pool = WorkerPool(self.worker_count, self.worker_threads, resolve_allocator(self.allocator))
            self._pool.start()
        return self

    def close(self) -> None:
        if self._pool:
            self._pool.close()
            self._pool = None
        self._reader = None
        self._primary = None
        gc.collect()
        if self._lock_file:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def _take_lock(self) -> None:
        lock_path = self.path / "sekg.lock"
        handle = open(lock_path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            handle.close()
            raise StoreLockedError(
                f"the store {self.path} is open in {owner}; stop it, or send the change to its HTTP API") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}")
        handle.flush()
        self._lock_file = handle

    # --- snapshots ------------------------------------------------------------------------
    def _restore_primary(self) -> None:
        """Make the working copy equal to the current checkpoint (SST files are immutable: link them)."""
        self._primary = None
        gc.collect()
        if self.primary_dir.exists():
            shutil.rmtree(self.primary_dir)
        source = self.checkpoint_path()
        self.primary_dir.mkdir()
        for item in source.iterdir():
            target = self.primary_dir / item.name
            if item.suffix == ".sst":
                os.link(item, target)
            else:
                shutil.copy2(item, target)
        with contextlib.suppress(FileNotFoundError):
            self.marker.unlink()

    def _publish(self) -> None:
        """Snapshot the working copy and make it the state readers see."""
        number = int(self._current or "0") + 1
        name = f"{number:010d}"
        staging = self.checkpoints_dir / f"tmp-{name}"
        if staging.exists():
            shutil.rmtree(staging)
        self._primary.flush()
        self._primary.backup(str(staging))
        os.rename(staging, self.checkpoints_dir / name)
        pointer = self.checkpoints_dir / "CURRENT.tmp"
        with open(pointer, "w") as handle:
            handle.write(name)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(pointer, self.checkpoints_dir / "CURRENT")
        _fsync_dir(self.checkpoints_dir)
        self._current = name
        with contextlib.suppress(FileNotFoundError):
            self.marker.unlink()
        self._remove_stale()

    def _remove_stale(self) -> None:
        in_use = {self._current} | set(self._pinned)
        if self._pool:
            in_use |= {Path(p).name for p in self._pool.open_checkpoints()}
        if self._reader:
            in_use.add(Path(self._reader[0]).name)
        names = sorted(p.name for p in self.checkpoints_dir.iterdir() if p.is_dir() and p.name.isdigit())
        keep = set(names[-(KEEP_CHECKPOINTS + 1):]) | in_use
        for name in names:
            if name not in keep:
                shutil.rmtree(self.checkpoints_dir / name, ignore_errors=True)
        for stale in self.checkpoints_dir.glob("tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)

    @property
    def version(self) -> str:
        return self._current or "0"

    @property
    def modified(self):
        from datetime import datetime, timezone

        pointer = self.checkpoints_dir / "CURRENT"
        if not pointer.exists():
            return None
        return datetime.fromtimestamp(int(pointer.stat().st_mtime), tz=timezone.utc)

    def _read_store(self) -> ox.Store:
        """Return an in-process read-only view of the current checkpoint."""
        path = str(self.checkpoint_path())
        with self._reader_lock:
            if self._reader is None or self._reader[0] != path:
                self._reader = (path, ox.Store.read_only(path))
            return self._reader[1]

    # --- writes ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self, *, timeout: float | None = None):
        with self._write_turn(timeout):
            self.marker.write_text(str(time.time()))
            try:
                yield EmbeddedTransaction(self)
            except BaseException:
                self._restore_primary()
                self._primary = ox.Store(str(self.primary_dir))
                raise
            self._publish()

    # --- reads ----------------------------------------------------------------------------
    def run_query(self, text, *, syntax, media_type, form=None, default_graphs=None, named_graphs=None,
                  bindings=None, max_rows=None, timeout=None, base_iri=None, union=False, prefixes=None):
        form = form or query_form(text)
        job = {
            "checkpoint": str(self.checkpoint_path()),
            "query": insert_values(text, bindings) if bindings else text,
            "syntax": syntax,
            "max_rows": max_rows or UNLIMITED,
            "default_graphs": default_graphs,
            "named_graphs": named_graphs,
            "union": union,
            "base_iri": base_iri,
            "prefixes": prefixes,
        }
        limit = timeout or self.timeout
        if self._pool and not (form == "DESCRIBE" and is_quick_describe(text)):
            spool, meta = self._pool.run(job, limit)
            self._remove_stale_later()
        else:
            # a few named resources: bounded work, not worth a trip to a worker process
            spool, meta = self._run_in_process(job)
        return Answer(form=form, syntax=syntax, media_type=media_type, body=spool, count=meta.get("count", 0),
                      truncated=meta.get("truncated", False), limit=job["max_rows"])

    def _remove_stale_later(self) -> None:
        # readers may have moved to a newer checkpoint; clean up without holding up the request
        if self._cleaned_for == self._current:
            return
        self._cleaned_for = self._current
        if len(list(self.checkpoints_dir.glob("0*"))) > KEEP_CHECKPOINTS + 3:
            threading.Thread(target=self._remove_stale, daemon=True).start()

    def _run_in_process(self, job):
        import json

        pipe = _ListPipe()
        run_job(self._read_store(), job, pipe)
        spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
        for message in pipe.messages:
            tag, payload = message[:1], message[1:]
            if tag == b"D":
                spool.write(payload)
            elif tag == b"E":
                return spool, json.loads(payload)
            else:
                error = json.loads(payload)
                spool.close()
                if error["kind"] == "syntax":
                    raise QuerySyntaxError(error["message"])
                raise SekgError(f"query evaluation failed: {error['message']}")
        raise SekgError("query produced no answer")

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self._read_store().named_graphs() if isinstance(g, ox.NamedNode))

    def reference_facts(self, iris):
        from ..validation import reference_facts

        return reference_facts(self._read_store(), iris)

    def export_graph(self, graph, media_type):
        syntax = rdf_syntax_for_media_type(media_type, GRAPH_SYNTAXES + DATASET_SYNTAXES)
        store = self._read_store()
        if graph is not None and not store.contains_named_graph(ox.NamedNode(graph)):
            return None
        triples = (q.triple for q in store.quads_for_pattern(None, None, None, _graph_name(graph)))
        if syntax.oxigraph.supports_datasets:
            triples = (ox.Quad(t.subject, t.predicate, t.object, _graph_name(graph)) for t in triples)
        return ox.serialize(triples, format=syntax.oxigraph)

    def graph_quads(self, graph):
        """Yield the quads of one graph from the current snapshot."""
        return self._read_store().quads_for_pattern(None, None, None, _graph_name(graph))

    def count_quads(self) -> int:
        return len(self._read_store())

    def dump(self, output: BinaryIO, media_type: str) -> int:
        syntax = rdf_syntax_for_media_type(media_type, GRAPH_SYNTAXES + DATASET_SYNTAXES)
        store = self._read_store()
        count = len(store)
        if syntax.oxigraph.supports_datasets:
            store.dump(output, syntax.oxigraph)
        else:
            ox.serialize((q.triple for q in store), output, syntax.oxigraph)
        return count

    @contextlib.contextmanager
    def snapshot(self):
        name = self.version
        with self._reader_lock:
            self._pinned.add(name)
        try:
            yield EmbeddedSnapshot(name, ox.Store.read_only(str(self.checkpoint_path(name))))
        finally:
            with self._reader_lock:
                self._pinned.discard(name)

    def backup(self, target: str | os.PathLike) -> None:
        """Copy the current snapshot (an immutable checkpoint) to a new folder."""
        target = Path(target)
        if target.exists() and any(target.iterdir()):
            raise SekgError(f"backup folder {target} exists and is not empty")
        source = self.checkpoint_path()
        shutil.copytree(source, target / "oxigraph", dirs_exist_ok=True)

    def health(self) -> dict:
        ok = self._primary is not None
        detail = {"ok": ok, "store": "embedded", "version": self.version}
        if self._pool:
            detail["workers"] = self._pool.size
            detail["worker_threads"] = self._pool.threads
            detail["worker_allocator"] = self._pool.allocator or "system"
            detail["workers_ok"] = self._pool.ping(timeout=self.timeout)
            detail["ok"] = ok and detail["workers_ok"]
        return detail
