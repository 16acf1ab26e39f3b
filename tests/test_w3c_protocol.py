"""Replay every test of the W3C SPARQL 1.1 Protocol and Graph Store Protocol manifests on a live server."""

from __future__ import annotations

import pytest

from conftest import SHARED
from w3c_manifest import read_manifest, run_test

MANIFESTS = SHARED / "w3c-sparql-protocol"
PROTOCOL_TESTS = read_manifest(MANIFESTS / "protocol" / "manifest.ttl")
GSP_TESTS = read_manifest(MANIFESTS / "graph-store-protocol" / "manifest.ttl")


def test_manifests_are_complete():
    assert len(PROTOCOL_TESTS) == 34
    assert len(GSP_TESTS) == 13


@pytest.mark.parametrize("test", PROTOCOL_TESTS, ids=[t.iri.rsplit("#", 1)[1] for t in PROTOCOL_TESTS])
def test_protocol(empty_server, test):
    assert run_test(test, empty_server.url, empty_server.admin_token) == []


@pytest.mark.parametrize("test", GSP_TESTS, ids=[t.iri.rsplit("#", 1)[1] for t in GSP_TESTS])
def test_graph_store_protocol(empty_server, test):
    assert run_test(test, empty_server.url, empty_server.admin_token) == []
