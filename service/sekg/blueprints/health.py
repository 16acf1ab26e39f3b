"""Answer /health: 200 when the store answers, 503 otherwise."""

from flask import Blueprint, jsonify

from ..app import services

bp = Blueprint("health", __name__)


@bp.route("/health", methods=["GET", "HEAD"])
def health():
    svc = services()
    report = svc.store.health()
    index = svc.extras.get("portal_index")
    if index is not None:
        report["portal_index"] = "fresh" if index.fresh else ("building" if index.building else "stale")
    response = jsonify(report)
    response.status_code = 200 if report.get("ok") else 503
    response.headers["Cache-Control"] = "no-store"
    return response
