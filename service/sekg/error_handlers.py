"""Map every error to an HTTP answer in one place: status, a message naming the problem, no internals."""

from __future__ import annotations

import json
import logging

from flask import Response, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from .errors import SekgError, ValidationError
from .negotiation import parse_accept, quality

log = logging.getLogger(__name__)

_TEXT_TYPES = ("text/turtle", "application/n-triples", "text/plain", "text/csv", "text/tab-separated-values")


def _preferred(offers: list[str]) -> str:
    ranges = parse_accept(request.headers.get("Accept"))
    best, best_q = offers[0], -1.0
    for offer in offers:
        q = quality(ranges, offer)
        if q > best_q:
            best, best_q = offer, q
    return best


def error_response(status: int, title: str, message: str, *, detail=None, headers=None) -> Response:
    """Answer an error as JSON, plain text or HTML, whichever the client prefers."""
    if isinstance(detail, object) and hasattr(detail, "to_turtle") and status == 422:
        kind = _preferred(["application/json", "text/turtle", "application/ld+json"])
        if kind == "text/turtle":
            body, mimetype = detail.to_turtle(), "text/turtle"
        elif kind == "application/ld+json":
            body, mimetype = detail.to_graph().serialize(format="json-ld"), "application/ld+json"
        else:
            payload = {"error": title, "status": status, "message": message, "report": detail.as_json()}
            body, mimetype = json.dumps(payload, ensure_ascii=False, indent=2), "application/json"
    else:
        kind = _preferred(["application/json", "text/html", "text/plain", *_TEXT_TYPES])
        if kind == "text/html":
            body = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{status} {escape(title)}"
                    f"</title></head><body><h1>{status} {escape(title)}</h1><p>{escape(message)}</p></body></html>")
            mimetype = "text/html"
        elif kind in _TEXT_TYPES:
            prefix = "# " if kind in ("text/turtle", "application/n-triples") else ""
            body, mimetype = f"{prefix}{status} {title}: {message}\n", "text/plain"
        else:
            payload = {"error": title, "status": status, "message": message}
            if detail is not None and not hasattr(detail, "to_turtle"):
                payload["detail"] = detail
            body, mimetype = json.dumps(payload, ensure_ascii=False, indent=2), "application/json"
    response = Response(body, status=status, mimetype=mimetype)
    if mimetype.startswith("text/") or mimetype.endswith("json"):
        response.charset = "utf-8"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers["Vary"] = "Accept"
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    return response


_HTTP_MESSAGES = {
    404: "no resource at this address",
    405: "this method is not allowed here",
    413: "the request body is larger than this server accepts",
    414: "the request URI is longer than this server accepts",
}


def register_error_handlers(app) -> None:
    """Register the handlers that turn errors into answers."""

    @app.errorhandler(SekgError)
    def handle_sekg_error(exc: SekgError):
        if exc.status >= 500:
            log.warning("%s: %s", exc.title, exc.message)
        return error_response(exc.status, exc.title, exc.message, detail=exc.detail, headers=exc.headers)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        headers = {}
        if exc.code == 405 and getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(exc.valid_methods)
        message = _HTTP_MESSAGES.get(exc.code) or exc.description or exc.name
        if exc.code == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = f"the request body is larger than this server accepts ({limit} bytes)"
        return error_response(exc.code or 500, exc.name, message, headers=headers)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        log.exception("unexpected error while handling %s %s", request.method, request.path)
        return error_response(500, "Internal error", "the server failed to handle this request; it was logged")


__all__ = ["ValidationError", "error_response", "register_error_handlers"]
