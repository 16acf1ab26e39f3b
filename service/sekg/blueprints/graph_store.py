"""Serve the SPARQL 1.1 Graph Store HTTP Protocol at /store (indirect) and /store/... (direct)."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, request

from ..app import services
from ..errors import BadRequestError, NotFoundError, UnsupportedMediaTypeError
from ..formats import DATASET_SYNTAXES, GRAPH_SYNTAXES, JSONLD, RDFXML, media_type_of, rdf_syntax_for_media_type
from ..http import allow_cors, require_grant
from ..negotiation import negotiate
from ..safe_json import check_json_nesting
from ..safe_xml import check_xml

bp = Blueprint("graph_store", __name__)

WRITABLE = GRAPH_SYNTAXES + (rdf_syntax_for_media_type("text/n3"),)


def target_graph(subpath: str | None, *, allow_none: bool = False) -> tuple[str | None, bool]:
    """Return (graph IRI or None for the default graph, whether a graph was named)."""
    graphs = request.args.getlist("graph")
    default = "default" in request.args
    if subpath is not None:
        if graphs or default:
            raise BadRequestError("a direct graph URL takes no 'graph' or 'default' parameter")
        return request.base_url, True
    if graphs and default:
        raise BadRequestError("give either 'graph' or 'default', not both")
    if len(graphs) > 1:
        raise BadRequestError("give one 'graph' parameter")
    if graphs:
        iri = graphs[0]
        if "://" not in iri and not iri.startswith("urn:"):
            raise BadRequestError(f"'{iri}' is not an absolute graph IRI")
        return iri, True
    if default:
        return None, True
    if allow_none:
        return None, False
    raise BadRequestError("name the graph with ?graph=IRI, or ?default for the default graph")


def request_parts() -> list[tuple[bytes, str]]:
    """Return the RDF payloads of the request: the body, or each part of a multipart/form-data body."""
    media_type = media_type_of(request.content_type)
    if media_type == "multipart/form-data":
        parts = []
        for storage in request.files.values():
            parts.append((storage.read(), storage.mimetype or ""))
        if not parts:
            raise BadRequestError("the multipart body has no file parts")
    else:
        parts = [(request.get_data(cache=False), media_type)]
    checked = []
    for data, part_type in parts:
        syntax = rdf_syntax_for_media_type(part_type, WRITABLE)
        if syntax is None:
            accepted = ", ".join(s.media_type for s in WRITABLE)
            raise UnsupportedMediaTypeError(f"RDF payloads must be one of {accepted}; got "
                                            f"'{part_type or 'no Content-Type'}'")
        if syntax is RDFXML:
            check_xml(data)
        elif syntax is JSONLD:
            check_json_nesting(data)
        checked.append((data, syntax.media_type))
    return checked


@bp.route("/store", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
@bp.route("/store/<path:subpath>", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def graph_store(subpath: str | None = None):
    svc = services()
    if request.method in {"GET", "HEAD"}:
        graph, _ = target_graph(subpath)
        syntax = negotiate(request.headers.get("Accept"), GRAPH_SYNTAXES + DATASET_SYNTAXES)
        body = svc.store.export_graph(graph, syntax.media_type)
        if body is None:
            raise NotFoundError(f"there is no graph <{graph}>")
        response = Response(b"" if request.method == "HEAD" else body,
                            content_type=syntax.media_type + "; charset=utf-8")
        if request.method == "HEAD":
            response.headers["Content-Length"] = str(len(body))
        response.headers["Vary"] = "Accept"
        response.headers["ETag"] = f'W/"{svc.store.version}"'
        return allow_cors(response)

    grant = require_grant(svc.tokens)
    if request.method == "DELETE":
        graph, _ = target_graph(subpath)
        outcome = svc.writes.delete_graph(grant, graph)
        if not outcome.existed:
            raise NotFoundError(f"there is no graph <{graph}>")
        return Response(status=204)

    graph, named = target_graph(subpath, allow_none=request.method == "POST")
    parts = request_parts()
    if request.method == "PUT":
        outcome = svc.writes.put_graph(grant, graph, parts, base_iri=graph or request.base_url)
        return Response(status=201 if outcome.created else 204)
    if not named:
        # POST to the service itself: create a new graph and tell where it is
        graph = request.url_root + "store/" + uuid.uuid4().hex
        svc.writes.put_graph(grant, graph, parts, base_iri=graph)
        response = Response(status=201)
        response.headers["Location"] = graph
        return response
    outcome = svc.writes.post_graph(grant, graph, parts, base_iri=graph or request.base_url)
    return Response(status=201 if outcome.created and graph is not None else 204)
