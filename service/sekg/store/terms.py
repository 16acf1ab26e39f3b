"""Convert RDF terms between pyoxigraph, rdflib and the SPARQL JSON results format."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def to_rdflib(term) -> Node:
    """Turn a pyoxigraph term into the equal rdflib term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value, datatype=None if datatype == XSD_STRING else URIRef(datatype))
    raise TypeError(f"cannot convert {term!r} to rdflib")


def to_oxigraph(term: Node):
    """Turn an rdflib term into the equal pyoxigraph term."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"cannot convert {term!r} to pyoxigraph")


def graph_from_triples(triples, graph: Graph | None = None) -> Graph:
    """Fill an rdflib graph from pyoxigraph triples or quads."""
    graph = Graph() if graph is None else graph
    add = graph.add
    for t in triples:
        add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    return graph


def triples_from_graph(graph: Graph):
    """Yield pyoxigraph triples from an rdflib graph."""
    for s, p, o in graph:
        yield ox.Triple(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o))


def from_json_binding(value: dict) -> Node:
    """Turn one SPARQL JSON results binding into an rdflib term."""
    kind = value["type"]
    if kind == "uri":
        return URIRef(value["value"])
    if kind == "bnode":
        return BNode(value["value"])
    if kind in {"literal", "typed-literal"}:
        if "xml:lang" in value:
            return Literal(value["value"], lang=value["xml:lang"])
        datatype = value.get("datatype")
        if datatype == XSD_STRING:
            datatype = None
        return Literal(value["value"], datatype=URIRef(datatype) if datatype else None)
    raise ValueError(f"unsupported binding type {kind!r}")


def rows_from_json(document: dict) -> list[dict]:
    """Turn a SPARQL JSON SELECT result into rows of {variable: rdflib term}."""
    return [{name: from_json_binding(value) for name, value in binding.items()}
            for binding in document["results"]["bindings"]]


def carries_graphs(fmt: ox.RdfFormat) -> bool:
    """Tell whether a syntax names its graphs (N-Quads, TriG).

    JSON-LD can, but is a graph syntax to the Graph Store protocol and to `sekg load --graph`:
    its default graph is written into the target graph.
    """
    return fmt.supports_datasets and fmt != ox.RdfFormat.JSON_LD


def parse_into(source, fmt: ox.RdfFormat, graph: str | None, *, base_iri: str | None = None, path=None):
    """Parse RDF and yield quads; a triple syntax goes to `graph` (None = default graph).

    Blank nodes get fresh identifiers, so that two documents never share one by accident.
    """
    target = ox.NamedNode(graph) if graph else ox.DefaultGraph()
    kwargs = {"format": fmt, "base_iri": base_iri, "rename_blank_nodes": True}
    quads = ox.parse(path=str(path), **kwargs) if path is not None else ox.parse(source, **kwargs)
    if fmt.supports_datasets and (graph is None or carries_graphs(fmt)):
        yield from quads
    else:
        for quad in quads:
            if not isinstance(quad.graph_name, ox.DefaultGraph):
                # writing it into the target graph would merge graphs the document keeps apart
                raise ValueError("the JSON-LD document names graphs of its own (@graph with @id); "
                                 "send only its default graph, or N-Quads or TriG")
            yield ox.Quad(quad.subject, quad.predicate, quad.object, target)
