"""Talk HTTP to one external SPARQL 1.1 engine: queries through SPARQLWrapper, writes through requests.

Every failure becomes a service error here, so nothing above sees an HTTP library's exception:
an unreachable engine is UpstreamError (502), a slow one UpstreamTimeoutError (504), a query
the engine refuses is EngineRejectedError (400). Messages never carry the engine's address.
"""

from __future__ import annotations

import ast
import logging
import math
import socket
import time
import urllib.error
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPException

import requests
from requests.auth import HTTPBasicAuth, HTTPDigestAuth
from SPARQLWrapper import BASIC, DIGEST, POST, URLENCODED, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import (EndPointInternalError, EndPointNotFound, QueryBadFormed,
                                            SPARQLWrapperException, Unauthorized, URITooLong)

from ...errors import EngineRejectedError, UpstreamError, UpstreamTimeoutError
from .dialects import Dialect

log = logging.getLogger(__name__)

UNREACHABLE = "the SPARQL engine cannot be reached"
MESSAGE_LIMIT = 300  # characters of an engine's error message passed on to the client


def engine_message(body: bytes | str | None) -> str:
    """Return the first line of an engine's error text, short enough to show to a client."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")  # Virtuoso sends UTF-8 without saying so
    line = next((part.strip() for part in (body or "").splitlines() if part.strip()), "")
    return line[:MESSAGE_LIMIT] or "no message"


def _wrapper_body(exc: SPARQLWrapperException) -> bytes:
    """Recover the response body SPARQLWrapper folded into its exception's message (as a bytes repr)."""
    text = str(exc)
    _, found, tail = text.partition("Response:\n")
    if not found:
        return b""
    try:
        value = ast.literal_eval(tail.strip())
    except (ValueError, SyntaxError):
        return tail.encode()
    return value if isinstance(value, bytes) else str(value).encode()


@dataclass
class Reply:
    """An engine's successful answer: headers, and a body still to be read."""

    headers: dict
    stream: object  # file-like, read(n) -> bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Engine:
    """One external SPARQL engine: its endpoints, credentials and dialect."""

    def __init__(self, settings, dialect: Dialect):
        self.dialect = dialect
        self.query_url = settings.SEKG_REMOTE_QUERY_URL
        self.update_url = settings.SEKG_REMOTE_UPDATE_URL
        self.gsp_url = settings.SEKG_REMOTE_GSP_URL or None
        self.user = settings.SEKG_REMOTE_USER
        self.password = settings.SEKG_REMOTE_PASSWORD
        self.session = requests.Session()
        if self.user:
            auth_class = HTTPDigestAuth if dialect.auth == "digest" else HTTPBasicAuth
            self.session.auth = auth_class(self.user, self.password)

    def close(self) -> None:
        self.session.close()

    # --- queries --------------------------------------------------------------------------
    def query(self, text: str, *, accept: str, params: list[tuple[str, str]] = (), timeout: float) -> Reply:
        """Send a query as a form POST and return the answer's headers and unread body.

        A form, because Virtuoso never answers a direct `application/sparql-query` POST.
        """
        wrapper = SPARQLWrapper(self.query_url)
        wrapper.setMethod(POST)
        wrapper.setRequestMethod(URLENCODED)
        wrapper.setOnlyConneg(True)  # no `format`/`output` parameters: the Accept header says it
        wrapper.addCustomHttpHeader("Accept", accept)
        wrapper.setTimeout(max(1, math.ceil(timeout)))
        if self.user:
            # digest makes SPARQLWrapper install a process-wide urllib opener; every query installs
            # one with the same credentials, so concurrent queries do not disturb each other
            wrapper.setHTTPAuth(DIGEST if self.dialect.auth == "digest" else BASIC)
            wrapper.setCredentials(self.user, self.password)
        for name, value in params:
            wrapper.addParameter(name, value)
        wrapper.setQuery(text)
        try:
            result = wrapper.query()
        except QueryBadFormed as exc:
            raise EngineRejectedError(f"the SPARQL engine rejected the query: {engine_message(_wrapper_body(exc))}") \
                from None
        except EndPointInternalError as exc:
            raise self._server_error(_wrapper_body(exc)) from None
        except Unauthorized:
            raise UpstreamError("the SPARQL engine refused the service's credentials") from None
        except EndPointNotFound:
            raise UpstreamError("the SPARQL engine has no query endpoint at the configured address") from None
        except URITooLong:
            raise UpstreamError("the SPARQL engine refused the request as too long") from None
        except urllib.error.HTTPError as exc:
            raise self._status_error(exc.code, exc.read() if exc.fp else b"") from None
        except (urllib.error.URLError, OSError, HTTPException) as exc:
            raise self._network_error(exc) from None
        headers = {name.lower(): value for name, value in result.info().items()}
        return Reply(headers=headers, stream=result.response)

    def ping(self, text: str, timeout: float) -> None:
        """Run a tiny query; raise UpstreamError when the engine does not answer it."""
        reply = self.query(text, accept="application/sparql-results+xml", timeout=timeout)
        try:
            reply.stream.read()
        except (OSError, HTTPException) as exc:
            raise self._network_error(exc) from None
        finally:
            reply.stream.close()

    # --- updates and the Graph Store Protocol ------------------------------------------------
    def update(self, text: str, *, timeout: float) -> None:
        """Run a SPARQL update (form POST, as every engine accepts)."""
        self._send("POST", self.update_url, timeout=timeout, data={"update": text})

    def get_graph(self, graph: str, *, timeout: float) -> requests.Response | None:
        """Start reading a graph as N-Triples through the Graph Store Protocol; None when it does not exist."""
        response = self._send("GET", self.gsp_url, timeout=timeout, params={"graph": graph},
                              headers={"Accept": "application/n-triples"}, stream=True, allow=(404,))
        return None if response.status_code == 404 else response

    def put_graph(self, graph: str, data: bytes, *, timeout: float) -> None:
        """Replace a graph with N-Triples through the Graph Store Protocol."""
        self._send("PUT", self.gsp_url, timeout=timeout, params={"graph": graph}, data=data,
                   headers={"Content-Type": "application/n-triples"})

    def post_graph(self, graph: str, data: bytes, *, timeout: float) -> None:
        """Add N-Triples to a graph through the Graph Store Protocol."""
        self._send("POST", self.gsp_url, timeout=timeout, params={"graph": graph}, data=data,
                   headers={"Content-Type": "application/n-triples"})

    def _send(self, method: str, url: str, *, timeout: float, allow=(), **kwargs) -> requests.Response:
        try:
            response = self.session.request(method, url, timeout=(min(timeout, 10.0), timeout), **kwargs)
        except requests.Timeout:
            raise UpstreamTimeoutError("the SPARQL engine did not answer in time") from None
        except requests.RequestException as exc:
            raise self._network_error(exc) from None
        if response.status_code < 300 or response.status_code in allow:
            return response
        body = response.content
        if response.status_code == 400:
            raise EngineRejectedError(f"the SPARQL engine rejected the change: {engine_message(body)}")
        raise self._status_error(response.status_code, body)

    # --- errors -----------------------------------------------------------------------------
    def _server_error(self, body: bytes) -> UpstreamError:
        message = engine_message(body)
        if any(marker in message for marker in self.dialect.timeout_messages):
            return UpstreamTimeoutError(f"the SPARQL engine stopped the query: it takes longer than allowed ({message})")
        return UpstreamError(f"the SPARQL engine failed: {message}")

    def _status_error(self, status: int, body: bytes) -> UpstreamError:
        if status in (401, 403):
            return UpstreamError("the SPARQL engine refused the service's credentials")
        if status == 404:
            return UpstreamError("the SPARQL engine has no endpoint at the configured address")
        if status == 504:
            return UpstreamTimeoutError("the SPARQL engine (or a proxy before it) timed out")
        if status >= 500:
            return self._server_error(body)
        return UpstreamError(f"the SPARQL engine answered {status}: {engine_message(body)}")

    @staticmethod
    def _network_error(exc: BaseException) -> UpstreamError:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, (socket.timeout, TimeoutError)) or "timed out" in str(reason):
            return UpstreamTimeoutError("the SPARQL engine did not answer in time")
        log.debug("engine request failed: %r", exc)
        return UpstreamError(UNREACHABLE)


class Deadline:
    """The time left for one request to the engine."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    @property
    def left(self) -> float:
        return self.end - time.monotonic()

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise UpstreamTimeoutError(f"the SPARQL engine did not finish within {self.seconds:g} s")


@contextmanager
def closing_stream(reply: Reply):
    """Close an answer's body however reading it ends (a cut answer leaves the rest unread)."""
    try:
        yield reply.stream
    finally:
        try:
            reply.stream.close()
        except (OSError, HTTPException):
            pass
