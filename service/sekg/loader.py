"""Validate RDF files against the shapes, then write them to the store in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef

from .errors import ValidationError
from .rdf_files import read_graph, syntax_for_path
from .shipped import ShippedFile, shipped_files, validated_files
from .store.terms import triples_from_graph
from .validation import ReferenceIndex, Report, validate

LOAD_LOCK_WAIT = 3600.0  # a load waits for a running write rather than failing


@dataclass
class FileToLoad:
    path: Path
    graph: str | None


def validate_files(paths: list[Path], *, context_paths: list[Path] | None = None,
                   on_file: Callable[[Path], None] | None = None) -> Report:
    """Validate files together against the shapes, with the other shipped files as context.

    The files are validated as one dataset (a resource may be described across several files);
    each result names the files that describe its focus node. A syntax error raises
    DataSyntaxError naming the file, line and column.
    """
    graphs = {}
    for path in paths:
        if on_file:
            on_file(path)
        graphs[path] = read_graph(path)
    context = [f.path for f in shipped_files()] if context_paths is None else list(context_paths)
    index = ReferenceIndex.from_files([p for p in context if p not in graphs])
    combined = Graph()
    for graph in graphs.values():
        index.store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
                           for t in triples_from_graph(graph))
        combined += graph
    report = validate(combined, index.facts)
    for result in report.results:
        focus = _node(result.focus)
        sources = [str(path) for path, graph in graphs.items() if (focus, None, None) in graph]
        result.source = ", ".join(sources) or None
    return report


def _node(text: str):
    return BNode(text[2:]) if text.startswith("_:") else URIRef(text)


def load_files(store, files: list[FileToLoad], *, validate_first: bool = True,
               progress: Callable[[Path, int, int], None] | None = None,
               on_validate: Callable[[Path], None] | None = None) -> dict:
    """Validate, then load every file in one transaction; on any error nothing is written."""
    if validate_first:
        report = validate_files([f.path for f in files], on_file=on_validate)
        if not report.conforms:
            raise ValidationError(f"{len(report.violations)} SHACL violation(s); nothing was written",
                                  detail=report)
    counts = {}
    with store.transaction(timeout=LOAD_LOCK_WAIT) as tx:
        for item in files:
            syntax = syntax_for_path(item.path)
            size = item.path.stat().st_size
            counts[str(item.path)] = tx.load_file(
                item.path, syntax, item.graph,
                progress=(lambda done, p=item.path, s=size: progress(p, done, s)) if progress else None)
    return counts


def shipped_to_load() -> list[FileToLoad]:
    return [FileToLoad(f.path, f.graph) for f in shipped_files()]


def load_shipped(store, *, validate_first: bool = False, progress=None) -> dict:
    """Fill a store with everything shipped (the shipped data is checked by the test suite)."""
    return load_files(store, shipped_to_load(), validate_first=validate_first, progress=progress)


__all__ = ["FileToLoad", "ShippedFile", "load_files", "load_shipped", "validate_files", "validated_files"]
