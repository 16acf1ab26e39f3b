"""Answer /health: 200 when the store answers, 503 otherwise."""

from flask import Blueprint, jsonify

from ..app import services

bp = Blueprint("health", __name__)


@bp.route("/health", methods=["GET", "HEAD"])
def health():
    report = services().store.health()
    response = jsonify(report)
    response.status_code = 200 if report.get("ok") else 503
    response.headers["Cache-Control"] = "no-store"
    return response
