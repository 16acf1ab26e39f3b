"""Describe every serialisation the service reads or writes: media type, file extension, engines' names."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class RdfSyntax:
    key: str
    media_type: str
    extension: str
    oxigraph: ox.RdfFormat
    rdflib: str
    dataset: bool
    file_type: str  # EU file-type authority table code
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResultsSyntax:
    key: str
    media_type: str
    extension: str
    format_iri: str  # W3C format IRI for service descriptions
    aliases: tuple[str, ...] = ()


TURTLE = RdfSyntax("turtle", "text/turtle", "ttl", ox.RdfFormat.TURTLE, "turtle", False, "RDF_TURTLE",
                   ("application/x-turtle",))
NTRIPLES = RdfSyntax("ntriples", "application/n-triples", "nt", ox.RdfFormat.N_TRIPLES, "nt", False,
                     "RDF_N_TRIPLES", ("text/plain",))
JSONLD = RdfSyntax("jsonld", "application/ld+json", "jsonld", ox.RdfFormat.JSON_LD, "json-ld", False, "JSON_LD",
                   ("application/json",))
RDFXML = RdfSyntax("rdfxml", "application/rdf+xml", "rdf", ox.RdfFormat.RDF_XML, "xml", False, "RDF_XML",
                   ("application/xml", "text/xml"))
NQUADS = RdfSyntax("nquads", "application/n-quads", "nq", ox.RdfFormat.N_QUADS, "nquads", True, "RDF_N_QUADS")
TRIG = RdfSyntax("trig", "application/trig", "trig", ox.RdfFormat.TRIG, "trig", True, "RDF_TRIG")
N3 = RdfSyntax("n3", "text/n3", "n3", ox.RdfFormat.N3, "n3", False, "N3")

# Order matters: the first acceptable entry wins when a client accepts several equally.
GRAPH_SYNTAXES = (TURTLE, NTRIPLES, JSONLD, RDFXML)
DATASET_SYNTAXES = (TRIG, NQUADS)
READABLE_SYNTAXES = (TURTLE, NTRIPLES, JSONLD, RDFXML, NQUADS, TRIG, N3)

RESULTS_JSON = ResultsSyntax("json", "application/sparql-results+json", "srj",
                             "http://www.w3.org/ns/formats/SPARQL_Results_JSON", ("application/json",))
RESULTS_XML = ResultsSyntax("xml", "application/sparql-results+xml", "srx",
                            "http://www.w3.org/ns/formats/SPARQL_Results_XML", ("application/xml", "text/xml"))
RESULTS_CSV = ResultsSyntax("csv", "text/csv", "csv", "http://www.w3.org/ns/formats/SPARQL_Results_CSV")
RESULTS_TSV = ResultsSyntax("tsv", "text/tab-separated-values", "tsv",
                            "http://www.w3.org/ns/formats/SPARQL_Results_TSV")
RESULTS_SYNTAXES = (RESULTS_JSON, RESULTS_XML, RESULTS_CSV, RESULTS_TSV)
BOOLEAN_SYNTAXES = (RESULTS_JSON, RESULTS_XML)

W3C_FORMAT_IRIS = {
    TURTLE: "http://www.w3.org/ns/formats/Turtle",
    NTRIPLES: "http://www.w3.org/ns/formats/N-Triples",
    JSONLD: "http://www.w3.org/ns/formats/JSON-LD",
    RDFXML: "http://www.w3.org/ns/formats/RDF_XML",
    NQUADS: "http://www.w3.org/ns/formats/N-Quads",
    TRIG: "http://www.w3.org/ns/formats/TriG",
}


def media_type_of(content_type: str | None) -> str:
    """Return the bare, lower-cased media type of a Content-Type header value."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def rdf_syntax_for_media_type(content_type: str | None, choices=READABLE_SYNTAXES) -> RdfSyntax | None:
    """Find the RDF syntax a Content-Type names, or None."""
    wanted = media_type_of(content_type)
    for syntax in choices:
        if wanted == syntax.media_type or wanted in syntax.aliases:
            return syntax
    return None


def rdf_syntax_for_extension(extension: str, choices=READABLE_SYNTAXES) -> RdfSyntax | None:
    """Find the RDF syntax of a file extension (without the dot), or None."""
    extension = extension.lower().lstrip(".")
    aliases = {"ttl": "ttl", "turtle": "ttl", "nt": "nt", "jsonld": "jsonld", "json": "jsonld", "rdf": "rdf",
               "xml": "rdf", "owl": "rdf", "nq": "nq", "trig": "trig", "n3": "n3"}
    extension = aliases.get(extension, extension)
    for syntax in choices:
        if syntax.extension == extension:
            return syntax
    return None
