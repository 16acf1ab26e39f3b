"""Define the service's error hierarchy and map it to HTTP statuses in one place."""

from __future__ import annotations


class SekgError(Exception):
    """Base of every error the service reports to a client or an operator."""

    status = 500
    title = "Internal error"

    def __init__(self, message: str, *, detail: object | None = None, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.headers = headers or {}


class ConfigError(SekgError):
    """A setting is missing or invalid; raised at start-up."""

    title = "Configuration error"


class BadRequestError(SekgError):
    status = 400
    title = "Bad request"


class QuerySyntaxError(BadRequestError):
    title = "Malformed query"


class QueryTooComplexError(BadRequestError):
    """The query or update is nested too deeply or chains too many operators for the engine to parse safely."""

    title = "Query too complex"


class DataSyntaxError(BadRequestError):
    title = "Malformed RDF data"


class ForbiddenFeatureError(BadRequestError):
    """The request uses a feature the service refuses (SERVICE to a non-allowed endpoint, LOAD, ...)."""

    status = 403
    title = "Forbidden feature"


class UnauthorizedError(SekgError):
    status = 401
    title = "Authentication required"

    def __init__(self, message: str, **kwargs):
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="sekg"'})
        super().__init__(message, **kwargs)


class ForbiddenError(SekgError):
    status = 403
    title = "Forbidden"


class NotFoundError(SekgError):
    status = 404
    title = "Not found"


class MethodNotAllowedError(SekgError):
    status = 405
    title = "Method not allowed"


class NotAcceptableError(SekgError):
    status = 406
    title = "Not acceptable"


class PayloadTooLargeError(SekgError):
    status = 413
    title = "Request body too large"


class UriTooLongError(SekgError):
    status = 414
    title = "Request URI too long"


class UnsupportedMediaTypeError(SekgError):
    status = 415
    title = "Unsupported media type"


class ValidationError(SekgError):
    """The data violates the SHACL shapes; `detail` carries the report."""

    status = 422
    title = "Data does not conform to the shapes"


class TooManyRequestsError(SekgError):
    status = 429
    title = "Too many requests"


class StoreBusyError(SekgError):
    status = 503
    title = "Service busy"


class QueryTimeoutError(SekgError):
    status = 503
    title = "Query timed out"


class UpstreamError(SekgError):
    """The external SPARQL engine failed or cannot be reached."""

    status = 502
    title = "Upstream SPARQL engine error"


class UpstreamTimeoutError(UpstreamError):
    status = 504
    title = "Upstream SPARQL engine timed out"


class EngineRejectedError(BadRequestError):
    """The external SPARQL engine refused a request the service itself found well formed."""

    title = "Rejected by the SPARQL engine"


class StoreLockedError(SekgError):
    """The on-disk store is open in another process (a running server)."""

    title = "Store in use"
