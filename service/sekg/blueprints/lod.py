"""Serve the graph as Linked Data: /id/ (303), /doc/ documents, /resource, /ontology, /shapes, /graph/."""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import Blueprint, Response, make_response, redirect, render_template, request

from ..app import services
from ..describe import describe_resource, document_metadata
from ..errors import BadRequestError, NotFoundError
from ..formats import DATASET_SYNTAXES
from ..i18n import choose_language
from ..linked_data import (HTML, SUFFIXES, DocumentAddress, UriSpace, choose_representation, finish,
                           jsonld_context, serialize, split_suffix)
from ..namespaces import GRAPH
from ..pages import PageBuilder
from ..schema_org import schema_org

bp = Blueprint("lod", __name__)

_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def require_iri(iri: str) -> str:
    """Refuse (400) text that cannot be an IRI (spaces, angle brackets, quotes, controls) before it reaches a query."""
    bad = _NOT_IN_IRI.search(iri)
    if bad:
        raise BadRequestError(f"{iri[:200]!r} is not a valid IRI: it contains {bad.group()!r}; percent-encode it")
    return iri


def uri_space() -> UriSpace:
    return UriSpace(services().settings.base_iri)


@bp.route("/id/<path:rest>", methods=["GET", "HEAD"])
def thing(rest: str):
    """Answer a thing's IRI with 303 See Other to the document that describes it."""
    response = redirect("/doc/" + rest, code=303)
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/doc/<path:rest>", methods=["GET", "HEAD"])
def document(rest: str):
    path, forced = split_suffix(rest)
    iri = require_iri(uri_space().iri("id/" + path))
    return represent(iri, DocumentAddress("/doc/" + path), forced)


@bp.route("/resource", methods=["GET", "HEAD"])
def any_resource():
    """Describe any IRI the graph mentions (a CPV code, a NUTS region, a country, ...)."""
    iri = request.args.get("iri", "")
    if "://" not in iri and not iri.startswith("urn:"):
        raise BadRequestError("give the resource as ?iri=<absolute IRI>")
    require_iri(iri)
    local = uri_space().local(iri)
    if local is not None and local.startswith("/id/"):
        return redirect("/doc/" + local[len("/id/"):], code=303)
    wanted = request.args.get("format")
    forced = SUFFIXES.get("." + wanted) if wanted else None
    if wanted and forced is None:
        raise BadRequestError(f"format '{wanted}' is not offered; use one of "
                              + ", ".join(s.lstrip(".") for s in SUFFIXES))
    address = DocumentAddress("/resource?iri=" + quote(iri, safe=":/"), query_style=True)
    return represent(iri, address, forced)


def represent(iri: str, address: DocumentAddress, forced):
    """Answer a resource's document in the representation the client asks for."""
    svc = services()
    language = choose_language()
    representation = choose_representation(forced)
    description = describe_resource(svc.store, svc.queries, iri)
    if not description.exists:
        raise NotFoundError(f"nothing is known about <{iri}>")
    if representation == HTML:
        builder = PageBuilder(description, language, uri_space())
        heading = {"en": "Projects and roles", "it": "Progetti e ruoli"}[language]
        body = render_template(
            "resource.html", iri=iri, title=builder.title(), types=builder.types(), rows=builder.statements(),
            participations=builder.participations(), projects_heading=heading, incoming=builder.incoming(),
            sources=builder.sources(), jsonld=schema_org(description, language), formats=address.formats())
        response = make_response(body)
        response.mimetype = "text/html"
        response.headers["Content-Language"] = language
    else:
        graph = description.dataset() if representation in DATASET_SYNTAXES else description.triples()
        if representation not in DATASET_SYNTAXES:
            document_metadata(graph, description, request.url_root.rstrip("/") + address.url(representation))
        body = serialize(graph, representation, context_url=request.url_root + "context.jsonld")
        response = Response(body, content_type=representation.media_type + "; charset=utf-8")
    if request.method == "HEAD":
        response.set_data(b"")
    return finish(response, address=address, representation=representation, version=svc.store.version,
                  modified=svc.store.modified)


@bp.route("/context.jsonld", methods=["GET", "HEAD"])
def context():
    response = make_response(jsonld_context())
    response.mimetype = "application/ld+json"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _graph_document(graph_iri: str, address: DocumentAddress, forced, template: str, **extra):
    """Answer a named graph (the ontology, the shapes, a source graph) in the asked representation."""
    svc = services()
    language = choose_language()
    representation = choose_representation(forced)
    if graph_iri not in svc.store.named_graphs():
        raise NotFoundError(f"there is no graph <{graph_iri}>")
    if representation == HTML:
        from ..vocabulary_pages import graph_page

        body = render_template(template, **graph_page(svc, graph_iri, language, uri_space()),
                               formats=address.formats(), **extra)
        response = make_response(body)
        response.mimetype = "text/html"
        response.headers["Content-Language"] = language
    else:
        body = svc.store.export_graph(graph_iri, representation.media_type)
        response = Response(body, content_type=representation.media_type + "; charset=utf-8")
    if request.method == "HEAD":
        response.set_data(b"")
    return finish(response, address=address, representation=representation, version=svc.store.version,
                  modified=svc.store.modified)


@bp.route("/ontology", methods=["GET", "HEAD"])
@bp.route("/ontology<any('.ttl', '.jsonld', '.rdf', '.nt', '.nq', '.trig', '.html'):suffix>", methods=["GET", "HEAD"])
def ontology(suffix: str = ""):
    _, forced = split_suffix("ontology" + suffix)
    return _graph_document(str(GRAPH["ontology"]), DocumentAddress("/ontology"), forced, "vocabulary.html",
                           heading_key="ontology")


@bp.route("/shapes", methods=["GET", "HEAD"])
@bp.route("/shapes<any('.ttl', '.jsonld', '.rdf', '.nt', '.nq', '.trig', '.html'):suffix>", methods=["GET", "HEAD"])
def shapes(suffix: str = ""):
    _, forced = split_suffix("shapes" + suffix)
    return _graph_document(str(GRAPH["shapes"]), DocumentAddress("/shapes"), forced, "vocabulary.html",
                           heading_key="shapes")


@bp.route("/graph/<path:rest>", methods=["GET", "HEAD"])
def named_graph(rest: str):
    path, forced = split_suffix(rest)
    graph_iri = uri_space().iri("graph/" + path)
    return _graph_document(graph_iri, DocumentAddress("/graph/" + path), forced, "graph.html", heading_key="graph")
