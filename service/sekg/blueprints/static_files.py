"""Serve the static files (our scripts and styles, and the vendored front-end libraries)."""

from flask import Blueprint, send_from_directory

from ..paths import STATIC_DIR

bp = Blueprint("static_files", __name__)


@bp.route("/static/<path:filename>")
def static(filename: str):
    response = send_from_directory(STATIC_DIR, filename, max_age=3600)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
