"""Check every shape constraint against a fixture that breaks it, and a valid example against all shapes.

Each `tests/fixtures/shapes/<LocalName>.trig` breaks exactly the shape `sekgsh:<LocalName>`: its
default graph is the data to validate, its graph <urn:sekg:test:context> holds the rdf:type and
skos:inScheme statements the validator would look up for the resources the data refers to.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Dataset, Graph, Namespace, URIRef
from rdflib.namespace import RDF, SH

from sekg.validation import CONTEXT_PREDICATES, validate

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
SHAPES_FILE = Path(__file__).resolve().parents[1] / "shapes" / "sekg-shapes.ttl"
SEKGSH = Namespace("https://w3id.org/sekg/shapes#")
CONTEXT = URIRef("urn:sekg:test:context")
VALID = "valid"

# rdflib's TriG parser still goes through its own deprecated ConjunctiveGraph API.
pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated, use Dataset:DeprecationWarning")

SHAPES = Graph().parse(SHAPES_FILE, format="turtle")


def shapes_needing_fixtures() -> set[str]:
    """Return the local names of the named property shapes and of the node shapes with their own message."""
    names = {s for s in SHAPES.subjects(RDF.type, SH.PropertyShape) if isinstance(s, URIRef)}
    names |= {s for s in SHAPES.subjects(RDF.type, SH.NodeShape)
              if (s, SH["or"], None) in SHAPES or (s, SH.message, None) in SHAPES}
    return {str(s).removeprefix(str(SEKGSH)) for s in names}


def fixture_names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.trig") if p.stem != VALID)


def run_fixture(name: str):
    """Validate a fixture's default graph, looking referenced IRIs up in its context graph."""
    dataset = Dataset()
    dataset.parse(FIXTURES / f"{name}.trig", format="trig")
    data = Graph()
    for triple in dataset.default_graph:
        data.add(triple)
    context = dataset.graph(CONTEXT)
    assert set(context.predicates()) <= set(CONTEXT_PREDICATES), "context holds only rdf:type / skos:inScheme"

    def lookup(iris: set[URIRef]) -> Graph:
        facts = Graph()
        for iri in iris:
            for predicate in CONTEXT_PREDICATES:
                for value in context.objects(iri, predicate):
                    facts.add((iri, predicate, value))
        return facts

    assert len(data), f"{name}.trig has no data in its default graph"
    return validate(data, lookup)


def expected_messages(shape: URIRef) -> dict[str, str]:
    return {m.language: str(m) for m in SHAPES.objects(shape, SH.message) if m.language in ("en", "it")}


def expected_severity(shape: URIRef) -> str:
    severity = SHAPES.value(shape, SH.severity, default=SH.Violation)
    return str(severity).removeprefix(str(SH))


@pytest.mark.parametrize("name", fixture_names())
def test_fixture_is_caught_by_its_shape(name):
    """Report the fixture's shape with its own messages and severity, and no other shape's violation."""
    shape = SEKGSH[name]
    assert (shape, None, None) in SHAPES, f"no shape sekgsh:{name} in {SHAPES_FILE.name}"
    first_line = (FIXTURES / f"{name}.trig").read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith(f"# breaks sekgsh:{name}: ")

    report = run_fixture(name)
    mine = [r for r in report.results if r.shape == str(shape)]
    assert mine, f"sekgsh:{name} did not catch its fixture; results: {report.to_json()}"
    messages = expected_messages(shape)
    assert set(messages) == {"en", "it"}
    for result in mine:
        assert {lang: result.messages.get(lang) for lang in messages} == messages
        assert result.severity == expected_severity(shape)

    others = [r for r in report.violations if r.shape != str(shape)]
    assert not others, f"other shapes also report violations: {[r.as_json() for r in others]}"


def test_every_shape_constraint_has_a_fixture():
    """Match the fixture files one to one with the shapes that carry a constraint."""
    assert set(fixture_names()) == shapes_needing_fixtures()


def test_valid_example_has_no_violations_or_warnings():
    """Validate the example with one resource of each main class without any result."""
    report = run_fixture(VALID)
    assert report.results == [], report.to_json()
