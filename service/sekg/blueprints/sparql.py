"""Serve the SPARQL 1.1 Query protocol at /sparql, its service description and the query editor."""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Blueprint, Response, render_template, request
from werkzeug.datastructures import MultiDict

from ..app import services
from ..errors import BadRequestError, UnsupportedMediaTypeError
from ..formats import (BOOLEAN_SYNTAXES, DATASET_SYNTAXES, GRAPH_SYNTAXES, JSONLD, NQUADS, NTRIPLES, RDFXML,
                       RESULTS_CSV, RESULTS_JSON, RESULTS_SYNTAXES, RESULTS_TSV, RESULTS_XML, TRIG, TURTLE)
from ..http import allow_cors, read_text_body, request_media_type, single_param
from ..negotiation import negotiate, prefers_html
from ..sparql_text import check_complexity, check_federation, lex
from ..store.base import Answer, query_form
from .service_description import service_description_response

bp = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
# Values of the `format` parameter that clients send (SPARQLWrapper, Virtuoso and Fuseki habits),
# read according to the query form.
RESULTS_FORMAT_NAMES = {"json": RESULTS_JSON, "srj": RESULTS_JSON, "xml": RESULTS_XML, "srx": RESULTS_XML,
                        "csv": RESULTS_CSV, "tsv": RESULTS_TSV}
GRAPH_FORMAT_NAMES = {"turtle": TURTLE, "ttl": TURTLE, "n3": TURTLE, "nt": NTRIPLES, "ntriples": NTRIPLES,
                      "n-triples": NTRIPLES, "xml": RDFXML, "rdf": RDFXML, "rdfxml": RDFXML, "rdf+xml": RDFXML,
                      "json": JSONLD, "jsonld": JSONLD, "json-ld": JSONLD, "nquads": NQUADS, "nq": NQUADS,
                      "trig": TRIG}


def parse_form_body(what: str) -> MultiDict:
    """Decode an application/x-www-form-urlencoded body strictly (UTF-8, percent-encoding)."""
    text = read_text_body(what)
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadRequestError(f"{what} has percent-encoded bytes that are not UTF-8") from None
    return MultiDict(pairs)


def protocol_params(kind: str) -> MultiDict:
    """Gather protocol parameters from the URL and, for POST, the body (as the protocol allows)."""
    params = MultiDict(request.args)
    if request.method != "POST":
        return params
    media_type = request_media_type()
    direct = DIRECT if kind == "query" else "application/sparql-update"
    if media_type == FORM:
        for key, value in parse_form_body(f"the form-encoded {kind} request").items(multi=True):
            params.add(key, value)
    elif media_type == direct:
        if kind in params:
            raise BadRequestError(f"a direct POST carries the {kind} in its body; do not also give '{kind}' in the URL")
        params.add(kind, read_text_body(f"the {kind}"))
    elif not media_type:
        raise UnsupportedMediaTypeError(f"a POST needs a Content-Type: {FORM} or {direct}")
    else:
        raise UnsupportedMediaTypeError(f"a {kind} POST must be {FORM} or {direct}, not {media_type}")
    return params


def choose_syntax(form: str, params: MultiDict):
    """Pick the answer's syntax: a `format` (or `output`) parameter first, then the Accept header.

    Clients such as SPARQLWrapper repeat the parameter with several spellings; the first one
    understood wins.
    """
    offers = RESULTS_SYNTAXES if form in {"SELECT", "ASK"} else GRAPH_SYNTAXES + DATASET_SYNTAXES
    wanted = params.getlist("format") + params.getlist("output")
    if wanted:
        names = RESULTS_FORMAT_NAMES if form in {"SELECT", "ASK"} else GRAPH_FORMAT_NAMES
        for value in wanted:
            value = value.strip().lower()
            syntax = names.get(value) or next((s for s in offers if value in (s.media_type, *s.aliases)), None)
            if syntax is not None:
                return syntax
        known = ", ".join(sorted(names))
        raise BadRequestError(f"format {', '.join(wanted)} is not available for a {form} query; use one of {known}")
    return negotiate(request.headers.get("Accept"), offers)


def has_dataset_clause(text: str) -> bool:
    return any(token.keyword == "FROM" for token in lex(text))


def answer_response(answer: Answer, settings) -> Response:
    """Stream a finished answer with its headers."""
    response = Response(answer.chunks(), status=200, content_type=answer.media_type + "; charset=utf-8")
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = "no-cache"
    if answer.truncated:
        response.headers["X-SPARQL-MaxRows"] = str(answer.limit)
        response.headers["Sekg-Results-Truncated"] = (
            f"true; the answer was cut at {answer.limit} rows; use LIMIT and OFFSET to page through it")
    return allow_cors(response)


@bp.route("/sparql", methods=["GET", "POST"])
def sparql():
    svc = services()
    settings = svc.settings
    params = protocol_params("query")
    if "update" in params:
        raise BadRequestError("this is the query endpoint; send SPARQL updates to /update")
    text = single_param(params.getlist("query"), "query")
    if text is None:
        if request.method == "POST":
            raise BadRequestError("the request has no 'query'")
        return editor_or_description(svc)
    if not text.strip():
        raise BadRequestError("the query is empty")
    svc.limiter.check(request.remote_addr or "unknown")
    check_complexity(text)
    form = query_form(text)
    check_federation(text, settings.SEKG_SERVICE_ALLOWLIST)
    syntax = choose_syntax(form, params)
    if form == "ASK" and syntax not in BOOLEAN_SYNTAXES + RESULTS_SYNTAXES:
        raise BadRequestError("an ASK query answers in a results syntax")
    default_graphs = params.getlist("default-graph-uri")
    named_graphs = params.getlist("named-graph-uri")
    explicit = bool(default_graphs or named_graphs)
    answer = svc.store.run_query(
        text, syntax=syntax.key, media_type=syntax.media_type, form=form,
        default_graphs=default_graphs if explicit else None,
        named_graphs=named_graphs if explicit else None,
        union=not explicit and not has_dataset_clause(text),
        base_iri=request.base_url, max_rows=settings.SEKG_MAX_RESULT_ROWS,
    )
    return answer_response(answer, settings)


def editor_or_description(svc):
    """Answer a GET without a query: the editor for browsers, the service description for the rest."""
    from ..formats import GRAPH_SYNTAXES as OFFERS

    if prefers_html(request.headers.get("Accept"), OFFERS):
        examples = [{"name": q.title, "query": q.text} for q in svc.queries.values() if q.example]
        response = Response(render_template("sparql_editor.html", examples=examples,
                                            endpoint=request.base_url), mimetype="text/html")
        response.headers["Vary"] = "Accept"
        return response
    return service_description_response(svc)
