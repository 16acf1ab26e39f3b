"""Describe the SPARQL service with the SPARQL 1.1 Service Description vocabulary."""

from __future__ import annotations

from flask import Response, request, url_for
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, VOID

from ..formats import GRAPH_SYNTAXES, RESULTS_SYNTAXES, W3C_FORMAT_IRIS
from ..http import allow_cors
from ..namespaces import SD, bind_prefixes
from ..negotiation import negotiate


def service_description(svc, endpoint: str, update_endpoint: str) -> Graph:
    """Build the service description graph of this server."""
    graph = bind_prefixes(Graph())
    service = URIRef(endpoint)
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, service))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    if svc.settings.SEKG_SERVICE_ALLOWLIST:
        graph.add((service, SD.feature, SD.BasicFederatedQuery))
    for syntax in RESULTS_SYNTAXES:
        graph.add((service, SD.resultFormat, URIRef(syntax.format_iri)))
    for syntax in GRAPH_SYNTAXES:
        graph.add((service, SD.resultFormat, URIRef(W3C_FORMAT_IRIS[syntax])))
    updates = URIRef(update_endpoint)
    graph.add((updates, RDF.type, SD.Service))
    graph.add((updates, SD.endpoint, updates))
    graph.add((updates, SD.supportedLanguage, SD.SPARQL11Update))
    dataset = BNode()
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    default = BNode()
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    graph.add((default, VOID.triples, Literal(svc.store.count_quads())))
    for name in svc.store.named_graphs():
        named = BNode()
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, URIRef(name)))
    return graph


def service_description_response(svc) -> Response:
    syntax = negotiate(request.headers.get("Accept"), GRAPH_SYNTAXES)
    graph = service_description(svc, request.base_url, url_for("update.update", _external=True))
    body = graph.serialize(format=syntax.rdflib)
    response = Response(body, content_type=syntax.media_type + "; charset=utf-8")
    response.headers["Vary"] = "Accept"
    return allow_cors(response)
