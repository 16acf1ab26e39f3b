"""Describe the dataset with VoID: sizes, class and property partitions, linksets, dumps and endpoint."""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, VOID, XSD

from .namespaces import bind_prefixes

# The external datasets the graph links to: (key, title, namespace, homepage).
LINKED_DATASETS = (
    ("cpv", "CPV 2008 (EU Vocabularies)", "http://data.europa.eu/cpv/cpv/", "https://op.europa.eu/en/web/eu-vocabularies"),
    ("nuts", "NUTS (Eurostat)", "http://data.europa.eu/nuts/code/", "https://ec.europa.eu/eurostat/web/nuts"),
    ("eu-authority-tables", "EU authority tables (Publications Office)",
     "http://publications.europa.eu/resource/authority/", "https://op.europa.eu/en/web/eu-vocabularies"),
    ("sdg", "UN Sustainable Development Goals", "http://metadata.un.org/sdg/", "https://metadata.un.org/sdg/"),
    ("wikidata", "Wikidata", "http://www.wikidata.org/entity/", "https://www.wikidata.org/"),
)
VOCABULARIES = ("https://w3id.org/sekg/ontology#", "http://www.w3.org/ns/org#", "http://www.w3.org/ns/legal#",
                "http://data.europa.eu/m8g/", "https://schema.org/", "http://www.w3.org/2004/02/skos/core#",
                "http://purl.org/dc/terms/", "http://www.w3.org/ns/prov#", "http://data.europa.eu/s66#",
                "http://www.w3.org/ns/locn#", "http://www.w3.org/ns/adms#", "http://data.europa.eu/eli/ontology#",
                "http://xmlns.com/foaf/0.1/")


def build_void(svc, public_url: str, dump_names: list[str]) -> Graph:
    """Build the VoID description of the whole graph from live counts."""
    store, queries = svc.store, svc.queries
    base = svc.settings.base_iri
    graph = bind_prefixes(Graph())
    dataset = URIRef(base + "id/dataset/sekg")
    graph.add((dataset, RDF.type, VOID.Dataset))
    graph.add((dataset, DCTERMS.title, Literal("Social Economy Knowledge Graph", lang="en")))
    graph.add((dataset, DCTERMS.title, Literal("Knowledge Graph dell'economia sociale", lang="it")))
    graph.add((dataset, FOAF.homepage, URIRef(public_url + "/")))
    graph.add((dataset, VOID.sparqlEndpoint, URIRef(public_url + "/sparql")))
    graph.add((dataset, VOID.uriSpace, Literal(base + "id/")))
    graph.add((dataset, VOID.uriLookupEndpoint, URIRef(public_url + "/resource?iri=")))
    graph.add((dataset, VOID.rootResource, URIRef(base + "catalog")))
    graph.add((dataset, VOID.feature, URIRef("http://www.w3.org/ns/formats/Turtle")))
    graph.add((dataset, VOID.feature, URIRef("http://www.w3.org/ns/formats/JSON-LD")))
    graph.add((dataset, DCTERMS.license, URIRef("http://publications.europa.eu/resource/authority/licence/"
                                                + svc.settings.SEKG_LICENCE)))
    for name in dump_names:
        graph.add((dataset, VOID.dataDump, URIRef(f"{public_url}/dumps/{name}")))
    for vocabulary in VOCABULARIES:
        graph.add((dataset, VOID.vocabulary, URIRef(vocabulary)))

    counts = store.select(queries["void_counts"].text, union=True)[0]
    graph.add((dataset, VOID.triples, Literal(int(counts["triples"]), datatype=XSD.integer)))
    graph.add((dataset, VOID.distinctSubjects, Literal(int(counts["subjects"]), datatype=XSD.integer)))
    graph.add((dataset, VOID.properties, Literal(int(counts["properties"]), datatype=XSD.integer)))
    entities = store.select(queries["void_entities"].text, {"base": Literal(base)}, union=True)[0]
    graph.add((dataset, VOID.entities, Literal(int(entities["entities"]), datatype=XSD.integer)))
    graph.add((dataset, VOID.classes, Literal(int(entities["classes"]), datatype=XSD.integer)))

    for row in store.select(queries["void_class_partitions"].text, union=True):
        partition = BNode()
        graph.add((dataset, VOID.classPartition, partition))
        graph.add((partition, VOID["class"], row["class"]))
        graph.add((partition, VOID.entities, Literal(int(row["entities"]), datatype=XSD.integer)))
    for row in store.select(queries["void_property_partitions"].text, union=True):
        partition = BNode()
        graph.add((dataset, VOID.propertyPartition, partition))
        graph.add((partition, VOID.property, row["property"]))
        graph.add((partition, VOID.triples, Literal(int(row["triples"]), datatype=XSD.integer)))

    for key, title, namespace, homepage in LINKED_DATASETS:
        target = URIRef(base + "id/dataset/external/" + key)
        graph.add((target, RDF.type, VOID.Dataset))
        graph.add((target, DCTERMS.title, Literal(title, lang="en")))
        graph.add((target, VOID.uriSpace, Literal(namespace)))
        graph.add((target, FOAF.homepage, URIRef(homepage)))
        for row in store.select(queries["void_links"].text, {"namespace": Literal(namespace)}, union=True):
            linkset = URIRef(f"{base}id/dataset/linkset/{key}/{_slug(str(row['property']))}")
            graph.add((dataset, VOID.subset, linkset))
            graph.add((linkset, RDF.type, VOID.Linkset))
            graph.add((linkset, VOID.subjectsTarget, dataset))
            graph.add((linkset, VOID.objectsTarget, target))
            graph.add((linkset, VOID.linkPredicate, row["property"]))
            graph.add((linkset, VOID.triples, Literal(int(row["triples"]), datatype=XSD.integer)))
    return graph


def _slug(iri: str) -> str:
    local = iri.rstrip("/#").replace("#", "/").rsplit("/", 1)[-1]
    return "".join(c if c.isalnum() else "-" for c in local).strip("-").lower() or "link"
