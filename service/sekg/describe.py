"""Gather what a resource's document holds: its statements, blank-node details, what points at it,
the labels of everything shown, and the provenance of the graphs the statements come from."""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF

from .namespaces import bind_prefixes

DEFAULT = "DEFAULT"


@dataclass
class Description:
    iri: URIRef
    statements: dict[tuple, set] = field(default_factory=dict)  # (p, o) -> graphs
    parts: dict[object, dict[tuple, set]] = field(default_factory=dict)  # part -> (p, o) -> graphs
    incoming: dict[tuple, set] = field(default_factory=dict)  # (s, p) -> graphs
    incoming_parts: dict[URIRef, dict[tuple, set]] = field(default_factory=dict)  # n-ary link -> (p, o) -> graphs
    labels: dict[URIRef, dict[str, str]] = field(default_factory=dict)  # iri -> language -> label
    sources: dict[URIRef, dict[URIRef, list]] = field(default_factory=dict)  # graph -> p -> [o]

    @property
    def exists(self) -> bool:
        return bool(self.statements or self.incoming)

    @property
    def graphs(self) -> set:
        found = set()
        for graphs in list(self.statements.values()) + list(self.incoming.values()):
            found |= graphs
        return found

    def types(self) -> list[URIRef]:
        return sorted(o for (p, o) in self.statements if p == RDF.type)

    def values(self, predicate) -> list:
        return [o for (p, o) in self.statements if p == predicate]

    def part_values(self, part, predicate) -> list:
        return [o for (p, o) in self.parts.get(part, {}) if p == predicate]

    def label(self, iri, language: str = "en") -> str | None:
        """Return the best label of an IRI in a language (then untagged, English, Italian, any)."""
        labels = self.labels.get(iri) or {}
        for key in (language, "", "en", "it"):
            if labels.get(key):
                return labels[key]
        return next(iter(labels.values()), None)

    def triples(self) -> Graph:
        """Return the document as one graph: statements, blank nodes, incoming links, labels, provenance."""
        graph = bind_prefixes(Graph())
        for (p, o) in self.statements:
            graph.add((self.iri, p, o))
        for node, statements in list(self.parts.items()) + list(self.incoming_parts.items()):
            for (p, o) in statements:
                graph.add((node, p, o))
        for (s, p) in self.incoming:
            graph.add((s, p, self.iri))
        for iri, labels in self.labels.items():
            if iri == self.iri:
                continue
            for language, text in labels.items():
                graph.add((iri, URIRef("http://www.w3.org/2004/02/skos/core#prefLabel"),
                           Literal(text, lang=language or None)))
        for source, properties in self.sources.items():
            for p, objects in properties.items():
                for o in objects:
                    graph.add((source, p, o))
        return graph

    def dataset(self) -> Dataset:
        """Return the document with each statement in the named graph it comes from."""
        dataset = Dataset()
        bind_prefixes(dataset)

        def target(graph_name):
            return dataset.default_context if graph_name == DEFAULT else dataset.graph(URIRef(graph_name))

        for (p, o), graphs in self.statements.items():
            for g in graphs:
                target(g).add((self.iri, p, o))
        for node, statements in list(self.parts.items()) + list(self.incoming_parts.items()):
            for (p, o), graphs in statements.items():
                for g in graphs:
                    target(g).add((node, p, o))
        for (s, p), graphs in self.incoming.items():
            for g in graphs:
                target(g).add((s, p, self.iri))
        provenance = dataset.graph(URIRef("https://w3id.org/sekg/graph/provenance"))
        for source, properties in self.sources.items():
            for p, objects in properties.items():
                for o in objects:
                    provenance.add((source, p, o))
        return dataset


def describe_resource(store, queries, iri: str) -> Description:
    """Read a resource's description from the store with the named queries describe_*."""
    subject = URIRef(iri)
    description = Description(subject)
    for row in store.select(queries["describe_statements"].text, {"s": subject}):
        graph = str(row["g"]) if "g" in row else DEFAULT
        description.statements.setdefault((row["p"], row["o"]), set()).add(graph)
    for row in store.select(queries["describe_parts"].text, {"s": subject}):
        part = description.parts.setdefault(row["b"], {})
        part.setdefault((row["p"], row["o"]), set()).add(str(row["g"]))
    for row in store.select(queries["describe_incoming"].text, {"o": subject}):
        description.incoming.setdefault((row["s"], row["p"]), set()).add(str(row["g"]))
    for row in store.select(queries["describe_incoming_parts"].text, {"o": subject}):
        link = description.incoming_parts.setdefault(row["r"], {})
        link.setdefault((row["p"], row["x"]), set()).add(str(row["g"]))
    # blank nodes cannot be bound in a VALUES block (and have no labels worth showing)
    linked = {s for (s, _) in description.incoming if isinstance(s, URIRef)} | {
        o for statements in description.incoming_parts.values() for (_, o) in statements if isinstance(o, URIRef)}
    if linked:
        for row in store.select(queries["labels_of"].text, {"x": sorted(linked)}, union=True):
            _add_label(description, row["x"], row["label"])
    for row in store.select(queries["describe_labels"].text, {"s": subject}, union=True):
        _add_label(description, row["x"], row["label"])
    for row in store.select(queries["describe_sources"].text, {"s": subject}):
        description.sources.setdefault(row["g"], {}).setdefault(row["p"], []).append(row["o"])
    return description


def _add_label(description: Description, iri, label) -> None:
    if label is not None and isinstance(iri, URIRef):
        description.labels.setdefault(iri, {})[label.language or ""] = str(label)


def document_metadata(graph: Graph, description: Description, document_url: str) -> Graph:
    """Add the statements about the document itself (what it is about, where its facts come from)."""
    document = URIRef(document_url)
    graph.add((document, RDF.type, FOAF.Document))
    graph.add((document, FOAF.primaryTopic, description.iri))
    for source in sorted(description.graphs):
        if source != DEFAULT:
            graph.add((document, DCTERMS.source, URIRef(source)))
    for source, properties in description.sources.items():
        for derived in properties.get(PROV.wasDerivedFrom, []):
            graph.add((document, PROV.wasDerivedFrom, derived))
    return graph
