"""Evaluate queries in a separate process, so that a runaway query can be stopped by ending it.

pyoxigraph has no way to cancel a query; a worker that runs past the deadline is killed by the
pool and a fresh one takes its place. Each worker reads a published checkpoint of the store,
opened read-only, so it never sees a write in progress.
"""

from __future__ import annotations

import json
import os
import signal

import pyoxigraph as ox

from ..formats import DATASET_SYNTAXES, GRAPH_SYNTAXES
from ..results import Capped, boolean_text, write_solutions

CHUNK = 64 * 1024
RDF_FORMATS = {s.key: s.oxigraph for s in GRAPH_SYNTAXES + DATASET_SYNTAXES}


class _PipeWriter:
    """Buffer output and send it to the parent in chunks."""

    def __init__(self, conn):
        self.conn = conn
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data) -> int:
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.parts.append(data)
        self.size += len(data)
        if self.size >= CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self.parts:
            self.conn.send_bytes(b"D" + b"".join(self.parts))
            self.parts, self.size = [], 0


def _graphs(iris):
    if iris is None:
        return None
    return [ox.DefaultGraph() if iri is None else ox.NamedNode(iri) for iri in iris]


def run_job(store: ox.Store, job: dict, conn) -> None:
    """Evaluate one query job and stream its serialised answer to `conn`."""
    kwargs = {}
    if job.get("default_graphs") is not None:
        kwargs["default_graph"] = _graphs(job["default_graphs"])
    if job.get("named_graphs") is not None:
        kwargs["named_graphs"] = _graphs(job["named_graphs"])
    if job.get("union"):
        kwargs["use_default_graph_as_union"] = True
    if job.get("base_iri"):
        kwargs["base_iri"] = job["base_iri"]
    try:
        result = store.query(job["query"], **kwargs)
    except SyntaxError as exc:
        conn.send_bytes(b"X" + json.dumps({"kind": "syntax", "message": str(exc)}).encode())
        return
    syntax = job["syntax"]
    out = _PipeWriter(conn)
    meta = {"count": 0, "truncated": False}
    try:
        if isinstance(result, ox.QueryBoolean):
            out.write(boolean_text(syntax, bool(result)))
            meta["count"] = 1
        elif isinstance(result, ox.QuerySolutions):
            variables = [v.value for v in result.variables]
            capped = Capped(result, job["max_rows"])
            rows = ([solution[i] for i in range(len(variables))] for solution in capped)
            write_solutions(syntax, variables, rows, out.write)
            meta.update(count=capped.count, truncated=capped.truncated)
        else:
            capped = Capped(result, job["max_rows"])
            fmt = RDF_FORMATS[syntax]
            items = capped
            if fmt.supports_datasets:
                items = (ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in capped)
            ox.serialize(items, out, fmt, prefixes=job.get("prefixes") or None)
            meta.update(count=capped.count, truncated=capped.truncated)
    except (SyntaxError, ValueError, TypeError, OSError) as exc:
        conn.send_bytes(b"X" + json.dumps({"kind": "evaluation", "message": str(exc)}).encode())
        return
    out.flush()
    conn.send_bytes(b"E" + json.dumps(meta).encode())


def worker_main(conn) -> None:
    """Serve query jobs from the parent until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    store = None
    opened = None
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        if job.get("ping"):
            conn.send_bytes(b"E" + json.dumps({"pid": os.getpid()}).encode())
            continue
        try:
            if opened != job["checkpoint"]:
                store = None
                store = ox.Store.read_only(job["checkpoint"])
                opened = job["checkpoint"]
            run_job(store, job, conn)
        except OSError as exc:
            store, opened = None, None
            conn.send_bytes(b"X" + json.dumps({"kind": "store", "message": str(exc)}).encode())


if __name__ == "__main__":
    import sys
    from multiprocessing.connection import Connection

    worker_main(Connection(int(sys.argv[1])))
