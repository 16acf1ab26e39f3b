"""Read RDF files of any supported syntax, reporting syntax errors with file, line and column."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from .errors import DataSyntaxError
from .formats import READABLE_SYNTAXES, rdf_syntax_for_extension
from .store.terms import graph_from_triples, parse_into


def syntax_for_path(path: Path):
    """Return the RDF syntax of a file from its extension, or raise DataSyntaxError."""
    syntax = rdf_syntax_for_extension(Path(path).suffix, READABLE_SYNTAXES)
    if syntax is None:
        known = ", ".join("." + s.extension for s in READABLE_SYNTAXES)
        raise DataSyntaxError(f"{path}: unknown RDF file extension (known: {known})")
    return syntax


def parse_quads(path: Path, graph: str | None = None) -> list[ox.Quad]:
    """Parse a file into quads; triples go to `graph` (None = default graph)."""
    path = Path(path)
    syntax = syntax_for_path(path)
    try:
        return list(parse_into(None, syntax.oxigraph, graph, base_iri=path.resolve().as_uri(), path=path))
    except SyntaxError as exc:
        raise DataSyntaxError(f"{path}: {_position(exc)}{exc.msg if hasattr(exc, 'msg') else exc}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataSyntaxError(f"{path}: cannot read: {exc}") from None


def _position(exc: SyntaxError) -> str:
    if getattr(exc, "lineno", None):
        return f"line {exc.lineno}, column {exc.offset or 1}: "
    return ""


def read_graph(path: Path) -> Graph:
    """Parse a file into one rdflib graph (the union of its graphs, for a dataset syntax)."""
    return graph_from_triples(q.triple for q in parse_quads(path))


def load_file_into(store: ox.Store, path: Path, graph: str | None = None) -> int:
    """Add a file's statements to a pyoxigraph store; return the number of quads."""
    quads = parse_quads(path, graph)
    store.extend(quads)
    return len(quads)
