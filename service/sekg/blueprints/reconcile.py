"""Serve the W3C Reconciliation Service API (0.2) at /reconcile, so OpenRefine can match organisations."""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response, render_template, request

from ..app import services
from ..errors import BadRequestError, NotFoundError
from ..http import allow_cors
from ..reconciliation import ENTERPRISE, PROPERTIES, TYPES, OrganisationIndex
from .publishing import public_url

bp = Blueprint("reconcile", __name__)

CALLBACK = re.compile(r"[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*")
MAX_QUERIES = 500


def index() -> OrganisationIndex:
    extras = services().extras
    if "organisations" not in extras:
        extras["organisations"] = OrganisationIndex(services().store, services().queries)
    return extras["organisations"].current()


def language() -> str:
    return "it" if request.accept_languages.best_match(["en", "it"]) == "it" else "en"


def answer(payload: dict) -> Response:
    """Answer JSON, or JSONP when the (older) client asks with a callback parameter."""
    body = json.dumps(payload, ensure_ascii=False)
    callback = request.args.get("callback")
    if callback:
        if not CALLBACK.fullmatch(callback) or len(callback) > 100:
            raise BadRequestError("the callback parameter must be a JavaScript identifier")
        response = Response(f"/**/{callback}({body});", mimetype="application/javascript")
    else:
        response = Response(body, mimetype="application/json")
    response.charset = "utf-8"
    return allow_cors(response)


def manifest() -> dict:
    base = public_url()
    lang = language()
    return {
        "versions": ["0.2"],
        "name": "Social Economy Knowledge Graph" if lang == "en" else "Grafo della conoscenza dell'economia sociale",
        "identifierSpace": "https://w3id.org/sekg/id/",
        "schemaSpace": "https://w3id.org/sekg/ontology#",
        "documentation": base + "/reconcile/docs",
        "view": {"url": base + "/resource?iri={{id}}"},
        "preview": {"url": base + "/reconcile/preview?id={{id}}", "width": 400, "height": 140},
        "defaultTypes": [{"id": iri, "name": names[lang]} for iri, names in TYPES.items()],
        "suggest": {
            "entity": {"service_url": base, "service_path": "/reconcile/suggest/entity"},
            "type": {"service_url": base, "service_path": "/reconcile/suggest/type"},
            "property": {"service_url": base, "service_path": "/reconcile/suggest/property"},
        },
        "batchSize": 50,
    }


def parse_queries(raw: str) -> dict:
    """Read the `queries` batch; 400 naming what is wrong with it."""
    try:
        batch = json.loads(raw)
    except ValueError as exc:
        raise BadRequestError(f"'queries' is not valid JSON: {exc}") from None
    if not isinstance(batch, dict):
        raise BadRequestError("'queries' must be a JSON object of named queries, such as {\"q0\": {\"query\": \"...\"}}")
    if len(batch) > MAX_QUERIES:
        raise BadRequestError(f"at most {MAX_QUERIES} queries per request; got {len(batch)}")
    for name, query in batch.items():
        if not isinstance(query, dict):
            raise BadRequestError(f"query {name!r} must be an object")
        if not str(query.get("query") or "").strip() and not query.get("properties"):
            raise BadRequestError(f"query {name!r} needs a non-empty 'query' or some 'properties'")
        if "properties" in query and not isinstance(query["properties"], list):
            raise BadRequestError(f"query {name!r}: 'properties' must be a list of {{pid, v}} objects")
        for item in query.get("properties") or []:
            if not isinstance(item, dict) or "pid" not in item or "v" not in item:
                raise BadRequestError(f"query {name!r}: each property needs 'pid' and 'v'")
            if item["pid"] not in PROPERTIES:
                raise BadRequestError(f"query {name!r}: unknown property {item['pid']!r}; this service knows "
                                      f"{', '.join(PROPERTIES)}")
    return batch


@bp.route("/reconcile", methods=["GET", "POST"])
def reconcile():
    raw = request.values.get("queries")
    if raw is None:
        return answer(manifest())
    organisations = index()
    lang = language()
    results = {}
    for name, query in parse_queries(raw).items():
        candidates = organisations.reconcile(query)
        results[name] = {"result": [{
            "id": c.organisation.iri,
            "name": c.organisation.name,
            "score": c.score,
            "match": c.match,
            "description": c.organisation.description,
            "type": [{"id": t, "name": TYPES[t][lang]} for t in sorted(c.organisation.types) if t in TYPES],
            "features": c.features,
        } for c in candidates]}
    return answer(results)


@bp.route("/reconcile/suggest/entity")
def suggest_entity():
    prefix = request.args.get("prefix", "")
    found = index().suggest(prefix)
    return answer({"result": [{"id": o.iri, "name": o.name, "description": o.description} for o in found]})


@bp.route("/reconcile/suggest/type")
def suggest_type():
    prefix = request.args.get("prefix", "").lower()
    lang = language()
    return answer({"result": [{"id": iri, "name": names[lang]} for iri, names in TYPES.items()
                              if prefix in names["en"].lower() or prefix in names["it"].lower()]})


@bp.route("/reconcile/suggest/property")
def suggest_property():
    prefix = request.args.get("prefix", "").lower()
    lang = language()
    return answer({"result": [{"id": pid, "name": names[lang]} for pid, names in PROPERTIES.items()
                              if prefix in pid or prefix in names["en"].lower() or prefix in names["it"].lower()]})


@bp.route("/reconcile/preview")
def preview():
    iri = request.args.get("id", "")
    organisation = index().organisations.get(iri)
    if organisation is None:
        raise NotFoundError(f"no organisation <{iri}> in the graph")
    return render_template("reconcile_preview.html", organisation=organisation,
                           enterprise=ENTERPRISE in organisation.types)


@bp.route("/reconcile/docs")
def docs():
    return render_template("reconcile_docs.html", manifest=manifest(), properties=PROPERTIES, types=TYPES)
