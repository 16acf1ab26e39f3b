"""The shipped graph: it conforms to the shapes, uses only declared or reused terms, and keeps its sources."""

from __future__ import annotations

import pytest
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from sekg.loader import validate_files
from sekg.paths import ONTOLOGY_FILE, REUSED_TERMS_FILE, SOURCES_DIR
from sekg.shipped import shipped_files, validated_files

SEKG = Namespace("https://w3id.org/sekg/ontology#")
GRAPH = "https://w3id.org/sekg/graph/"
REUSED_NAMESPACES = (
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://www.w3.org/2000/01/rdf-schema#",
    "http://www.w3.org/2002/07/owl#", "http://www.w3.org/2004/02/skos/core#", "http://purl.org/dc/terms/",
    "http://xmlns.com/foaf/0.1/", "http://www.w3.org/ns/org#", "http://www.w3.org/ns/legal#",
    "http://data.europa.eu/m8g/", "http://www.w3.org/ns/locn#", "http://www.w3.org/ns/adms#",
    "https://schema.org/", "http://www.w3.org/ns/prov#", "http://data.europa.eu/s66#",
    "http://data.europa.eu/eli/ontology#", "http://purl.org/vocab/vann/",
)


@pytest.fixture(scope="module")
def data() -> Dataset:
    dataset = Dataset()
    for path in sorted(SOURCES_DIR.glob("*.trig")):
        dataset.parse(path, format="trig")
    return dataset


@pytest.fixture(scope="module")
def ontology() -> Graph:
    graph = Graph()
    graph.parse(ONTOLOGY_FILE)
    return graph


@pytest.mark.slow
def test_everything_shipped_conforms():
    report = validate_files([f.path for f in validated_files()])
    assert report.violations == [], "\n".join(f"{r.focus} {r.path} {r.message()}" for r in report.violations)


def test_terms_used_in_data_are_declared_or_reused(data, ontology):
    declared = set(ontology.subjects(RDF.type, OWL.Class)) | set(ontology.subjects(RDF.type, OWL.ObjectProperty)) \
        | set(ontology.subjects(RDF.type, OWL.DatatypeProperty))
    used = {p for _, p, _, _ in data.quads()} | {o for _, p, o, _ in data.quads() if p == RDF.type}
    unknown = sorted(str(t) for t in used
                     if (str(t).startswith(str(SEKG)) and t not in declared)
                     or (not str(t).startswith(str(SEKG)) and not str(t).startswith(REUSED_NAMESPACES)))
    assert unknown == []


def test_every_ontology_term_has_italian_and_english_labels_and_definitions(ontology):
    terms = [t for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
             for t in ontology.subjects(RDF.type, kind)]
    assert len(terms) > 30
    for term in terms:
        for predicate in (RDFS.label, SKOS.definition):
            languages = {o.language for o in ontology.objects(term, predicate) if isinstance(o, Literal)}
            assert {"it", "en"} <= languages, f"{term} lacks an it/en {predicate}"


def test_ontology_metadata(ontology):
    iri = URIRef("https://w3id.org/sekg/ontology")
    for predicate in ("http://purl.org/dc/terms/title", "http://purl.org/dc/terms/description",
                      "http://purl.org/dc/terms/license", "http://purl.org/dc/terms/creator",
                      "http://www.w3.org/2002/07/owl#versionIRI",
                      "http://purl.org/vocab/vann/preferredNamespacePrefix"):
        assert ontology.value(iri, URIRef(predicate)) is not None, predicate


def test_reused_terms_have_labels_in_both_languages():
    graph = Graph().parse(REUSED_TERMS_FILE)
    for term in set(graph.subjects(RDFS.label, None)):
        languages = {o.language for o in graph.objects(term, RDFS.label)}
        assert {"it", "en"} <= languages, term


def test_every_source_graph_has_its_provenance(data):
    provenance = data.graph(URIRef(GRAPH + "provenance"))
    graphs = {str(c.identifier) for c in data.graphs() if str(c.identifier).startswith(GRAPH + "source/")
              or str(c.identifier).startswith(GRAPH + "classification/")}
    assert len(graphs) > 40
    for name in graphs:
        node = URIRef(name)
        assert (node, RDF.type, SEKG.SourceGraph) in provenance, name
        assert provenance.value(node, SEKG.confidence) is not None, name
        assert provenance.value(node, SEKG.retrievedOn) is not None, name
        source = provenance.value(node, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")) or \
            provenance.value(node, URIRef("http://purl.org/dc/terms/source"))
        assert source is not None, name


def test_classifications_are_marked_inferred(data):
    provenance = data.graph(URIRef(GRAPH + "provenance"))
    for context in data.graphs():
        if str(context.identifier).startswith(GRAPH + "classification/"):
            assert provenance.value(context.identifier, SEKG.confidence) == \
                URIRef("https://w3id.org/sekg/id/confidence/inferred")


def test_proseco_partnership_matches_the_source(data):
    union = Graph()
    for s, p, o, _ in data.quads():
        union.add((s, p, o))
    proseco = URIRef("https://w3id.org/sekg/id/project/proseco")
    listed = {}
    for participation in union.objects(proseco, SEKG.hasParticipation):
        position = union.value(participation, SEKG.position)
        if position is not None:
            listed[int(position)] = union.value(participation, SEKG.participant)
    assert sorted(listed) == list(range(1, 12))  # 11 partners, as the partnership list gives them
    countries = {union.value(org, SEKG.country) for org in listed.values()}
    assert len(countries) == 9  # from 9 countries
    roles = {(union.value(p, SEKG.participant), role)
             for p in union.objects(proseco, SEKG.hasParticipation) for role in union.objects(p, SEKG.role)}
    lead = URIRef("https://w3id.org/sekg/id/participation-role/lead-partner")
    assert (URIRef("https://w3id.org/sekg/id/organisation/province-of-flemish-brabant"), lead) in roles


def test_the_call_carries_its_budget_and_maximum_grant(data):
    union = Graph()
    for s, p, o, _ in data.quads():
        union.add((s, p, o))
    call = URIRef("https://w3id.org/sekg/id/call/smp-cosme-2022-buysocialb2bmarket-01")
    assert str(union.value(call, URIRef("http://purl.org/dc/terms/identifier"))) == "SMP-COSME-2022-BUYSOCIALB2BMARKET-01"
    value = URIRef("https://schema.org/value")
    assert int(union.value(union.value(call, SEKG.budget), value)) == 1_300_000
    assert int(union.value(union.value(call, SEKG.maximumGrant), value)) == 325_000


def test_shipped_files_are_listed_with_graphs():
    files = shipped_files()
    assert any(f.kind == "ontology" for f in files) and any(f.kind == "shapes" for f in files)
    assert all(f.graph for f in files if f.path.suffix == ".ttl")
