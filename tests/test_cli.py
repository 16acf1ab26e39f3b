"""The `sekg` command line: validate, load (all or nothing), stats."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sekg.store.embedded import EmbeddedStore

GRAPH = "https://w3id.org/sekg/graph/federation/test"
VALID = """@prefix org: <http://www.w3.org/ns/org#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
<http://example.org/org/1> a org:Organization ; skos:prefLabel "One (test)" ; dct:description "A test."@en .
"""
INVALID = """@prefix org: <http://www.w3.org/ns/org#> .
<http://example.org/org/2> a org:Organization .
"""
BROKEN = """@prefix org: <http://www.w3.org/ns/org#> .
<http://example.org/org/3> a org:Organization ;
    <http://www.w3.org/2004/02/skos/core#prefLabel> "unterminated .
"""


def sekg(*args, check=False):
    return subprocess.run([sys.executable, "-m", "sekg.cli", *args], capture_output=True, text=True, check=check)


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, text in (("valid", VALID), ("invalid", INVALID), ("broken", BROKEN)):
        paths[name] = tmp_path / f"{name}.ttl"
        paths[name].write_text(text)
    return paths


def test_validate_reports_violations_with_file_focus_property_and_message(files):
    result = sekg("validate", str(files["invalid"]))
    assert result.returncode == 1
    assert str(files["invalid"]) in result.stdout
    assert "http://example.org/org/2" in result.stdout
    assert "http://www.w3.org/2004/02/skos/core#prefLabel" in result.stdout
    assert "An organisation needs a name" in result.stdout


def test_validate_speaks_italian(files):
    result = sekg("validate", "--lang", "it", str(files["invalid"]))
    assert "Un'organizzazione deve avere un nome" in result.stdout


def test_validate_passes_valid_files(files):
    result = sekg("validate", str(files["valid"]))
    assert result.returncode == 0, result.stdout
    assert "0 violation(s)" in result.stdout


def test_syntax_error_is_reported_with_file_and_line(files):
    result = sekg("validate", str(files["broken"]))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert str(files["broken"]) in result.stdout
    assert "line 3" in result.stdout


def store_quads(path: Path) -> set:
    store = EmbeddedStore(path=path).open()
    try:
        return {str(q) for q in store.graph_quads(None)} | {
            str(q) for g in store.named_graphs() for q in store.graph_quads(g)}
    finally:
        store.close()


@pytest.mark.parametrize("bad", ["invalid", "broken"])
def test_load_is_all_or_nothing(tmp_path, files, bad):
    store = tmp_path / "store"
    sekg("load", str(files["valid"]), "--graph", GRAPH, "--store", str(store), check=True)
    before = store_quads(store)
    assert len(before) == 3
    other = tmp_path / "other.ttl"
    other.write_text(VALID.replace("org/1", "org/9"))
    result = sekg("load", str(other), str(files[bad]), "--graph", GRAPH, "--store", str(store))
    assert result.returncode == 1
    assert store_quads(store) == before


def test_load_then_stats(tmp_path, files):
    store = tmp_path / "store"
    loaded = sekg("load", str(files["valid"]), "--graph", GRAPH, "--store", str(store), check=True)
    assert "loaded 3 statements" in loaded.stdout
    stats = sekg("stats", "--store", str(store), check=True).stdout
    assert "quads: 3" in stats
    assert "http://www.w3.org/ns/org#Organization" in stats
    assert GRAPH in stats


def test_load_needs_a_graph_for_triples(files, tmp_path):
    result = sekg("load", str(files["valid"]), "--store", str(tmp_path / "store"))
    assert result.returncode == 2
    assert "--graph" in result.stderr


def test_load_refuses_a_store_open_elsewhere(tmp_path, files):
    store = EmbeddedStore(path=tmp_path / "store").open()
    try:
        result = sekg("load", str(files["valid"]), "--graph", GRAPH, "--store", str(tmp_path / "store"))
        assert result.returncode == 1
        assert "is open in" in result.stderr
    finally:
        store.close()
