"""Serve the directory buyers use: faceted search, exports, map, tender matching and charts."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, make_response, render_template, request

from ..app import services
from ..errors import BadRequestError, NotFoundError
from ..i18n import choose_language
from ..portal_index import FACETS
from ..portal_search import Selection, export_rows, facet_key, markers, search, sparql_for, suggest_concepts
from ..tender import match_tender

bp = Blueprint("portal", __name__)

FACET_TITLES = {
    "cpv": {"en": "Service or product (CPV)", "it": "Servizio o prodotto (CPV)"},
    "type": {"en": "Enterprise type", "it": "Tipo di impresa"},
    "mission": {"en": "Prevailing social mission", "it": "Missione sociale prevalente"},
    "place": {"en": "Place", "it": "Luogo"},
    "project": {"en": "Projects", "it": "Progetti"},
}
CHARTS = ("enterprises_by_type", "enterprises_by_mission", "enterprises_by_region", "projects_by_year",
          "calls_and_projects_by_programme")


def index():
    svc = services()
    portal_index = svc.extras["portal_index"]
    portal_index.ensure_current()
    return portal_index


def _selection():
    selection, ignored = Selection.from_args(request.args)
    return selection, ignored


@bp.route("/", methods=["GET", "HEAD"])
def directory():
    language = choose_language()
    portal_index = index()
    selection, ignored = _selection()
    page = search(portal_index, selection, language)
    query = sparql_for(selection)
    body = render_template(
        "directory.html", page=page, selection=selection, ignored=ignored, facets=FACETS, titles=FACET_TITLES,
        facet_key=facet_key, sparql_link="/sparql#query=" + quote(query, safe=""), query_text=query,
        building=portal_index.version is None, stale=not portal_index.fresh,
        tile_url=svc_settings().SEKG_TILE_URL)
    response = make_response(body)
    response.headers["Vary"] = "Accept-Language, Cookie"
    response.headers["Content-Language"] = language
    return response


def svc_settings():
    return services().settings


EXPORT_COLUMNS = ("iri", "name", "types", "missions", "services", "projects", "place", "homepage", "description")


@bp.route("/directory.<any('csv', 'json'):kind>", methods=["GET"])
def export(kind: str):
    """Export every enterprise of the current selection, with the columns the page shows."""
    language = choose_language()
    selection, _ = _selection()
    rows = export_rows(index(), selection, language)
    records = [{
        "iri": r["iri"], "name": r["name"], "types": "; ".join(r["types"]), "missions": "; ".join(r["missions"]),
        "services": "; ".join(f"{code} {label}" for code, label in r["services"]), "projects": "; ".join(r["projects"]),
        "place": r["place"] or "", "homepage": r["homepage"] or "", "description": r["description"] or "",
    } for r in rows]
    if kind == "json":
        response = Response(json.dumps({"total": len(records), "query": selection.query_string(),
                                        "enterprises": records}, ensure_ascii=False, indent=2),
                            mimetype="application/json")
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        writer.writerows(records)
        response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="enterprises.{kind}"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/api/markers")
def map_markers():
    selection, _ = _selection()
    response = jsonify({"markers": markers(index(), selection)})
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/api/suggest/<any('cpv', 'place'):kind>")
def suggest(kind: str):
    text = request.args.get("q", "")
    if len(text) > 100:
        raise BadRequestError("the text to complete is longer than 100 characters")
    concept_kind = "cpv" if kind == "cpv" else "nuts"
    found = suggest_concepts(index(), concept_kind, text, choose_language())
    return jsonify({"suggestions": found})


@bp.route("/tender", methods=["GET"])
def tender():
    language = choose_language()
    codes = request.args.get("codes", "")
    place = request.args.get("place", "").strip() or None
    required = request.args.get("type", "").strip() or None
    if len(codes) > 20_000:
        raise BadRequestError("the pasted text is longer than 20,000 characters")
    result = match_tender(index(), codes, place, required, language) if codes.strip() else None
    if request.args.get("format") == "json":
        if result is None:
            raise BadRequestError("give the tender's CPV codes as ?codes=")
        return jsonify({"codes": result.codes, "unknown": result.unknown, "place": result.place,
                        "required": result.required, "matches": result.matches})
    return render_template("tender.html", result=result, codes=codes, place=place or "", required=required or "")


@bp.route("/charts")
def charts():
    return render_template("charts.html", charts=CHARTS)


@bp.route("/api/charts/<name>")
def chart_data(name: str):
    """Draw a chart's data from a live query of the store (named query chart_<name>)."""
    if name not in CHARTS:
        raise NotFoundError(f"there is no chart {name!r}")
    svc = services()
    language = choose_language()
    cache = svc.extras.setdefault("charts", {})
    key = (name, language, svc.store.version)
    if key not in cache:
        rows = svc.store.select(svc.queries[f"chart_{name}"].text, union=True)
        data = {"labels": [], "series": {}}
        for row in rows:
            label = row.get("label_" + language) or row.get("label") or row.get("key")
            data["labels"].append(str(label) if label is not None else "")
            for variable, value in row.items():
                if variable.startswith("n_"):
                    data["series"].setdefault(variable[2:], []).append(int(value))
        cache.clear() if len(cache) > 50 else None
        cache[key] = data
    response = jsonify(cache[key])
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
