"""Spreadsheet imports over HTTP and on the command line: mapped, matched, validated, all or nothing.

The example files are the real enterprises of data/ (data/import/examples/); rows made up here to
exercise bad cells and VAT numbers are marked SYNTHETIC in their names.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from conftest import PROJECT, start_server

EXAMPLES = PROJECT / "data" / "import" / "examples"
TEMPLATE_CSV = EXAMPLES / "tsi-network-template.csv"
TEMPLATE_XLSX = EXAMPLES / "tsi-network-template.xlsx"
SAMPLE_IT = EXAMPLES / "tsi-network-sample-it.csv"
ID = "https://w3id.org/sekg/id/"
FED = "https://w3id.org/sekg/graph/federation/"
SEKG = "https://w3id.org/sekg/ontology#"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("import") / "store", SEKG_TILE_URL="")
    yield server
    server.stop()


def template_rows() -> list[dict]:
    with open(TEMPLATE_CSV, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def csv_bytes(rows: list[dict], columns: list[str] | None = None, *, delimiter=",", encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns or list(rows[0]), delimiter=delimiter, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def italian_vat(base: str) -> str:
    """Complete 10 digits with the control digit of an Italian partita IVA."""
    total = 0
    for i, d in enumerate(int(c) for c in base):
        total += d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2)
    return base + str((10 - total % 10) % 10)


def send(live, token, data: bytes, filename: str, **params) -> requests.Response:
    return requests.post(live.url + "/import", params=params, headers=live.auth(token), timeout=300,
                         files={"file": (filename, data)})


def graph_of(live, federation: str) -> Graph:
    answer = live.get("/store", params={"graph": FED + federation}, headers={"Accept": "application/n-triples"})
    graph = Graph()
    if answer.status_code == 200:
        graph.parse(data=answer.text, format="nt")
    else:
        assert answer.status_code == 404
    return graph


def select(live, query: str) -> list[dict]:
    answer = live.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200, answer.text
    return [{k: v["value"] for k, v in row.items()} for row in answer.json()["results"]["bindings"]]


def problems_at(report: dict) -> set[tuple[int, str]]:
    return {(p["row"], p["column"]) for p in report["problems"] if p["severity"] == "Violation"}


# --- the template, its XLSX form and a different layout ---------------------------------------------
def test_template_csv_import_writes_the_federations_graph(live):
    token = live.token(FED + "alpha")
    answer = send(live, token, TEMPLATE_CSV.read_bytes(), TEMPLATE_CSV.name, federation="alpha")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["rows"], report["rows_accepted"], report["rows_rejected"], report["written"]) == (14, 14, 0, True)
    assert report["violations"] == 0
    graph = graph_of(live, "alpha")
    enterprises = set(graph.subjects(URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                                     URIRef(SEKG + "SocialEconomyEnterprise")))
    assert len(enterprises) == 14
    karibu = URIRef(ID + "organisation/alpha-karibu-open")
    assert (karibu, URIRef(SEKG + "offers"), URIRef("http://data.europa.eu/cpv/cpv/55520000")) in graph
    assert (karibu, URIRef(SEKG + "prevailingSocialMission"), URIRef(ID + "social-mission/work-integration")) in graph
    address = graph.value(karibu, URIRef("http://data.europa.eu/m8g/registeredAddress"))
    assert graph.value(address, URIRef(SEKG + "municipality")) == URIRef(ID + "place/it/torino")
    rossini = URIRef(ID + "organisation/alpha-ascensori-rossini")
    qualification = graph.value(rossini, URIRef(SEKG + "hasQualification"))
    assert graph.value(qualification, URIRef(SEKG + "qualificationType")) == URIRef(ID + "qualification/societa-benefit")
    assert str(graph.value(qualification, URIRef("https://schema.org/startDate"))) == "2022"
    # the portal finds the imported enterprises
    live.app.extensions["sekg"].extras["portal_index"].ensure_current(wait=True)
    page = live.get("/directory.json", params={"q": "Karibu"}).json()
    assert ID + "organisation/alpha-karibu-open" in {item["iri"] for item in page["enterprises"]}


def test_xlsx_gives_the_same_graph_as_csv(live):
    token = live.token(FED + "alpha-xlsx")
    answer = send(live, token, TEMPLATE_XLSX.read_bytes(), TEMPLATE_XLSX.name, federation="alpha-xlsx")
    assert answer.status_code == 200, answer.text
    from_xlsx = graph_of(live, "alpha-xlsx").serialize(format="nt").replace("/alpha-xlsx-", "/alpha-")
    assert isomorphic(Graph().parse(data=from_xlsx, format="nt"), graph_of(live, "alpha"))


def test_a_different_layout_needs_only_its_own_mapping(live):
    token = live.token(FED + "gamma")
    answer = send(live, token, SAMPLE_IT.read_bytes(), SAMPLE_IT.name, federation="gamma", mapping="sample-it")
    assert answer.status_code == 200, answer.text
    assert answer.json()["rows_accepted"] == 14
    graph = graph_of(live, "gamma")
    bdfl = URIRef(ID + "organisation/gamma-bdfl-torino-s-t-p-srl")
    address = graph.value(bdfl, URIRef("http://data.europa.eu/m8g/registeredAddress"))
    assert graph.value(address, URIRef(SEKG + "municipality")) == URIRef(ID + "place/it/torino")  # "TO" found
    assert graph.value(bdfl, URIRef("http://www.w3.org/ns/legal#companyType")) == URIRef(ID + "legal-form/it-srl")
    # the same file under the template's mapping does not fit: its columns are named
    wrong = send(live, token, SAMPLE_IT.read_bytes(), SAMPLE_IT.name, federation="gamma")
    assert wrong.status_code == 422
    assert ("Ragione sociale" in {p["column"] for p in wrong.json()["problems"]}
            and "name" in {p["column"] for p in wrong.json()["problems"]})


# --- bad input: reported by row and column, nothing written ------------------------------------------
def test_each_bad_cell_is_reported_at_its_row_and_column_and_nothing_is_written(live):
    token = live.token(FED + "delta")
    good = template_rows()[:7]
    assert send(live, token, csv_bytes(good), "good.csv", federation="delta").status_code == 200
    before = graph_of(live, "delta")
    bad = [dict(row) for row in good]
    bad[0]["services"] = "servizi di giardinaggio lunare"  # row 2: no such CPV label
    valid = italian_vat("0123456789")
    bad[1]["vat"] = "IT" + valid[:-1] + str((int(valid[-1]) + 1) % 10)  # row 3: wrong control digit
    bad[2]["name"] = ""  # row 4
    bad[3]["municipality"], bad[3]["province"] = "Borgo Inesistente SYNTHETIC", ""  # row 5
    bad[4]["qualification_1_year"] = "circa 2010"  # row 6
    bad[5]["country"] = "Atlantide"  # row 7
    bad[6]["website"] = "not a site"  # row 8
    answer = send(live, token, csv_bytes(bad), "bad.csv", federation="delta")
    assert answer.status_code == 422, answer.text
    report = answer.json()
    assert report["written"] is False
    found = problems_at(report)
    for expected in [(2, "services"), (3, "vat"), (4, "name"), (5, "municipality"), (6, "qualification_1_year"),
                     (7, "country"), (8, "website")]:
        assert expected in found, (expected, found)
    by_place = {(p["row"], p["column"]): p["message"] for p in report["problems"]}
    assert "CPV" in by_place[(2, "services")]["en"] and "CPV" in by_place[(2, "services")]["it"]
    assert "control digit" in by_place[(3, "vat")]["en"] and "controllo" in by_place[(3, "vat")]["it"]
    assert "province" in by_place[(5, "municipality")]["en"]
    assert isomorphic(graph_of(live, "delta"), before)  # the earlier import is still there, unchanged


def test_an_ambiguous_service_label_is_reported_not_guessed(live):
    token = live.token(FED + "delta-ambiguous")
    rows = template_rows()[:1]
    # "Servizi di pulizia" names several CPV codes in Italian; the import must not pick one
    labels = select(live, """SELECT ?label (COUNT(DISTINCT ?c) AS ?n) WHERE {
        ?c <http://www.w3.org/2004/02/skos/core#inScheme> <http://data.europa.eu/cpv/cpv> ;
           <http://www.w3.org/2004/02/skos/core#prefLabel> ?label . FILTER(lang(?label) = "it")
      } GROUP BY ?label HAVING (COUNT(DISTINCT ?c) > 1) ORDER BY ?label LIMIT 1""")
    rows[0]["services"] = labels[0]["label"]
    answer = send(live, token, csv_bytes(rows), "ambiguous.csv", federation="delta-ambiguous")
    assert answer.status_code == 422
    message = next(p["message"]["en"] for p in answer.json()["problems"] if p["column"] == "services")
    assert "ambiguous" in message and "give the code" in message
    assert len(graph_of(live, "delta-ambiguous")) == 0


def test_a_file_that_is_not_utf8_is_refused_with_the_line(live):
    token = live.token(FED + "epsilon")
    data = csv_bytes(template_rows()[:3], encoding="cp1252")  # "società" in Windows-1252
    answer = send(live, token, data, "windows.csv", federation="epsilon")
    assert answer.status_code == 400
    problem = answer.json()["problems"][0]
    assert "UTF-8" in problem["message"]["en"] and problem["row"] >= 2
    assert len(graph_of(live, "epsilon")) == 0


def test_an_extra_or_missing_column_is_named(live):
    token = live.token(FED + "epsilon")
    rows = [{("servizi" if k == "services" else k): v for k, v in row.items()} for row in template_rows()[:3]]
    answer = send(live, token, csv_bytes(rows), "renamed.csv", federation="epsilon")
    assert answer.status_code == 422
    columns = {p["column"]: p["message"]["en"] for p in answer.json()["problems"]}
    assert "missing" in columns["services"] and "does not know" in columns["servizi"]
    assert len(graph_of(live, "epsilon")) == 0


def test_skip_invalid_loads_the_valid_rows_and_reports_the_others(live):
    token = live.token(FED + "eta")
    rows = template_rows()[:4]
    rows[1]["services"] = "servizi di giardinaggio lunare"
    answer = send(live, token, csv_bytes(rows), "partly.csv", federation="eta", **{"skip-invalid": "true"})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["rows_accepted"], report["rows_rejected"], report["written"]) == (3, 1, True)
    subjects = {str(s) for s in graph_of(live, "eta").subjects()}
    assert rows[1]["name"] == "Ascensori Rossini"
    rejected = ID + "organisation/eta-ascensori-rossini"
    assert rejected not in subjects and not any(s.startswith(rejected + "/") for s in subjects)
    assert len([s for s in subjects if s.startswith(ID + "organisation/eta-")]) == 3


def test_dry_run_checks_and_writes_nothing(live):
    token = live.token(FED + "theta")
    answer = send(live, token, TEMPLATE_CSV.read_bytes(), TEMPLATE_CSV.name, federation="theta", **{"dry-run": "1"})
    assert answer.status_code == 200
    assert answer.json()["dry_run"] is True and answer.json()["written"] is False and answer.json()["triples"] > 0
    assert len(graph_of(live, "theta")) == 0


def test_only_the_federations_token_may_import(live):
    data = TEMPLATE_CSV.read_bytes()
    assert requests.post(live.url + "/import", params={"federation": "iota"}, files={"file": ("t.csv", data)},
                         timeout=60).status_code == 401
    other = live.token(FED + "kappa")
    refused = send(live, other, data, "t.csv", federation="iota")
    assert refused.status_code == 403 and "iota" in refused.json()["message"]
    assert len(graph_of(live, "iota")) == 0
    # a token that owns one federation graph needs no ?federation=
    assert send(live, other, data, "t.csv", **{"dry-run": "1"}).json()["federation"] == "kappa"
    assert send(live, other, data, "t.txt", federation="kappa").status_code == 415


# --- re-import, concurrency, duplicates, provenance ----------------------------------------------------
def test_reimporting_the_same_file_gives_the_same_graph(live):
    token = live.token(FED + "lambda")
    for _ in range(2):
        assert send(live, token, TEMPLATE_CSV.read_bytes(), TEMPLATE_CSV.name, federation="lambda").status_code == 200
        if _ == 0:
            first = graph_of(live, "lambda")
    assert isomorphic(graph_of(live, "lambda"), first)
    runs = select(live, f"""SELECT ?activity WHERE {{ GRAPH <https://w3id.org/sekg/graph/provenance> {{
        <{FED}lambda> <http://www.w3.org/ns/prov#wasGeneratedBy> ?activity }} }}""")
    assert len(runs) == 1  # the provenance describes the import that made the graph as it is
    reports = select(live, f"""SELECT ?r WHERE {{ GRAPH <{FED}lambda/report> {{
        ?r a <http://www.w3.org/ns/shacl#ValidationReport> }} }}""")
    assert len(reports) == 1


def test_concurrent_imports_of_two_federations_do_not_mix(live):
    tokens = {"mu": live.token(FED + "mu"), "nu": live.token(FED + "nu")}
    files = {"mu": (TEMPLATE_CSV, None), "nu": (SAMPLE_IT, "sample-it")}
    answers = {}

    def run(federation):
        path, mapping = files[federation]
        params = {"federation": federation, **({"mapping": mapping} if mapping else {})}
        answers[federation] = send(live, tokens[federation], path.read_bytes(), path.name, **params)

    threads = [threading.Thread(target=run, args=(f,)) for f in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {f: a.status_code for f, a in answers.items()} == {"mu": 200, "nu": 200}
    for federation, other in (("mu", "nu"), ("nu", "mu")):
        subjects = {str(s) for s in graph_of(live, federation).subjects() if str(s).startswith(ID + "organisation/")}
        assert len(subjects) == 14
        assert all(s.startswith(f"{ID}organisation/{federation}-") for s in subjects)
        assert not any(f"/{other}-" in str(s) for s in graph_of(live, federation).all_nodes())


def test_duplicates_across_federations_are_reported_and_linked_when_asked(live):
    token = live.token(FED + "xi")
    report = send(live, token, TEMPLATE_CSV.read_bytes(), TEMPLATE_CSV.name, federation="xi").json()
    socialfare = {(d["iri"], d["same_as"]) for d in report["duplicates"] if d["because"] == "same website"}
    assert (ID + "organisation/xi-socialfare", ID + "organisation/socialfare") in socialfare
    assert (URIRef(ID + "organisation/xi-socialfare"), URIRef("http://www.w3.org/2002/07/owl#sameAs"),
            URIRef(ID + "organisation/socialfare")) not in graph_of(live, "xi")
    send(live, token, TEMPLATE_CSV.read_bytes(), TEMPLATE_CSV.name, federation="xi", **{"link-duplicates": "yes"})
    assert (URIRef(ID + "organisation/xi-socialfare"), URIRef("http://www.w3.org/2002/07/owl#sameAs"),
            URIRef(ID + "organisation/socialfare")) in graph_of(live, "xi")


def test_the_report_is_linked_data_reachable_from_the_catalogue(live):
    token = live.token(FED + "omicron")
    rows = template_rows()[:3]
    rows[0]["services"] = ""  # a warning: a service is recommended
    answer = send(live, token, csv_bytes(rows), "omicron.csv", federation="omicron")
    assert answer.status_code == 200
    catalogue = Graph().parse(data=live.get("/catalog", headers={"Accept": "text/turtle"}).text, format="turtle")
    dataset = URIRef(ID + "dataset/federation/omicron")
    report = catalogue.value(dataset, URIRef(SEKG + "validationReport"))
    assert report is not None
    described = Graph().parse(data=live.get("/resource", params={"iri": str(report)},
                                            headers={"Accept": "text/turtle"}).text, format="turtle")
    sh = "http://www.w3.org/ns/shacl#"
    assert (report, URIRef(sh + "conforms"), Literal(True)) in described
    results = list(described.objects(report, URIRef(sh + "result")))
    assert results  # the warning about row 2
    measurements = {}
    for measurement in catalogue.objects(dataset, URIRef("http://www.w3.org/ns/dqv#hasQualityMeasurement")):
        doc = Graph().parse(data=live.get("/resource", params={"iri": str(measurement)},
                                          headers={"Accept": "text/turtle"}).text, format="turtle")
        metric = doc.value(measurement, URIRef("http://www.w3.org/ns/dqv#isMeasurementOf"))
        measurements[str(metric)] = doc.value(measurement, URIRef("http://www.w3.org/ns/dqv#value")).toPython()
    assert measurements[SEKG + "rowsAccepted"] == 3 and measurements[SEKG + "rowsRejected"] == 0
    provenance = select(live, f"""SELECT ?checksum ?rows ?file WHERE {{ GRAPH ?g {{
        <{FED}omicron> <http://www.w3.org/ns/prov#wasGeneratedBy> ?activity }}
        ?activity <http://www.w3.org/ns/prov#used> ?f . ?f <{SEKG}rowCount> ?rows ;
          <http://purl.org/dc/terms/title> ?file ;
          <http://spdx.org/rdf/terms#checksum>/<http://spdx.org/rdf/terms#checksumValue> ?checksum }}""")
    assert provenance and provenance[0]["rows"] == "3" and provenance[0]["file"] == "omicron.csv"
    assert provenance[0]["checksum"] == answer.json()["sha256"]


# --- the command line --------------------------------------------------------------------------------
def test_command_line_import_reports_and_exits_by_outcome(tmp_path):
    sekg = [sys.executable, "-m", "sekg.cli"]
    store = tmp_path / "store"
    ok = subprocess.run([*sekg, "import", str(TEMPLATE_CSV), "--federation", "pi", "--store", str(store),
                         "--report-dir", str(tmp_path / "report")], capture_output=True, text=True, timeout=600)
    assert ok.returncode == 0, ok.stderr
    assert "14 accepted" in ok.stdout and "wrote" in ok.stdout
    assert "possible duplicate" in ok.stdout
    assert (tmp_path / "report" / "report.csv").read_text(encoding="utf-8").startswith("row,column,value")
    rows = template_rows()[:2]
    rows[1]["vat"] = "IT12345"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(rows))
    refused = subprocess.run([*sekg, "import", str(bad), "--federation", "pi", "--store", str(store), "--lang", "it"],
                             capture_output=True, text=True, timeout=600)
    assert refused.returncode == 1
    assert "nothing was written" in refused.stdout and "partita IVA non valida" in refused.stdout
