"""Share the request and response rules of every endpoint: limits, CORS, bodies, tokens, answers."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Response, request

from .errors import (BadRequestError, PayloadTooLargeError, UnauthorizedError, UnsupportedMediaTypeError,
                     UriTooLongError)
from .formats import media_type_of
from .tokens import Grant

READ_METHODS = "GET, HEAD, POST, OPTIONS"


def register_request_limits(app) -> None:
    """Refuse over-long URIs (414) and bodies (413) before any handler reads them; answer CORS preflights."""
    settings = app.extensions["sekg"].settings

    @app.before_request
    def check_limits():
        uri_length = len(request.environ.get("RAW_URI") or request.full_path)
        if uri_length > settings.SEKG_MAX_URL_BYTES:
            raise UriTooLongError(f"the request URI has {uri_length} bytes; the limit is "
                                  f"{settings.SEKG_MAX_URL_BYTES}; send long queries by POST")
        check_request_target()
        length = request.content_length
        if length is not None and length > settings.SEKG_MAX_BODY_BYTES:
            raise PayloadTooLargeError(f"the request body has {length} bytes; the limit is "
                                       f"{settings.SEKG_MAX_BODY_BYTES}")
        if request.method == "OPTIONS":
            return preflight()

    @app.after_request
    def add_common_headers(response: Response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response


def check_request_target() -> None:
    """Refuse (400) a path or query string that is not UTF-8 or holds a NUL, instead of guessing what it meant.

    The WSGI server decodes the path's percent-escapes to bytes (as Latin-1 text); the query string
    is still percent-encoded. Werkzeug would silently replace or re-quote bad bytes.
    """
    try:
        path = request.environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise BadRequestError("the request path is not valid UTF-8 (after percent-decoding)") from None
    query = request.environ.get("QUERY_STRING", "")
    try:
        query = unquote_to_bytes(query.encode("latin-1")).decode("utf-8")
    except UnicodeError:
        raise BadRequestError("the query string is not valid UTF-8 (after percent-decoding)") from None
    if "\x00" in path or "\x00" in query:
        raise BadRequestError("the request path or query string holds a NUL character (%00)")


def preflight() -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = READ_METHODS
    response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type, Accept-Language, If-None-Match"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


def allow_cors(response: Response) -> Response:
    """Let browsers on other sites read the answer (reads only; writes need a token)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "Content-Type, Link, ETag, Last-Modified, Vary, " \
                                                       "X-SPARQL-MaxRows, Sekg-Results-Truncated"
    return response


def charset_of(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


def read_text_body(what: str) -> str:
    """Return the request body as text; only UTF-8 is accepted."""
    charset = charset_of(request.content_type)
    if charset not in (None, "utf-8", "utf8"):
        raise UnsupportedMediaTypeError(f"{what} must be encoded in UTF-8, not {charset}")
    data = request.get_data(cache=True)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequestError(f"{what} is not valid UTF-8 (byte {exc.start})") from None


def request_media_type() -> str:
    return media_type_of(request.content_type)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def require_grant(tokens) -> Grant:
    """Return the grant of the request's bearer token; 401 when it is missing or not valid."""
    token = bearer_token()
    if token is None:
        raise UnauthorizedError("this request changes data: send 'Authorization: Bearer <token>'")
    grant = tokens.check(token)
    if grant is None:
        raise UnauthorizedError("the bearer token is not valid or was revoked",
                                headers={"WWW-Authenticate": 'Bearer realm="sekg", error="invalid_token"'})
    return grant


def single_param(values: list[str], name: str) -> str | None:
    """Return the one value of a parameter; 400 when it is given more than once."""
    if len(values) > 1:
        raise BadRequestError(f"the parameter '{name}' is given {len(values)} times; give it once")
    return values[0] if values else None
