"""Serve what harvesters and researchers read: the DCAT-AP catalogue, VoID, dumps, sitemap and robots.txt."""

from __future__ import annotations

import threading
from xml.sax.saxutils import escape

from flask import Blueprint, Response, make_response, render_template, request, send_file
from rdflib import Literal
from rdflib.namespace import DCAT, DCTERMS, RDF

from ..app import services
from ..catalog import CatalogBuilder, to_dcatapit
from ..errors import BadRequestError, NotFoundError, StoreBusyError
from ..i18n import choose_language
from ..linked_data import (DOCUMENT_SYNTAXES, HTML, DocumentAddress, choose_representation, finish, serialize,
                           split_suffix)
from ..negotiation import prefers_html
from ..void import build_void

bp = Blueprint("publishing", __name__)
SITEMAP_SIZE = 50_000
_cache_lock = threading.Lock()


def public_url() -> str:
    """Return this server's public address: SEKG_PUBLIC_URL, else the address the request came to."""
    return services().settings.SEKG_PUBLIC_URL or request.url_root.rstrip("/")


def cached(kind: str, key: tuple, build):
    """Keep built documents per store version (the data they describe only changes with it)."""
    svc = services()
    cache = svc.extras.setdefault("documents", {})
    full_key = (kind, svc.store.version, *key)
    with _cache_lock:
        if full_key in cache:
            return cache[full_key]
    value = build()
    with _cache_lock:
        for old in [k for k in cache if k[1] != svc.store.version]:
            del cache[old]
        cache[full_key] = value
    return value


def dumps():
    return services().extras["dumps"]


def _rdf_document(graph_builder, address: DocumentAddress, forced, template: str, **context):
    svc = services()
    representation = choose_representation(forced)
    graph = graph_builder()
    if representation == HTML:
        body = render_template(template, graph=graph, formats=address.formats(), **context)
        response = make_response(body)
        response.mimetype = "text/html"
        response.headers["Content-Language"] = choose_language()
    else:
        response = Response(serialize(graph, representation, context_url=public_url() + "/context.jsonld"),
                            content_type=representation.media_type + "; charset=utf-8")
    if request.method == "HEAD":
        response.set_data(b"")
    return finish(response, address=address, representation=representation, version=svc.store.version,
                  modified=svc.store.modified)


@bp.route("/catalog", methods=["GET", "HEAD"])
@bp.route("/catalog<any('.ttl', '.jsonld', '.rdf', '.nt', '.nq', '.trig', '.html'):suffix>", methods=["GET", "HEAD"])
def catalog(suffix: str = ""):
    """The DCAT-AP 3 catalogue; `?profile=dcat-ap-it` gives the DCAT-AP_IT view; `?page=N` pages datasets."""
    _, forced = split_suffix("catalog" + suffix)
    profile = request.args.get("profile", "dcat-ap")
    if profile not in {"dcat-ap", "dcat-ap-it"}:
        raise BadRequestError("profile must be dcat-ap or dcat-ap-it")
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        raise BadRequestError("page must be a number") from None
    dumps().refresh()
    base_url = public_url()

    def build():
        def make():
            graph = CatalogBuilder(services(), base_url, dumps().manifest()).build(page)
            return to_dcatapit(graph) if profile == "dcat-ap-it" else graph
        return cached("catalog", (base_url, page, profile, bool(dumps().manifest())), make)

    if profile != "dcat-ap" or page != 1:
        address = DocumentAddress(f"/catalog?profile={profile}&page={page}", query_style=True)
    else:
        address = DocumentAddress("/catalog")
    return _rdf_document(build, address, forced, "catalog.html", profile=profile, view=catalog_view)


def _text(graph, node, predicate, language: str) -> str:
    values = list(graph.objects(node, predicate))
    for wanted in (language, None, "en"):
        for value in values:
            if getattr(value, "language", None) == wanted:
                return str(value)
    return str(values[0]) if values else ""


def catalog_view(graph, language: str) -> list[dict]:
    """List the catalogue's datasets with their distributions, for the HTML page."""
    datasets = []
    for dataset in graph.subjects(RDF.type, DCAT.Dataset):
        distributions = [{"title": _text(graph, d, DCTERMS.title, language),
                          "url": str(graph.value(d, DCAT.downloadURL) or graph.value(d, DCAT.accessURL) or ""),
                          "format": str(graph.value(d, DCTERMS.format) or "").rsplit("/", 1)[-1]}
                         for d in graph.objects(dataset, DCAT.distribution)]
        datasets.append({"title": _text(graph, dataset, DCTERMS.title, language),
                         "identifier": str(graph.value(dataset, DCTERMS.identifier) or ""),
                         "description": _text(graph, dataset, DCTERMS.description, language),
                         "distributions": sorted(distributions, key=lambda d: d["title"])})
    return sorted(datasets, key=lambda d: (not d["identifier"].endswith(":sekg"), d["title"].lower()))


@bp.route("/.well-known/void", methods=["GET", "HEAD"])
@bp.route("/void<any('.ttl', '.jsonld', '.rdf', '.nt', '.html', ''):suffix>", methods=["GET", "HEAD"])
def void(suffix: str = ""):
    _, forced = split_suffix("void" + suffix)
    base_url = public_url()
    names = sorted((dumps().manifest() or {}).get("files", {}))
    build = lambda: cached("void", (base_url, tuple(names)), lambda: build_void(services(), base_url, names))  # noqa: E731
    return _rdf_document(build, DocumentAddress("/void"), forced, "void.html")


@bp.route("/dumps", methods=["GET", "HEAD"])
@bp.route("/dumps/", methods=["GET", "HEAD"])
def dump_list():
    dumps().refresh()
    manifest = dumps().manifest()
    if prefers_html(request.headers.get("Accept"), DOCUMENT_SYNTAXES):
        return render_template("dumps.html", manifest=manifest, fresh=dumps().fresh)
    response = make_response({"manifest": manifest, "fresh": dumps().fresh})
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/dumps/<name>", methods=["GET", "HEAD"])
def dump_file(name: str):
    if name not in {"sekg.nq.gz", "sekg.nt.gz", "sekg.ttl", "sekg.jsonld"}:
        raise NotFoundError(f"there is no dump called {name!r}; see /dumps")
    dumps().refresh()
    path = dumps().path(name)
    if path is None or not path.exists():
        raise StoreBusyError("the dumps are being made; try again in a minute", headers={"Retry-After": "60"})
    manifest = dumps().manifest()
    info = manifest["files"][name]
    response = send_file(path, mimetype=info["media_type"], conditional=True, etag=info["sha256"][:32],
                         download_name=name, max_age=300)
    if info.get("compressed"):
        response.mimetype = "application/gzip"
        response.headers["Content-Type"] = "application/gzip"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Sekg-Data-Version"] = manifest["version"]
    return response


@bp.route("/robots.txt", methods=["GET", "HEAD"])
def robots():
    body = (f"User-agent: *\nDisallow: /sparql\nDisallow: /update\nDisallow: /store\nDisallow: /import\n"
            f"Allow: /\nSitemap: {public_url()}/sitemap.xml\n")
    return Response(body, mimetype="text/plain")


def _entities() -> list[str]:
    svc = services()
    base = svc.settings.base_iri + "id/"
    return cached("entities", (), lambda: [str(r["s"]) for r in svc.store.select(
        svc.queries["list_entities"].text, {"base": Literal(base)}, union=True)])


@bp.route("/sitemap.xml", methods=["GET", "HEAD"])
@bp.route("/sitemap-<int:number>.xml", methods=["GET", "HEAD"])
def sitemap(number: int | None = None):
    """Every entity's page; past 50,000 entities, a sitemap index over numbered sitemaps."""
    svc = services()
    entities = _entities()
    root = public_url()
    id_base = svc.settings.base_iri + "id/"
    pages = max(1, -(-len(entities) // SITEMAP_SIZE))
    lines = ['<?xml version="1.0" encoding="UTF-8"?>']
    if number is None and pages > 1:
        lines.append('<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">')
        lines += [f"<sitemap><loc>{escape(root)}/sitemap-{i}.xml</loc></sitemap>" for i in range(1, pages + 1)]
        lines.append("</sitemapindex>")
    else:
        index = 1 if number is None else number
        if not 1 <= index <= pages:
            raise NotFoundError(f"there is no sitemap {index}")
        chunk = entities[(index - 1) * SITEMAP_SIZE: index * SITEMAP_SIZE]
        lines.append('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">')
        extra = [f"{root}/", f"{root}/catalog", f"{root}/ontology", f"{root}/shapes"] if index == 1 else []
        lines += [f"<url><loc>{escape(url)}</loc></url>" for url in extra]
        lines += [f"<url><loc>{escape(root + '/doc/' + iri[len(id_base):])}</loc></url>" for iri in chunk]
        lines.append("</urlset>")
    return Response("\n".join(lines) + "\n", mimetype="application/xml")

