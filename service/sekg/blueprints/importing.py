"""Serve spreadsheet imports over HTTP: POST /import with the federation's token answers the report."""

from __future__ import annotations

import json
from pathlib import PurePath

from flask import Blueprint, Response, request

from ..app import services
from ..errors import BadRequestError, UnsupportedMediaTypeError
from ..formats import media_type_of
from ..http import require_grant, single_param
from ..importing import check_federation, resolve_mapping
from ..importing.importer import Importer, federation_graph
from ..importing.report import to_csv, to_html
from ..negotiation import negotiate

bp = Blueprint("importing", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUFFIXES = {"text/csv": ".csv", "application/csv": ".csv", XLSX: ".xlsx"}
REPORT_TYPES = ("application/json", "text/csv", "text/html")
TRUE = {"1", "true", "yes", "on"}


def _flag(name: str) -> bool:
    value = single_param(request.args.getlist(name), name)
    return value is not None and value.strip().lower() in TRUE


def uploaded_file() -> tuple[str, bytes]:
    """Return the spreadsheet's file name and bytes: a multipart `file` part, or the body itself."""
    media_type = media_type_of(request.content_type)
    if media_type == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise BadRequestError("send the spreadsheet as the multipart part named 'file'")
        name = PurePath(upload.filename or "upload.csv").name
        if PurePath(name).suffix.lower() not in {".csv", ".xlsx"}:
            raise UnsupportedMediaTypeError(f"'{name}' is not a .csv or .xlsx file")
        return name, upload.read()
    if media_type not in SUFFIXES:
        raise UnsupportedMediaTypeError(f"send text/csv, {XLSX} or multipart/form-data; got "
                                        f"'{media_type or 'no Content-Type'}'")
    name = PurePath(single_param(request.args.getlist("filename"), "filename") or "upload").name
    if not name.lower().endswith(SUFFIXES[media_type]):
        name += SUFFIXES[media_type]
    return name, request.get_data(cache=False)


def federation_of(grant) -> str:
    """Take the federation from ?federation=, or from the token when it owns one federation graph."""
    given = single_param(request.args.getlist("federation"), "federation")
    if given:
        return check_federation(given)
    prefix = federation_graph("")
    owned = [g[len(prefix):] for g in grant.graphs if g.startswith(prefix) and "/" not in g[len(prefix):]]
    if len(owned) == 1:
        return owned[0]
    raise BadRequestError("name the federation with ?federation=ID")


@bp.route("/import", methods=["POST"])
def import_spreadsheet():
    svc = services()
    grant = require_grant(svc.tokens)
    federation = federation_of(grant)
    graph = federation_graph(federation)
    svc.writes.authorize(grant, {graph})  # before any work, dry runs included
    mapping = resolve_mapping(single_param(request.args.getlist("mapping"), "mapping"), allow_paths=False)
    report_type = negotiate(request.headers.get("Accept"), REPORT_TYPES)
    name, data = uploaded_file()
    importer = Importer(svc.store, svc.queries, svc.writes, engine=svc.settings.SEKG_RML_ENGINE or None,
                        max_rows=svc.settings.SEKG_IMPORT_MAX_ROWS, concepts=svc.extras["import_concepts"])
    result = importer.run(PurePath(name), federation, mapping, data=data, dry_run=_flag("dry-run"),
                          skip_invalid=_flag("skip-invalid"), link_duplicates=_flag("link-duplicates"),
                          grant=grant)
    if result.unreadable:
        status = 400
    elif result.written or (result.dry_run and not result.violations):
        status = 200
    else:
        status = 422
    language = "it" if (request.args.get("lang") or "").startswith("it") else "en"
    if report_type == "text/csv":
        body = to_csv(result)
    elif report_type == "text/html":
        body = to_html(result, language)
    else:
        body = json.dumps(result.as_json(), ensure_ascii=False, indent=2)
    response = Response(body, status=status, mimetype=report_type)
    response.charset = "utf-8"
    response.headers["Vary"] = "Accept"
    return response
