"""Write SPARQL results (solutions, booleans, triples) incrementally in every supported syntax."""

from __future__ import annotations

import json
from typing import Callable, Iterable, Iterator
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RDF_DIRLANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#dirLangString"
_dumps = json.JSONEncoder(ensure_ascii=False).encode


def _json_term(term) -> str:
    if isinstance(term, ox.NamedNode):
        return '{"type":"uri","value":' + _dumps(term.value) + "}"
    if isinstance(term, ox.BlankNode):
        return '{"type":"bnode","value":' + _dumps(term.value) + "}"
    if isinstance(term, ox.Literal):
        out = '{"type":"literal","value":' + _dumps(term.value)
        if term.language:
            out += ',"xml:lang":' + _dumps(term.language)
        elif term.datatype.value != XSD_STRING:
            out += ',"datatype":' + _dumps(term.datatype.value)
        return out + "}"
    if isinstance(term, ox.Triple):
        return ('{"type":"triple","value":{"subject":' + _json_term(term.subject) + ',"predicate":'
                + _json_term(term.predicate) + ',"object":' + _json_term(term.object) + "}}")
    raise TypeError(f"unexpected term {term!r}")


def _xml_term(term) -> str:
    if isinstance(term, ox.NamedNode):
        return "<uri>" + escape(term.value) + "</uri>"
    if isinstance(term, ox.BlankNode):
        return "<bnode>" + escape(term.value) + "</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return "<literal xml:lang=" + quoteattr(term.language) + ">" + escape(term.value) + "</literal>"
        if term.datatype.value != XSD_STRING:
            return "<literal datatype=" + quoteattr(term.datatype.value) + ">" + escape(term.value) + "</literal>"
        return "<literal>" + escape(term.value) + "</literal>"
    if isinstance(term, ox.Triple):
        return ("<triple><subject>" + _xml_term(term.subject) + "</subject><predicate>" + _xml_term(term.predicate)
                + "</predicate><object>" + _xml_term(term.object) + "</object></triple>")
    raise TypeError(f"unexpected term {term!r}")


def _csv_field(text: str) -> str:
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_term(term) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return _csv_field("_:" + term.value)
    if isinstance(term, (ox.NamedNode, ox.Literal)):
        return _csv_field(term.value)
    return _csv_field(str(term))


def _tsv_term(term) -> str:
    return "" if term is None else str(term)


def write_solutions(key: str, variables: list[str], rows: Iterable, write: Callable[[str], None]) -> None:
    """Write solutions (sequences of terms or None, in `variables` order) in the syntax `key`."""
    if key == "json":
        write('{"head":{"vars":' + _dumps(variables) + '},"results":{"bindings":[')
        names = [_dumps(v) + ":" for v in variables]
        first = True
        for row in rows:
            parts = [names[i] + _json_term(t) for i, t in enumerate(row) if t is not None]
            write(("{" if first else ",{") + ",".join(parts) + "}")
            first = False
        write("]}}")
    elif key == "xml":
        write('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>')
        write("".join("<variable name=" + quoteattr(v) + "/>" for v in variables) + "</head><results>")
        names = ["<binding name=" + quoteattr(v) + ">" for v in variables]
        for row in rows:
            write("<result>" + "".join(names[i] + _xml_term(t) + "</binding>"
                                       for i, t in enumerate(row) if t is not None) + "</result>")
        write("</results></sparql>\n")
    elif key == "csv":
        write(",".join(_csv_field(v) for v in variables) + "\r\n")
        for row in rows:
            write(",".join(_csv_term(t) for t in row) + "\r\n")
    elif key == "tsv":
        write("\t".join("?" + v for v in variables) + "\n")
        for row in rows:
            write("\t".join(_tsv_term(t) for t in row) + "\n")
    else:
        raise ValueError(f"unknown results syntax {key!r}")


def boolean_text(key: str, value: bool) -> str:
    """Serialise an ASK answer in the syntax `key`."""
    word = "true" if value else "false"
    if key == "json":
        return '{"head":{},"boolean":' + word + "}"
    if key == "xml":
        return ('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/>'
                "<boolean>" + word + "</boolean></sparql>\n")
    if key == "csv":
        return "_askResult\r\n" + word + "\r\n"
    if key == "tsv":
        return "?_askResult\n" + word + "\n"
    raise ValueError(f"unknown results syntax {key!r}")


class Capped:
    """Yield at most `limit` items of an iterator and remember whether more were left."""

    def __init__(self, items: Iterable, limit: int):
        self._items = iter(items)
        self.limit = limit
        self.count = 0
        self.truncated = False

    def __iter__(self) -> Iterator:
        for item in self._items:
            if self.count >= self.limit:
                self.truncated = True
                return
            self.count += 1
            yield item
