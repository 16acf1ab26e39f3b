"""What harvesters read: the DCAT-AP catalogue (checked with the official SEMIC shapes), VoID, dumps, sitemap."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import pyoxigraph as ox
import pyshacl
import pytest
import requests
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, SH, VOID

from conftest import SHARED

SEMIC = SHARED / "dcat-ap" / "3.0.1" / "html-shacl"
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
# Recommended properties the data cannot give: there is no geometry for countries in the shared
# reference data, and some source graphs state no country or date. Anything else must be present.
ACCEPTED_WARNINGS = {str(DCAT.bbox), str(DCAT.centroid), str(DCTERMS.spatial), str(DCTERMS.temporal)}


@pytest.fixture(scope="module")
def catalog(shipped_server) -> Graph:
    shipped_server.app.extensions["sekg"].extras["dumps"].refresh(wait=True)
    response = requests.get(shipped_server.url + "/catalog", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    return Graph().parse(data=response.text, format="turtle")


def semic(*names: str) -> Graph:
    shapes = Graph()
    for name in names:
        shapes.parse(SEMIC / name, format="turtle")
    return shapes


def results(data: Graph, shapes: Graph) -> list[tuple[str, str, str]]:
    _, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    return [(str(report.value(r, SH.resultSeverity)).rsplit("#", 1)[1], str(report.value(r, SH.resultPath)),
             str(report.value(r, SH.focusNode))) for r in report.subjects(RDF.type, SH.ValidationResult)]


def test_catalogue_conforms_to_dcat_ap_3(catalog):
    found = results(catalog, semic("shapes.ttl", "range.ttl"))
    assert found == []


def test_catalogue_has_the_recommended_properties(catalog):
    found = results(catalog, semic("shapes_recommended.ttl"))
    assert all(severity == "Warning" for severity, _, _ in found)
    unexpected = sorted({(path, focus) for _, path, focus in found if path not in ACCEPTED_WARNINGS})
    assert unexpected == []


def all_pages(server) -> Graph:
    """Read every page of the catalogue, following hydra:next."""
    merged, url = Graph(), server.url + "/catalog"
    while url:
        page = Graph().parse(data=requests.get(url, headers={"Accept": "text/turtle"}).text, format="turtle")
        merged += page
        view = page.value(URIRef("https://w3id.org/sekg/catalog"), HYDRA.view)
        url = str(page.value(view, HYDRA.next)) if view is not None and page.value(view, HYDRA.next) else None
    return merged


def test_catalogue_contents(catalog, shipped_server):
    catalog_iri = URIRef("https://w3id.org/sekg/catalog")
    datasets = set(all_pages(shipped_server).objects(catalog_iri, DCAT.dataset))
    graphs = shipped_server.store.named_graphs()
    assert len(datasets) == len(graphs) + 1  # each named graph, and the whole graph
    whole = URIRef("https://w3id.org/sekg/id/dataset/sekg")
    downloads = {str(catalog.value(d, DCAT.downloadURL)) for d in catalog.objects(whole, DCAT.distribution)}
    for name in ("sekg.nq.gz", "sekg.nt.gz", "sekg.ttl", "sekg.jsonld"):
        assert shipped_server.url + "/dumps/" + name in downloads
    service = next(catalog.subjects(RDF.type, DCAT.DataService))
    assert catalog.value(service, DCAT.endpointURL) == URIRef(shipped_server.url + "/sparql")
    assert catalog.value(service, DCAT.endpointDescription) == URIRef(shipped_server.url + "/sparql")
    dump = URIRef("https://w3id.org/sekg/id/distribution/dump/sekg.nt.gz")
    assert catalog.value(dump, DCTERMS.format) == URIRef(
        "http://publications.europa.eu/resource/authority/file-type/RDF_N_TRIPLES")
    assert int(catalog.value(dump, DCAT.byteSize)) > 0
    everything = all_pages(shipped_server)
    kmop = URIRef("https://w3id.org/sekg/id/dataset/source/kmop-proseco")
    assert URIRef("https://www.kmop.gr/el/projects-vf/news-proseco") in set(
        everything.objects(kmop, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")))
    country = "http://publications.europa.eu/resource/authority/country/"
    assert {URIRef(country + "BEL"), URIRef(country + "ITA"), URIRef(country + "ROU")} <= set(
        everything.objects(whole, DCTERMS.spatial))


def test_catalogue_pages_with_hydra_when_large(empty_server):
    for i in range(60):
        requests.put(empty_server.url + "/store", params={"graph": f"urn:test:graph:{i:02d}"},
                     data="<urn:a> <urn:b> <urn:c> .", headers={**empty_server.auth(), "Content-Type": "text/turtle"})
    first = Graph().parse(data=requests.get(empty_server.url + "/catalog", headers={"Accept": "text/turtle"}).text,
                          format="turtle")
    catalog_iri = URIRef("https://w3id.org/sekg/catalog")
    view = first.value(catalog_iri, HYDRA.view)
    assert int(first.value(catalog_iri, HYDRA.totalItems)) == 60
    assert str(first.value(view, HYDRA.next)).endswith("/catalog?page=2")
    assert len(set(first.objects(catalog_iri, DCAT.dataset))) == 50 + 1
    second = Graph().parse(data=requests.get(empty_server.url + "/catalog?page=2",
                                             headers={"Accept": "text/turtle"}).text, format="turtle")
    assert len(set(second.objects(catalog_iri, DCAT.dataset))) == 10 + 1
    assert HYDRA.next not in set(second.predicates(second.value(catalog_iri, HYDRA.view)))


def test_dcat_ap_it_view_conforms_to_our_guideline_shapes(tmp_path):
    from conftest import PROJECT, start_server

    live = start_server(tmp_path / "store", SEKG_CONTACT_EMAIL="dati@example.org", SEKG_PUBLISHER_ID="sekg_test")
    try:
        response = requests.get(live.url + "/catalog?profile=dcat-ap-it", headers={"Accept": "text/turtle"})
        view = Graph().parse(data=response.text, format="turtle")
    finally:
        live.stop()
    shapes = Graph().parse(PROJECT / "shapes" / "dcatapit-shapes.ttl", format="turtle")
    found = results(view, shapes)
    violations = sorted({(path, focus) for severity, path, focus in found if severity == "Violation"})
    assert violations == []
    dcatapit = Namespace("http://dati.gov.it/onto/dcatapit#")
    dataset = URIRef("https://w3id.org/sekg/id/dataset/sekg")
    assert (dataset, RDF.type, dcatapit.Dataset) in view
    assert str(view.value(dataset, DCTERMS.identifier)) == "sekg_test:sekg"
    holder = view.value(dataset, DCTERMS.rightsHolder)
    assert (holder, RDF.type, dcatapit.Agent) in view and view.value(holder, DCTERMS.identifier) is not None


def test_void_description(shipped_server):
    response = requests.get(shipped_server.url + "/.well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    void = Graph().parse(data=response.text, format="turtle")
    dataset = URIRef("https://w3id.org/sekg/id/dataset/sekg")
    triples = int(void.value(dataset, VOID.triples))
    assert triples == shipped_server.store.select(
        "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }")[0]["n"].toPython()
    assert int(void.value(dataset, VOID.entities)) > 50
    assert void.value(dataset, VOID.sparqlEndpoint) == URIRef(shipped_server.url + "/sparql")
    assert str(void.value(dataset, VOID.uriSpace)) == "https://w3id.org/sekg/id/"
    classes = {void.value(p, VOID["class"]): int(void.value(p, VOID.entities))
               for p in void.objects(dataset, VOID.classPartition)}
    assert classes[URIRef("https://w3id.org/sekg/ontology#SocialEconomyEnterprise")] == 14
    properties = {void.value(p, VOID.property) for p in void.objects(dataset, VOID.propertyPartition)}
    assert URIRef("https://w3id.org/sekg/ontology#offers") in properties
    targets = {str(void.value(l, VOID.objectsTarget)).rsplit("/", 1)[1] for l in void.objects(dataset, VOID.subset)}
    assert {"cpv", "nuts", "eu-authority-tables", "sdg", "wikidata"} <= targets
    dumps = {str(d) for d in void.objects(dataset, VOID.dataDump)}
    assert shipped_server.url + "/dumps/sekg.nt.gz" in dumps


def test_dumps_count_what_the_store_holds(shipped_server):
    shipped_server.app.extensions["sekg"].extras["dumps"].refresh(wait=True)
    listing = requests.get(shipped_server.url + "/dumps", headers={"Accept": "application/json"}).json()
    assert listing["fresh"] is True
    files = listing["manifest"]["files"]
    store_quads = shipped_server.store.count_quads()
    distinct = shipped_server.store.select(
        "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }")[0]["n"].toPython()
    nquads = gzip.decompress(requests.get(shipped_server.url + "/dumps/sekg.nq.gz").content)
    assert len(list(ox.parse(nquads, format=ox.RdfFormat.N_QUADS))) == store_quads == files["sekg.nq.gz"]["quads"]
    ntriples = gzip.decompress(requests.get(shipped_server.url + "/dumps/sekg.nt.gz").content)
    assert len(list(ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES))) == distinct == files["sekg.nt.gz"]["triples"]
    turtle = requests.get(shipped_server.url + "/dumps/sekg.ttl").content
    assert len(list(ox.parse(turtle, format=ox.RdfFormat.TURTLE))) == distinct
    jsonld = requests.get(shipped_server.url + "/dumps/sekg.jsonld").content
    assert len(list(ox.parse(jsonld, format=ox.RdfFormat.JSON_LD))) == distinct


def test_dumps_are_refreshed_when_the_data_changes(empty_server):
    dumps = empty_server.app.extensions["sekg"].extras["dumps"]
    dumps.refresh(wait=True)
    before = dumps.manifest()
    requests.put(empty_server.url + "/store", params={"graph": "urn:test:new"}, data="<urn:a> <urn:b> <urn:c> .",
                 headers={**empty_server.auth(), "Content-Type": "text/turtle"})
    assert not dumps.fresh
    dumps.refresh(wait=True)
    after = dumps.manifest()
    assert after["version"] != before["version"]
    assert after["files"]["sekg.nq.gz"]["quads"] == before["files"]["sekg.nq.gz"]["quads"] + 1
    nq = gzip.decompress(requests.get(empty_server.url + "/dumps/sekg.nq.gz").content).decode()
    assert "<urn:test:new>" in nq


def test_unknown_dump_names_are_404(shipped_server):
    for name in ("../tokens.sqlite", "sekg.csv", "%2e%2e%2ftokens.sqlite"):
        assert requests.get(shipped_server.url + "/dumps/" + name).status_code == 404


def test_dump_command(tmp_path):
    store = tmp_path / "store"
    source = tmp_path / "data.ttl"
    source.write_text("<urn:a> <urn:b> <urn:c> .\n<urn:a> <urn:b> <urn:d> .\n")
    subprocess.run([sys.executable, "-m", "sekg.cli", "load", str(source), "--graph", "urn:g", "--store", str(store)],
                   check=True, capture_output=True)
    result = subprocess.run([sys.executable, "-m", "sekg.cli", "dump", "--store", str(store), "--out",
                             str(tmp_path / "dumps")], check=True, capture_output=True, text=True)
    assert "sekg.nq.gz" in result.stdout and "2 quads" in result.stdout
    manifest = json.loads(next((tmp_path / "dumps").glob("*/manifest.json")).read_text())
    assert manifest["files"]["sekg.nt.gz"]["triples"] == 2


def test_sitemap_and_robots(shipped_server):
    sitemap = requests.get(shipped_server.url + "/sitemap.xml").text
    assert f"<loc>{shipped_server.url}/doc/organisation/torino-social-impact</loc>" in sitemap
    assert sitemap.count("<url>") > 50
    robots = requests.get(shipped_server.url + "/robots.txt").text
    assert f"Sitemap: {shipped_server.url}/sitemap.xml" in robots and "Disallow: /sparql" in robots


def test_catalogue_html(shipped_server):
    page = requests.get(shipped_server.url + "/catalog", headers={"Accept": "text/html"}).text
    assert "sekg:sekg" in page and "/dumps/sekg.nt.gz" in page
