"""Turn a resource's description into what its HTML page shows: labelled, linked, formatted values."""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS

from .i18n import format_amount, format_literal
from .namespaces import SCHEMA, SEKG

# Properties shown first, in this order; the rest follow by label.
FIRST = [RDF.type, SKOS.prefLabel, URIRef("http://www.w3.org/ns/legal#legalName"), DCTERMS.title,
         DCTERMS.description, SKOS.definition]
HIDDEN_INCOMING = {SEKG.participant, SEKG.qualificationOf, SEKG.committedBy}


@dataclass
class Value:
    text: str
    href: str | None = None
    language: str | None = None
    iri: str | None = None
    parts: list = field(default_factory=list)  # rows of a nested resource (address, amount, ...)


@dataclass
class Row:
    property: str
    label: str
    values: list[Value]


def web_link(url: str) -> str | None:
    """Return the URL when it is safe to link (http or https), else None: a javascript: IRI must not become a link."""
    return url if url.lower().startswith(("http://", "https://")) else None


def local_name(iri: str) -> str:
    for separator in ("#", "/"):
        if separator in iri.rstrip("/"):
            return iri.rstrip("/").rsplit(separator, 1)[1]
    return iri


class PageBuilder:
    """Build page rows for one description in one language."""

    def __init__(self, description, language: str, uris):
        self.d = description
        self.language = language
        self.uris = uris

    def label(self, iri) -> str:
        return self.d.label(iri, self.language) or local_name(str(iri))

    def title(self) -> str:
        return self.d.label(self.d.iri, self.language) or local_name(str(self.d.iri))

    def value(self, term, *, depth: int = 0) -> Value:
        if isinstance(term, Literal):
            return Value(format_literal(term, self.language), language=term.language)
        if term in self.d.parts and depth < 2:
            part = self.d.parts[term]
            amount = self._amount(part)
            if amount:
                return Value(amount)
            rows = self.rows(part, depth=depth + 1, skip_types=True)
            return Value("", iri=str(term) if isinstance(term, URIRef) else None, parts=rows)
        if isinstance(term, BNode):
            return Value("…")
        return Value(self.label(term), href=self.uris.page(str(term)), iri=str(term))

    def _amount(self, statements) -> str | None:
        values = [o for (p, o) in statements if p == SCHEMA.value]
        currencies = [o for (p, o) in statements if p == SCHEMA.currency]
        if values and currencies:
            return format_amount(values[0], str(currencies[0]), self.language)
        return None

    def rows(self, statements, *, depth: int = 0, skip_types: bool = False) -> list[Row]:
        grouped: dict = {}
        for (p, o) in statements:
            if skip_types and p == RDF.type:
                continue
            grouped.setdefault(p, []).append(o)
        order = {p: i for i, p in enumerate(FIRST)}
        rows = []
        for p in sorted(grouped, key=lambda p: (order.get(p, len(FIRST)), self.label(p).lower())):
            values = sorted(grouped[p], key=lambda o: self._sort_key(o))
            rows.append(Row(str(p), self.label(p), [self.value(o, depth=depth) for o in values]))
        return rows

    def _sort_key(self, term):
        if isinstance(term, Literal):
            preferred = 0 if term.language in (self.language, None) else 1
            return (preferred, str(term))
        return (2, self.label(term).lower())

    def statements(self) -> list[Row]:
        return self.rows(self.d.statements)

    def participations(self) -> list[dict]:
        """Return the projects (or protocols) the resource takes part in, with roles, from n-ary links."""
        rows = []
        for link, statements in self.d.incoming_parts.items():
            objects = {p: o for (p, o) in statements}
            project = objects.get(SEKG.inProject) or objects.get(SEKG.underProtocol)
            if project is None:
                continue
            role = objects.get(SEKG.role) or objects.get(SEKG.actionType)
            rows.append({"project": self.value(project), "role": self.value(role) if role is not None else None})
        return sorted(rows, key=lambda r: r["project"].text.lower())

    def incoming(self, limit: int = 200) -> list[dict]:
        rows = []
        for (s, p) in self.d.incoming:
            if p in HIDDEN_INCOMING:
                continue
            rows.append({"subject": self.value(s), "property": self.label(p)})
        rows.sort(key=lambda r: (r["property"], r["subject"].text.lower()))
        return rows[:limit]

    def sources(self) -> list[dict]:
        rows = []
        for graph in sorted(self.d.graphs):
            if graph == "DEFAULT":
                continue
            facts = self.d.sources.get(URIRef(graph), {})
            rows.append({
                "graph": Value(self._graph_label(facts, graph), href=self.uris.page(graph), iri=graph),
                "derived": [Value(str(o), href=web_link(str(o))) if isinstance(o, URIRef) else Value(str(o))
                            for o in facts.get(PROV.wasDerivedFrom, []) + facts.get(DCTERMS.source, [])],
                "confidence": [self.value(o) for o in facts.get(SEKG.confidence, [])],
                "retrieved": [self.value(o) for o in facts.get(SEKG.retrievedOn, [])],
            })
        return rows

    def _graph_label(self, facts, graph: str) -> str:
        labels = [o for o in facts.get(RDFS.label, []) + facts.get(SKOS.prefLabel, []) if isinstance(o, Literal)]
        for literal in labels:
            if literal.language == self.language:
                return str(literal)
        return str(labels[0]) if labels else graph

    def types(self) -> list[Value]:
        return [self.value(t) for t in self.d.types()]
