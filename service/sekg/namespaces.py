"""Name the namespaces and canonical IRIs the project uses, in one place."""

from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SH, SKOS, VOID, XSD

CANONICAL_BASE = "https://w3id.org/sekg/"

SEKG = Namespace(CANONICAL_BASE + "ontology#")
SEKGSH = Namespace(CANONICAL_BASE + "shapes#")
ID = Namespace(CANONICAL_BASE + "id/")
GRAPH = Namespace(CANONICAL_BASE + "graph/")

ADMS = Namespace("http://www.w3.org/ns/adms#")
CV = Namespace("http://data.europa.eu/m8g/")
DCATAP = Namespace("http://data.europa.eu/r5r/")
DCATAPIT = Namespace("http://dati.gov.it/onto/dcatapit#")
DQV = Namespace("http://www.w3.org/ns/dqv#")
EURIO = Namespace("http://data.europa.eu/s66#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
LEGAL = Namespace("http://www.w3.org/ns/legal#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
SCHEMA = Namespace("https://schema.org/")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")

CPV = Namespace("http://data.europa.eu/cpv/cpv/")
NUTS = Namespace("http://data.europa.eu/nuts/code/")
AUTHORITY = Namespace("http://publications.europa.eu/resource/authority/")
COUNTRY = Namespace("http://publications.europa.eu/resource/authority/country/")
SDG = Namespace("http://metadata.un.org/sdg/")

PREFIXES = {
    "sekg": str(SEKG),
    "sekgsh": str(SEKGSH),
    "id": str(ID),
    "adms": str(ADMS),
    "cv": str(CV),
    "dcat": str(DCAT),
    "dcatapit": str(DCATAPIT),
    "dct": str(DCTERMS),
    "dqv": str(DQV),
    "eurio": str(EURIO),
    "foaf": str(FOAF),
    "legal": str(LEGAL),
    "locn": str(LOCN),
    "org": str(ORG),
    "owl": str(OWL),
    "prov": str(PROV),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "schema": str(SCHEMA),
    "sd": str(SD),
    "sh": str(SH),
    "skos": str(SKOS),
    "vcard": str(VCARD),
    "void": str(VOID),
    "xsd": str(XSD),
    "cpv": str(CPV),
    "nuts": str(NUTS),
    "country": str(COUNTRY),
    "sdg": str(SDG),
}


def bind_prefixes(graph):
    """Bind the project's prefixes on an rdflib graph, replacing rdflib's defaults."""
    for prefix, iri in PREFIXES.items():
        graph.bind(prefix, iri, override=True, replace=True)
    return graph
