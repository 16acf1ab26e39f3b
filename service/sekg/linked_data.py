"""Represent resources as Linked Data documents: IRIs and paths, formats, and the HTTP headers of each."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote

from flask import Response, request
from rdflib import Graph

from .errors import NotAcceptableError
from .formats import JSONLD, NQUADS, NTRIPLES, RDFXML, TRIG, TURTLE
from .http import allow_cors
from .namespaces import PREFIXES
from .negotiation import negotiate, prefers_html

HTML = "html"
DOCUMENT_SYNTAXES = (TURTLE, JSONLD, RDFXML, NTRIPLES, NQUADS, TRIG)
SUFFIXES = {".ttl": TURTLE, ".jsonld": JSONLD, ".rdf": RDFXML, ".nt": NTRIPLES, ".nq": NQUADS, ".trig": TRIG,
            ".html": HTML}
EXTENSION = {TURTLE: ".ttl", JSONLD: ".jsonld", RDFXML: ".rdf", NTRIPLES: ".nt", NQUADS: ".nq", TRIG: ".trig",
             HTML: ".html"}


@dataclass(frozen=True)
class UriSpace:
    """Map the graph's canonical IRIs to this server's paths, whatever host it runs on."""

    base: str

    def iri(self, path: str) -> str:
        return self.base + path.lstrip("/")

    def local(self, iri: str) -> str | None:
        """Return the server path of an IRI in our space, or None."""
        if iri.startswith(self.base):
            return "/" + iri[len(self.base):]
        return None

    def page(self, iri: str) -> str:
        """Return the path of the page that describes an IRI (ours or an external one)."""
        local = self.local(iri)
        if local is not None:
            if local.startswith("/id/"):
                return "/doc/" + local[len("/id/"):]
            return local
        return "/resource?iri=" + quote(iri, safe="")


def split_suffix(path: str):
    """Split a forced format suffix off a document path: ("id/x", TURTLE) for "id/x.ttl"."""
    for suffix, syntax in SUFFIXES.items():
        if path.endswith(suffix):
            return path[: -len(suffix)], syntax
    return path, None


def choose_representation(forced=None, *, html: bool = True):
    """Return HTML or an RDF syntax: the suffix wins, then Accept (406 when nothing fits)."""
    if forced is not None:
        return forced
    accept = request.headers.get("Accept")
    if html and prefers_html(accept, DOCUMENT_SYNTAXES):
        return HTML
    try:
        return negotiate(accept, DOCUMENT_SYNTAXES)
    except NotAcceptableError:
        if html:
            raise NotAcceptableError("none of the acceptable media types can be produced; offered: text/html, "
                                     + ", ".join(s.media_type for s in DOCUMENT_SYNTAXES)) from None
        raise


@dataclass(frozen=True)
class DocumentAddress:
    """Where a document and each of its formats live: `/doc/x` + `.ttl`, or `/resource?iri=…` + `&format=ttl`."""

    path: str
    query_style: bool = False

    def url(self, representation) -> str:
        extension = EXTENSION[representation]
        if self.query_style:
            return f"{self.path}&format={extension.lstrip('.')}"
        return self.path + extension

    def formats(self) -> list[dict]:
        return [{"media_type": s.media_type, "href": self.url(s)} for s in DOCUMENT_SYNTAXES]


def alternates(address: DocumentAddress) -> str:
    """Build the Link header listing every format of a document."""
    links = [f'<{address.url(HTML)}>; rel="alternate"; type="text/html"']
    for syntax in DOCUMENT_SYNTAXES:
        links.append(f'<{address.url(syntax)}>; rel="alternate"; type="{syntax.media_type}"')
    return ", ".join(links)


@lru_cache(maxsize=1)
def jsonld_context() -> dict:
    """Return the published JSON-LD context: the project's prefixes."""
    return {"@context": {prefix: iri for prefix, iri in PREFIXES.items()}}


def serialize(graph: Graph, syntax, *, context_url: str) -> bytes:
    """Serialise a graph (or dataset) in an RDF syntax; JSON-LD is compacted with the published context."""
    if syntax is JSONLD:
        data = json.loads(graph.serialize(format="json-ld", context=jsonld_context()["@context"], auto_compact=True))
        if isinstance(data, dict):
            data["@context"] = context_url
        return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    return graph.serialize(format=syntax.rdflib, encoding="utf-8")


def finish(response: Response, *, address: DocumentAddress, representation, version: str, modified) -> Response:
    """Add the Linked Data headers: Vary, Link, Content-Location, validators; answer 304 when fresh."""
    response.headers["Vary"] = "Accept, Accept-Language"
    response.headers["Link"] = alternates(address)
    response.headers["Content-Location"] = address.url(representation)
    tag = hashlib.sha256(f"{version}|{address.url(representation)}|{response.headers.get('Content-Language', '')}"
                         .encode()).hexdigest()[:32]
    response.set_etag(tag, weak=True)
    if modified is not None:
        response.headers["Last-Modified"] = format_datetime(modified, usegmt=True)
    response.headers.setdefault("Cache-Control", "public, max-age=60")
    allow_cors(response)
    if is_fresh(tag, modified):
        fresh = Response(status=304)
        for name in ("ETag", "Last-Modified", "Vary", "Link", "Content-Location", "Cache-Control",
                     "Access-Control-Allow-Origin"):
            if name in response.headers:
                fresh.headers[name] = response.headers[name]
        return fresh
    return response


def is_fresh(tag: str, modified) -> bool:
    """Tell whether the client's conditional headers show it has this representation already."""
    if request.if_none_match:
        return request.if_none_match.contains_weak(tag)
    since = request.headers.get("If-Modified-Since")
    if since and modified is not None:
        try:
            return parsedate_to_datetime(since) >= modified.replace(microsecond=0)
        except (TypeError, ValueError):
            return False
    return False
