"""The W3C Reconciliation Service API (0.2) at /reconcile: answers checked against the specification's schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from jsonschema import Draft7Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7

from conftest import start_server

SCHEMAS = Path(__file__).parent / "schemas" / "reconciliation" / "0.2"
DOCS = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in SCHEMAS.glob("*.json")}
REGISTRY = Registry().with_resources((d["$id"].rstrip("#"), DRAFT7.create_resource(d)) for d in DOCS.values())
ID = "https://w3id.org/sekg/id/organisation/"
ENTERPRISE = "https://w3id.org/sekg/ontology#SocialEconomyEnterprise"


def conforms(schema: str, document) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in Draft7Validator(DOCS[schema], registry=REGISTRY).iter_errors(document)]
    assert not errors, errors


def italian_vat(base: str) -> str:
    total = 0
    for i, d in enumerate(int(c) for c in base):
        total += d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2)
    return base + str((10 - total % 10) % 10)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The shipped data plus two SYNTHETIC enterprises with VAT numbers, imported by a federation."""
    server = start_server(tmp_path_factory.mktemp("reconcile") / "store", SEKG_TILE_URL="")
    from sekg.importing.examples import TEMPLATE_COLUMNS

    rows = [{"name": "Cooperativa Sociale Esempio SYNTHETIC", "vat": f"IT{italian_vat('0000000001')}",
             "municipality": "Torino", "province": "TO", "country": "Italy"},
            {"name": "Cooperativa Sociale Esempio SYNTHETIC Due", "vat": f"IT{italian_vat('0000000002')}",
             "municipality": "Cuneo", "province": "CN", "country": "Italy"}]
    body = [",".join(TEMPLATE_COLUMNS)] + [",".join(row.get(c, "") for c in TEMPLATE_COLUMNS) for row in rows]
    token = server.token("https://w3id.org/sekg/graph/federation/synthetic-test")
    answer = requests.post(server.url + "/import", params={"federation": "synthetic-test"}, headers=server.auth(token),
                           files={"file": ("synthetic.csv", "\n".join(body).encode())}, timeout=300)
    assert answer.status_code == 200, answer.text
    yield server
    server.stop()


def reconcile(live, queries: dict, method: str = "post") -> dict:
    if method == "post":
        answer = live.post("/reconcile", data={"queries": json.dumps(queries)})
    else:
        answer = live.get("/reconcile", params={"queries": json.dumps(queries)})
    assert answer.status_code == 200, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    conforms("reconciliation-query-batch.json", queries)
    conforms("reconciliation-result-batch.json", answer.json())
    return answer.json()


def test_manifest_follows_the_schema_and_points_at_working_services(live):
    manifest = live.get("/reconcile").json()
    conforms("manifest.json", manifest)
    assert "0.2" in manifest["versions"]
    view = manifest["view"]["url"].replace("{{id}}", ID + "karibu-open")
    assert requests.get(view, headers={"Accept": "text/html"}, timeout=30).status_code == 200
    preview = manifest["preview"]["url"].replace("{{id}}", ID + "karibu-open")
    assert "Karibu Open" in requests.get(preview, timeout=30).text
    schemas = {"entity": "suggest-entities-response.json", "property": "suggest-properties-response.json",
               "type": "suggest-types-response.json"}
    prefixes = {"entity": "kar", "property": "vat", "type": "impr"}
    for kind, service in manifest["suggest"].items():
        answer = requests.get(service["service_url"] + service["service_path"], params={"prefix": prefixes[kind]},
                              timeout=30)
        conforms(schemas[kind], answer.json())
        assert answer.json()["result"], kind
    assert requests.get(manifest["documentation"], timeout=30).status_code == 200


def test_real_names_find_their_enterprises(live):
    answers = reconcile(live, {
        "q0": {"query": "Karibu Open"},
        "q1": {"query": "cooperativa barbara b", "type": ENTERPRISE},
        "q2": {"query": "Consorzio Abele Lavoro", "limit": 2},
        "q3": {"query": "SOCIALFARE", "properties": [{"pid": "website", "v": "https://socialfare.org"}]},
        "q4": {"query": "Engim Piemonte", "properties": [{"pid": "municipality", "v": "Torino"}]},
    })
    top = {name: result["result"][0] for name, result in answers.items()}
    assert top["q0"]["id"] == ID + "karibu-open" and top["q0"]["match"] is True
    assert top["q1"]["id"] == ID + "cooperativa-sociale-barbara-b"
    assert top["q2"]["id"] == ID + "consorzio-sociale-abele-lavoro" and len(answers["q2"]["result"]) <= 2
    assert top["q3"]["id"] == ID + "socialfare"
    assert {"id": "website_match", "value": True} in top["q3"]["features"]
    assert top["q4"]["id"] == ID + "engim-piemonte"
    scores = [c["score"] for c in answers["q2"]["result"]]
    assert scores == sorted(scores, reverse=True)


def test_a_vat_number_decides_between_similar_names(live):
    second = f"IT{italian_vat('0000000002')}"
    answers = reconcile(live, {
        "name_only": {"query": "Cooperativa Sociale Esempio SYNTHETIC"},
        "with_vat": {"query": "Cooperativa Sociale Esempio", "properties": [{"pid": "vat", "v": second[2:]}]},
        "vat_only": {"properties": [{"pid": "vat", "v": second}]},
    }, method="get")
    best = answers["with_vat"]["result"][0]
    assert best["id"] == ID + "synthetic-test-cooperativa-sociale-esempio-synthetic-due" and best["match"] is True
    assert answers["vat_only"]["result"][0]["id"] == best["id"]
    assert not any(c["match"] for c in answers["name_only"]["result"][1:])


def test_type_constraint_leaves_out_other_kinds_of_organisation(live):
    answers = reconcile(live, {"city": {"query": "City of Torino"},
                               "city_as_enterprise": {"query": "City of Torino", "type": ENTERPRISE}})
    assert answers["city"]["result"][0]["id"] == ID + "city-of-torino"
    assert ID + "city-of-torino" not in {c["id"] for c in answers["city_as_enterprise"]["result"]}


def test_bad_queries_are_answered_400_with_the_reason(live):
    for raw, words in (("{not json", "not valid JSON"), ("[1, 2]", "JSON object"),
                       (json.dumps({"q": {"query": ""}}), "non-empty"),
                       (json.dumps({"q": {"query": "x", "properties": [{"pid": "colour", "v": "red"}]}}), "colour")):
        answer = live.post("/reconcile", data={"queries": raw})
        assert answer.status_code == 400 and words in answer.json()["message"], raw


def test_jsonp_callback_is_an_identifier_only(live):
    answer = live.get("/reconcile", params={"callback": "jQuery123_456"})
    assert answer.text.startswith("/**/jQuery123_456(") and answer.headers["Content-Type"].startswith(
        "application/javascript")
    assert live.get("/reconcile", params={"callback": "alert(1)//"}).status_code == 400


def test_preview_escapes_values_and_knows_unknown_ids(live):
    assert live.get("/reconcile/preview", params={"id": ID + "no-such-thing"}).status_code == 404
    page = live.get("/reconcile/preview", params={"id": ID + "karibu-open"}).text
    assert "<script" not in page and "Karibu Open" in page
