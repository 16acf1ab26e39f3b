"""Check the SKOS vocabularies in data/vocab/: counts, labels, hierarchies, and that the generated ones are current."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS, Namespace

from sekg.vocabularies import SPECS, build_vocabularies

PROJECT = Path(__file__).resolve().parents[1]
VOCAB = PROJECT / "data" / "vocab"
SHARED = PROJECT.parent / "shared"

SEKG = Namespace("https://w3id.org/sekg/ontology#")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
ID = "https://w3id.org/sekg/id/"
CPV_SCHEME = URIRef("http://data.europa.eu/cpv/cpv")
NUTS_SCHEME = URIRef("http://data.europa.eu/nuts/scheme/2024")
SDG_SCHEME = URIRef("http://metadata.un.org/sdg")
ITALY = URIRef("http://publications.europa.eu/resource/authority/country/ITA")

GENERATED = [spec.filename for spec in SPECS]

# The exact keys of the hand-written schemes: other data already uses these IRIs.
HAND_WRITTEN = {
    "confidence": ["high", "medium", "low", "inferred"],
    "participation-role": ["lead-partner", "partner", "coordinator", "associated-partner", "co-funder"],
    "organisation-type": [
        "municipality", "province", "region", "national-public-authority", "chamber-of-commerce",
        "eu-executive-agency", "european-network", "cooperative-federation", "business-association",
        "foundation", "association", "ngo", "company", "regional-development-agency", "platform",
        "incubator", "research-centre",
    ],
    "identifier-type": ["vat-number", "fiscal-code", "interreg-europe-project", "grant-agreement"],
    "action-type": [
        "social-purchasing", "third-sector-capacity-building", "collaborative-b2b", "impact-in-company-documents",
    ],
    "qualification": [
        "cooperativa-sociale", "cooperativa-sociale-a", "cooperativa-sociale-b", "impresa-sociale",
        "societa-benefit", "startup-innovativa-vocazione-sociale", "ente-terzo-settore",
    ],
    "legal-form": [
        "it-societa-cooperativa", "it-consorzio", "it-srl", "it-societa-tra-professionisti",
        "it-societa-tra-avvocati", "it-associazione", "it-fondazione", "it-organizzazione-di-volontariato",
        "be-asbl",
    ],
    "social-mission": [
        "social-services", "health-services", "social-health-services", "education-training", "environment",
        "cultural-heritage-landscape", "higher-education", "social-research", "culture-arts-recreation",
        "community-broadcasting", "social-tourism", "early-school-leaving-prevention",
        "services-to-social-enterprises", "development-cooperation", "fair-trade", "employment-services",
        "social-housing", "migrant-reception-integration", "microcredit", "social-farming", "amateur-sport",
        "reuse-of-public-and-confiscated-assets", "work-integration",
    ],
}


@cache
def vocabulary(filename: str) -> Graph:
    """Parse a vocabulary file once per test session (CPV takes seconds)."""
    return Graph().parse(VOCAB / filename, format="turtle")


def concepts_in(graph: Graph, scheme: URIRef) -> set[URIRef]:
    """Return the concepts of a graph that are in the given scheme."""
    return {c for c in graph.subjects(SKOS.inScheme, scheme) if (c, RDF.type, SKOS.Concept) in graph}


def label_languages(graph: Graph, concept: URIRef, predicate=SKOS.prefLabel) -> set[str | None]:
    """Return the language tags of a concept's labels (None for an untagged label)."""
    return {label.language for label in graph.objects(concept, predicate)}


def assert_hierarchy(graph: Graph, scheme: URIRef) -> None:
    """Check that every concept is a top concept or has a broader concept in the scheme, both ways linked."""
    members = concepts_in(graph, scheme)
    for concept in members:
        broader = set(graph.objects(concept, SKOS.broader))
        if (concept, SKOS.topConceptOf, scheme) in graph:
            assert (scheme, SKOS.hasTopConcept, concept) in graph, concept
            assert not broader, f"top concept {concept} has a broader concept"
        else:
            assert broader, f"{concept} is neither a top concept nor has a broader concept"
            assert broader <= members, f"{concept} has a broader concept outside the scheme"
        for parent in broader:
            assert (parent, SKOS.narrower, concept) in graph, f"{parent} lacks skos:narrower {concept}"
    for parent, child in graph.subject_objects(SKOS.narrower):
        assert (child, SKOS.broader, parent) in graph, f"{child} lacks skos:broader {parent}"


def test_every_vocabulary_file_is_known():
    hand_written = {f"{name}.ttl" for name in HAND_WRITTEN}
    assert {p.name for p in VOCAB.glob("*.ttl")} == set(GENERATED) | hand_written


@pytest.mark.parametrize("filename", sorted(p.name for p in VOCAB.glob("*.ttl")))
def test_vocabulary_parses_and_has_one_titled_scheme(filename):
    graph = vocabulary(filename)
    schemes = set(graph.subjects(RDF.type, SKOS.ConceptScheme))
    assert len(schemes) == 1
    scheme = schemes.pop()
    assert label_languages(graph, scheme, DCTERMS.title) >= {"en", "it"}
    for concept in graph.subjects(RDF.type, SKOS.Concept):
        assert (concept, SKOS.inScheme, scheme) in graph, concept


@pytest.mark.slow
def test_cpv_has_every_code_with_italian_and_english_labels():
    graph = vocabulary("cpv.ttl")
    concepts = concepts_in(graph, CPV_SCHEME)
    assert len(concepts) == 9454
    # The source has no Italian label for this one code.
    no_italian = URIRef("http://data.europa.eu/cpv/cpv/03117140")
    for concept in concepts:
        expected = {"en"} if concept == no_italian else {"en", "it"}
        assert expected <= label_languages(graph, concept), concept
    assert "it" not in label_languages(graph, no_italian)
    assert str(graph.value(no_italian, SKOS.notation)) == "03117140-7"


@pytest.mark.slow
def test_cpv_hierarchy_is_complete():
    graph = vocabulary("cpv.ttl")
    assert_hierarchy(graph, CPV_SCHEME)
    assert len(set(graph.objects(CPV_SCHEME, SKOS.hasTopConcept))) == 45
    group = URIRef("http://data.europa.eu/cpv/cpv/03100000")
    assert (group, SKOS.broader, URIRef("http://data.europa.eu/cpv/cpv/03000000")) in graph


def test_nuts_has_every_region_and_its_hierarchy():
    graph = vocabulary("nuts.ttl")
    nuts = "http://data.europa.eu/nuts/code/"
    assert len(concepts_in(graph, NUTS_SCHEME)) == 1609
    assert (URIRef(nuts + "ITC11"), SKOS.broader, URIRef(nuts + "ITC1")) in graph
    assert_hierarchy(graph, NUTS_SCHEME)
    italy = URIRef(nuts + "IT")
    assert (italy, SKOS.exactMatch, ITALY) in graph
    assert label_languages(graph, italy) == {"en", "it"}
    assert label_languages(graph, URIRef(nuts + "ITC11")) == {None}


def test_sdg_has_17_goals_and_169_targets():
    graph = vocabulary("sdg.ttl")
    goals = set(graph.objects(SDG_SCHEME, SKOS.hasTopConcept))
    assert len(goals) == 17
    targets = concepts_in(graph, SDG_SCHEME) - goals
    assert len(targets) == 169
    for target in targets:
        assert set(graph.objects(target, SKOS.broader)) <= goals, target
        assert "it" not in label_languages(graph, target, SKOS.definition), target
    assert_hierarchy(graph, SDG_SCHEME)


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN))
def test_hand_written_scheme_has_exactly_its_concepts_fully_labelled(name):
    graph = vocabulary(f"{name}.ttl")
    scheme = URIRef(f"{ID}scheme/{name}")
    expected = {URIRef(f"{ID}{name}/{key}") for key in HAND_WRITTEN[name]}
    assert concepts_in(graph, scheme) == expected
    for concept in expected:
        assert label_languages(graph, concept) >= {"it", "en"}, concept
        assert label_languages(graph, concept, SKOS.definition) >= {"it", "en"}, concept
        assert str(graph.value(concept, SKOS.notation)) == str(concept).rsplit("/", 1)[1]
    assert_hierarchy(graph, scheme)
    assert label_languages(graph, scheme, DCTERMS.description) >= {"it", "en"}
    assert "MAINTAINED BY HAND" in (VOCAB / f"{name}.ttl").read_text(encoding="utf-8")


def test_every_social_mission_maps_to_existing_sdg_targets():
    graph = vocabulary("social-mission.ttl")
    with (SHARED / "reference" / "sdg_targets.csv").open(encoding="utf-8", newline="") as handle:
        targets = {URIRef(row["iri"]) for row in csv.DictReader(handle)}
    targets_in_vocabulary = set(vocabulary("sdg.ttl").subjects(SKOS.broader, None))
    missions = list(concepts_in(graph, URIRef(f"{ID}scheme/social-mission")))
    assert missions, "the social-mission scheme has no concepts"
    for mission in missions:
        matches = set(graph.objects(mission, SKOS.relatedMatch))
        assert 1 <= len(matches) <= 3, mission
        assert matches <= targets, f"{mission}: {matches - targets} not in sdg_targets.csv"
        assert matches <= targets_in_vocabulary, mission


def test_qualifications_name_their_law_and_jurisdiction():
    graph = vocabulary("qualification.ttl")
    for concept in concepts_in(graph, URIRef(f"{ID}scheme/qualification")):
        assert (concept, SEKG.jurisdiction, ITALY) in graph, concept
        assert set(graph.objects(concept, DCTERMS.source)), concept
        laws = set(graph.objects(concept, SEKG.legalBasis))
        if concept == URIRef(f"{ID}qualification/ente-terzo-settore"):
            assert not laws, "the sources name no law for ETS"
            continue
        assert len(laws) == 1, concept
        law = laws.pop()
        assert (law, RDF.type, ELI.LegalResource) in graph, law
        assert graph.value(law, ELI.title) is not None and graph.value(law, ELI.date_document) is not None


def test_generated_files_are_up_to_date(tmp_path):
    if not (SHARED / "reference").is_dir():
        pytest.skip(f"the shared reference files are not at {SHARED / 'reference'}")
    counts = build_vocabularies(SHARED, tmp_path)
    assert sorted(counts) == sorted(GENERATED)
    assert counts["cpv.ttl"] == 9454 and counts["nuts.ttl"] == 1609 and counts["sdg.ttl"] == 186
    for filename in counts:
        fresh, committed = (tmp_path / filename).read_bytes(), (VOCAB / filename).read_bytes()
        assert fresh == committed, f"data/vocab/{filename} is stale: run python -m sekg.vocabularies"
