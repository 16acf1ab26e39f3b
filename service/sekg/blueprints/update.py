"""Serve the SPARQL 1.1 Update protocol at /update: token-scoped, SHACL-checked, atomic."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ..app import services
from ..errors import BadRequestError, MethodNotAllowedError
from ..http import require_grant, single_param
from .sparql import protocol_params

bp = Blueprint("update", __name__)


@bp.route("/update", methods=["GET", "POST"])
def update():
    svc = services()
    if request.method == "GET":
        raise MethodNotAllowedError("SPARQL updates must be sent by POST", headers={"Allow": "POST"})
    params = protocol_params("update")
    if "query" in params:
        raise BadRequestError("this is the update endpoint; send queries to /sparql")
    grant = require_grant(svc.tokens)
    text = single_param(params.getlist("update"), "update")
    if text is None or not text.strip():
        raise BadRequestError("the request has no 'update'")
    svc.writes.update(grant, text, base_iri=request.base_url,
                      using=params.getlist("using-graph-uri"), using_named=params.getlist("using-named-graph-uri"))
    return Response(status=204)
