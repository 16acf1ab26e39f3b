"""Validate RDF against the project's SHACL shapes, with the code lists and references as context.

The shapes check code-list membership (skos:inScheme) and classes (sh:class) of the resources the
data points at. Those resources usually live elsewhere (the CPV vocabulary, an organisation in
another graph), so the validator adds their rdf:type and skos:inScheme statements, looked up in
a reference index, before running pySHACL; results about those added resources are dropped.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, SKOS

from .namespaces import bind_prefixes
from .paths import ONTOLOGY_FILE, REUSED_TERMS_FILE, SHAPES_DIR
from .store.terms import to_rdflib

# pySHACL patches rdflib globals when it is imported; importing it lazily keeps that out of
# processes that never validate (query workers).
_pyshacl_lock = threading.Lock()

CONTEXT_PREDICATES = (RDF.type, SKOS.inScheme)


@dataclass
class Result:
    severity: str  # "Violation" | "Warning" | "Info"
    focus: str
    path: str | None
    value: str | None
    messages: dict[str, str]
    shape: str | None
    constraint: str | None
    source: str | None = None  # file or graph the focus node came from, when known

    def message(self, language: str = "en") -> str:
        return self.messages.get(language) or self.messages.get("") or next(iter(self.messages.values()), "")

    def as_json(self) -> dict:
        out = {
            "severity": self.severity,
            "focusNode": self.focus,
            "resultPath": self.path,
            "value": self.value,
            "message": self.messages,
            "sourceShape": self.shape,
            "sourceConstraintComponent": self.constraint,
        }
        if self.source:
            out["source"] = self.source
        return out


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)

    @property
    def violations(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Warning"]

    @property
    def conforms(self) -> bool:
        return not self.violations

    def extend(self, other: "Report", source: str | None = None) -> None:
        for result in other.results:
            if source and not result.source:
                result.source = source
            self.results.append(result)

    def as_json(self) -> dict:
        return {
            "conforms": self.conforms,
            "violations": len(self.violations),
            "warnings": len(self.warnings),
            "results": [r.as_json() for r in self.results],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_json(), ensure_ascii=False, indent=2)

    def to_graph(self) -> Graph:
        """Return the report as a SHACL sh:ValidationReport graph."""
        graph = bind_prefixes(Graph())
        report = BNode()
        graph.add((report, RDF.type, SH.ValidationReport))
        graph.add((report, SH.conforms, Literal(self.conforms)))
        for result in self.results:
            node = BNode()
            graph.add((report, SH.result, node))
            graph.add((node, RDF.type, SH.ValidationResult))
            graph.add((node, SH.resultSeverity, SH[result.severity]))
            graph.add((node, SH.focusNode, _term(result.focus)))
            if result.path:
                graph.add((node, SH.resultPath, URIRef(result.path)))
            if result.value is not None:
                graph.add((node, SH.value, _term(result.value)))
            for language, text in result.messages.items():
                graph.add((node, SH.resultMessage, Literal(text, lang=language or None)))
            if result.shape:
                graph.add((node, SH.sourceShape, URIRef(result.shape)))
            if result.constraint:
                graph.add((node, SH.sourceConstraintComponent, URIRef(result.constraint)))
        return graph

    def to_turtle(self) -> str:
        return self.to_graph().serialize(format="turtle")


def _term(text: str):
    if text.startswith("_:"):
        return BNode(text[2:])
    if "://" in text or text.startswith("urn:"):
        return URIRef(text)
    return Literal(text)


@lru_cache(maxsize=1)
def shapes_graph() -> Graph:
    """Load every shapes file of shapes/ once."""
    graph = Graph()
    for path in sorted(SHAPES_DIR.glob("*.ttl")):
        if path.name.startswith("dcatapit"):
            continue  # the catalogue profile is checked on its own, not on written data
        graph.parse(path, format="turtle")
    return graph


@lru_cache(maxsize=1)
def ontology_graph() -> Graph:
    """Load the ontology with the reused terms (their labels and the subclass axioms of their vocabularies)."""
    graph = Graph()
    graph.parse(ONTOLOGY_FILE, format="turtle")
    graph.parse(REUSED_TERMS_FILE, format="turtle")
    return graph


@lru_cache(maxsize=1)
def _class_axioms() -> Graph:
    """Return the ontology's subclass axioms: sh:class follows rdfs:subClassOf in the data graph."""
    graph = Graph()
    for triple in ontology_graph().triples((None, RDFS.subClassOf, None)):
        graph.add(triple)
    return graph


class ReferenceIndex:
    """Answer 'what type and scheme has this IRI?' from a pyoxigraph store (any graph)."""

    def __init__(self, store: ox.Store | None = None):
        self.store = store if store is not None else ox.Store()

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> "ReferenceIndex":
        from .rdf_files import load_file_into

        index = cls()
        for path in paths:
            load_file_into(index.store, path)
        return index

    def facts(self, iris: Iterable[URIRef]) -> Graph:
        return reference_facts(self.store, iris)


def reference_facts(store: ox.Store, iris: Iterable[URIRef]) -> Graph:
    """Collect the rdf:type and skos:inScheme statements of IRIs from every graph of a store."""
    graph = Graph()
    for iri in iris:
        subject = ox.NamedNode(str(iri))
        for predicate in CONTEXT_PREDICATES:
            for quad in store.quads_for_pattern(subject, ox.NamedNode(str(predicate)), None, None):
                graph.add((URIRef(str(iri)), predicate, to_rdflib(quad.object)))
    return graph


def referenced_iris(data: Graph) -> set[URIRef]:
    """Return the IRIs the data points at without describing them itself."""
    subjects = set(data.subjects())
    return {o for o in data.objects() if isinstance(o, URIRef) and o not in subjects} | \
           {o for o in data.objects(None, RDF.type) if isinstance(o, URIRef)} - subjects


def validate(data: Graph, lookup: Callable[[set[URIRef]], Graph] | None = None) -> Report:
    """Validate a graph against the shapes; `lookup` supplies type/scheme facts of referenced IRIs."""
    import pyshacl

    combined = Graph()
    for triple in data:
        combined.add(triple)
    if lookup is not None:
        for triple in lookup(referenced_iris(data)):
            combined.add(triple)
    for triple in _class_axioms():
        combined.add(triple)
    with _pyshacl_lock:
        conforms, results_graph, _ = pyshacl.validate(
            combined, shacl_graph=shapes_graph(), inference="none", advanced=False,
            allow_warnings=True, abort_on_first=False)
    described = set(data.subjects())
    report = Report()
    for node in results_graph.subjects(RDF.type, SH.ValidationResult):
        focus = results_graph.value(node, SH.focusNode)
        if focus not in described:
            continue
        result = _result_from_graph(results_graph, node)
        if set(result.messages) <= {""} and result.shape:
            # pySHACL drops the language tags of SPARQL-constraint messages: take them from the shape
            result.messages = _shape_messages(result.shape) or result.messages
        report.results.append(result)
    report.results.sort(key=lambda r: (r.severity != "Violation", r.focus, r.path or "", r.shape or ""))
    return report


@lru_cache(maxsize=256)
def _shape_messages(shape: str) -> dict[str, str]:
    return {m.language or "": str(m) for m in shapes_graph().objects(URIRef(shape), SH.message)}


def _result_from_graph(graph: Graph, node) -> Result:
    severity = graph.value(node, SH.resultSeverity)
    path = graph.value(node, SH.resultPath)
    value = graph.value(node, SH.value)
    messages = {}
    for message in graph.objects(node, SH.resultMessage):
        messages[message.language or ""] = str(message)
    shape = graph.value(node, SH.sourceShape)
    return Result(
        severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
        focus=_n3_id(graph.value(node, SH.focusNode)),
        path=str(path) if isinstance(path, URIRef) else None,
        value=_n3_id(value) if value is not None else None,
        messages=messages,
        shape=str(shape) if isinstance(shape, URIRef) else None,
        constraint=str(graph.value(node, SH.sourceConstraintComponent) or "") or None,
    )


def _n3_id(term) -> str:
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)
