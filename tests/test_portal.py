"""The directory without a browser: facets agree with SPARQL, the index follows writes, exports, tender matching."""

from __future__ import annotations

import csv
import io
import re

import pytest
import requests


SEKG = "https://w3id.org/sekg/ontology#"


def total(page: str) -> int:
    return int(re.search(r'data-total="(\d+)"', page).group(1))


def counts(page: str, facet: str) -> dict[str, int]:
    section = page[page.index(f'id="facet-{facet}"'):]
    section = section[:section.index("</fieldset>")]
    return {key: int(n) for key, n in re.findall(
        r'value="([^"]+)"(?: checked)?>\s*[^<]*<span class="count"[^>]*>\((\d+)\)', section)}


def sparql_count(server, where: str) -> int:
    query = (f"PREFIX sekg: <{SEKG}> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
             f"PREFIX cv: <http://data.europa.eu/m8g/> SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ "
             f"?e a sekg:SocialEconomyEnterprise . {where} }}")
    return int(server.store.select(query, union=True)[0]["n"])


def test_directory_lists_everyone_with_facets(synthetic_server):
    page = requests.get(synthetic_server.url + "/?lang=en").text
    assert total(page) == 414  # 400 synthetic + the 14 enterprises of the sources
    assert sparql_count(synthetic_server, "") == 414
    missions = counts(page, "mission")
    assert sum(missions.values()) <= 414 and missions


@pytest.mark.parametrize("facet, key, where", [
    ("mission", "work-integration", "?e sekg:prevailingSocialMission <https://w3id.org/sekg/id/social-mission/work-integration>"),
    ("type", "cooperativa-sociale-b", "?e sekg:hasQualification/sekg:qualificationType <https://w3id.org/sekg/id/qualification/cooperativa-sociale-b>"),
    ("type", "cooperativa-sociale", "?e sekg:hasQualification/sekg:qualificationType/skos:broader* <https://w3id.org/sekg/id/qualification/cooperativa-sociale>"),
    ("cpv", "79000000", "?e sekg:offers/skos:broader* <http://data.europa.eu/cpv/cpv/79000000>"),
    ("place", "ITC1", "?e cv:registeredAddress/sekg:municipality/sekg:nutsRegion/skos:broader* <http://data.europa.eu/nuts/code/ITC1>"),
    ("place", "ITA", "?e sekg:country <http://publications.europa.eu/resource/authority/country/ITA>"),
])
def test_each_facet_filters_as_sparql_does(synthetic_server, facet, key, where):
    page = requests.get(synthetic_server.url + f"/?{facet}={key}").text
    expected = sparql_count(synthetic_server, where)
    assert expected > 0
    assert total(page) == expected


def test_facet_counts_match_the_filtered_totals(synthetic_server):
    home = requests.get(synthetic_server.url + "/").text
    for key, count in list(counts(home, "mission").items())[:4]:
        assert total(requests.get(synthetic_server.url + f"/?mission={key}").text) == count


def test_filters_combine(synthetic_server):
    both = total(requests.get(synthetic_server.url + "/?mission=work-integration&place=ITA").text)
    one = total(requests.get(synthetic_server.url + "/?mission=work-integration").text)
    other = total(requests.get(synthetic_server.url + "/?place=ITA").text)
    assert 0 < both <= min(one, other)
    assert both == sparql_count(synthetic_server, "?e sekg:prevailingSocialMission "
                                "<https://w3id.org/sekg/id/social-mission/work-integration> ; "
                                "sekg:country <http://publications.europa.eu/resource/authority/country/ITA>")


def test_cpv_tree_shows_the_level_under_the_chosen_code(synthetic_server):
    page = requests.get(synthetic_server.url + "/?cpv=79000000").text
    children = counts(page, "cpv")
    assert children and all(code.startswith("79") and code != "79000000" for code in children)


def test_text_search_ignores_accents_and_case(synthetic_server):
    plain = total(requests.get(synthetic_server.url + "/", params={"q": "societa benefit"}).text)
    accented = total(requests.get(synthetic_server.url + "/", params={"q": "SOCIETÀ Benefit"}).text)
    assert plain == accented > 0
    page = requests.get(synthetic_server.url + "/", params={"q": "barbara"}).text
    assert total(page) == 1 and "Cooperativa Sociale Barbara B" in page


def test_paging_and_sorting(synthetic_server):
    first = requests.get(synthetic_server.url + "/?size=20").text
    second = requests.get(synthetic_server.url + "/?size=20&page=2").text
    names = lambda page: re.findall(r'<h3><a href="[^"]+">([^<]+)</a>', page)  # noqa: E731
    assert len(names(first)) == 20 and len(names(second)) == 20
    assert not set(names(first)) & set(names(second))
    descending = names(requests.get(synthetic_server.url + "/?sort=-name").text)
    assert descending == sorted(descending, key=str.lower, reverse=True) or descending[0] > descending[-1]


def test_state_is_in_the_query_string_and_bad_values_are_reported(synthetic_server):
    page = requests.get(synthetic_server.url + "/?mission=not a key&cpv=123&sort=sideways").text
    assert "Ignored filters" in page and "cpv=123" in page
    assert total(page) == 414


def test_exports_hold_the_selection(synthetic_server):
    query = "mission=work-integration&place=ITC1"
    page = requests.get(synthetic_server.url + "/?" + query + "&size=100").text
    listed = re.findall(r'<h3><a href="[^"]+">([^<]+)</a>', page)
    data = requests.get(synthetic_server.url + "/directory.json?" + query).json()
    assert data["total"] == total(page) == len(data["enterprises"])
    assert sorted(e["name"] for e in data["enterprises"]) == sorted(n.replace("&#39;", "'") for n in listed)
    rows = list(csv.DictReader(io.StringIO(requests.get(synthetic_server.url + "/directory.csv?" + query).text)))
    assert [r["iri"] for r in rows] == [e["iri"] for e in data["enterprises"]]


def test_show_the_query_gives_a_sparql_query_with_the_same_answer(synthetic_server):
    page = requests.get(synthetic_server.url + "/?mission=work-integration&type=cooperativa-sociale").text
    query = re.search(r"<pre>(.*?)</pre>", page, re.S).group(1)
    import html

    query = html.unescape(query)
    rows = synthetic_server.store.select(query, union=True)
    assert len({r["enterprise"] for r in rows}) == total(page)


def test_markers_for_the_map(synthetic_server):
    markers = requests.get(synthetic_server.url + "/api/markers?place=ITA").json()["markers"]
    assert markers and all(-90 <= m["lat"] <= 90 for m in markers)


def test_cpv_suggestions_by_code_and_label(synthetic_server):
    by_label = requests.get(synthetic_server.url + "/api/suggest/cpv", params={"q": "catering", "lang": "it"}).json()
    assert any(s["key"] == "55520000" and "catering" in s["label"].lower() for s in by_label["suggestions"])
    by_code = requests.get(synthetic_server.url + "/api/suggest/cpv", params={"q": "5552"}).json()
    assert any(s["key"].startswith("5552") for s in by_code["suggestions"])


def test_index_follows_writes(synthetic_server):
    graph = "https://w3id.org/sekg/graph/federation/portal-test"
    data = f"""@prefix sekg: <{SEKG}> . @prefix org: <http://www.w3.org/ns/org#> .
    @prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix dct: <http://purl.org/dc/terms/> .
    <https://w3id.org/sekg/id/organisation/portal-test-zebra> a sekg:SocialEconomyEnterprise, org:Organization ;
        skos:prefLabel "Zebra Solidale (test)" ; dct:description "A test."@en ;
        sekg:prevailingSocialMission <https://w3id.org/sekg/id/social-mission/fair-trade> ."""
    response = requests.put(synthetic_server.url + "/store", params={"graph": graph}, data=data,
                            headers={**synthetic_server.auth(), "Content-Type": "text/turtle"})
    assert response.status_code == 201, response.text
    try:
        page = requests.get(synthetic_server.url + "/", params={"q": "zebra solidale"}).text
        assert total(page) == 1
        requests.delete(synthetic_server.url + "/store", params={"graph": graph}, headers=synthetic_server.auth())
        assert total(requests.get(synthetic_server.url + "/", params={"q": "zebra solidale"}).text) == 0
    finally:
        requests.delete(synthetic_server.url + "/store", params={"graph": graph}, headers=synthetic_server.auth())


def test_index_rebuilds_when_the_store_changed_behind_its_back(tmp_path):
    from conftest import start_server
    from sekg.portal_index import PortalIndex

    live = start_server(tmp_path / "store")
    try:
        index = live.app.extensions["sekg"].extras["portal_index"]
        index.ensure_current(wait=True)
        with index._write:
            index.cursor().execute("UPDATE meta SET value = 'stale' WHERE key = 'version'")
        assert not index.fresh
        requests.get(live.url + "/")
        index.ensure_current(wait=True)
        assert index.fresh and isinstance(index, PortalIndex)
    finally:
        live.stop()


def test_index_can_wait_for_the_directory_first_visit(tmp_path):
    from conftest import start_server

    live = start_server(tmp_path / "store", SEKG_PORTAL_INDEX_AT_START=False)
    try:
        index = live.app.extensions["sekg"].extras["portal_index"]
        health = requests.get(live.url + "/health")
        assert health.status_code == 200 and health.json()["portal_index"] == "stale"
        assert index.version is None and not index.building
        sparql = requests.get(live.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"},
                              headers={"Accept": "application/sparql-results+json"})
        assert sparql.json()["boolean"] is True and index.version is None  # SPARQL needs no index
        assert requests.get(live.url + "/").status_code == 200
        index.ensure_current(wait=True)
        assert index.fresh
        assert total(requests.get(live.url + "/").text) > 0
    finally:
        live.stop()


def test_tender_ranks_same_code_then_narrower_then_broader_and_by_place(synthetic_server):
    enterprises = synthetic_server.store.select(
        f"PREFIX sekg: <{SEKG}> SELECT ?e ?code WHERE {{ ?e a sekg:SocialEconomyEnterprise ; sekg:offers ?code }} "
        "ORDER BY ?e LIMIT 1", union=True)
    code = str(enterprises[0]["code"]).rsplit("/", 1)[1]
    result = requests.get(synthetic_server.url + "/tender", params={"codes": f"notice text {code}-3 more", "format": "json"}).json()
    assert result["codes"] == [code]
    matches = result["matches"]
    assert matches and matches[0]["reasons"][0]["relation"] == "same"
    relations = [max(r["relation"] == "same" and 3 or r["relation"] == "narrower" and 2 or 1 for r in m["reasons"])
                 for m in matches]
    assert relations == sorted(relations, reverse=True)  # without a place, closeness of code decides
    division = code[:2] + "000000"
    broad = requests.get(synthetic_server.url + "/tender", params={"codes": division, "format": "json"}).json()
    assert any(r["relation"] == "narrower" for m in broad["matches"] for r in m["reasons"])


def test_tender_place_and_required_qualification(synthetic_server):
    result = requests.get(synthetic_server.url + "/tender", params={
        "codes": "79000000 85000000 55000000 77000000 45000000", "place": "ITC11", "type": "cooperativa-sociale-b",
        "format": "json"}).json()
    assert result["matches"]
    assert all("social cooperative of type B" in " ".join(m["types"]).lower() or
               "type b" in " ".join(m["types"]).lower() for m in result["matches"])
    scores = [m["score"] for m in result["matches"]]
    assert scores == sorted(scores, reverse=True)


def test_tender_page_renders_without_javascript(synthetic_server):
    page = requests.get(synthetic_server.url + "/tender", params={"codes": "77310000", "lang": "it"}).text
    assert "Cooperativa Sociale Barbara B" in page and "stesso codice" in page
    unknown = requests.get(synthetic_server.url + "/tender", params={"codes": "12345678"}).text
    assert "unknown codes" in unknown and "12345678" in unknown


def test_charts_are_drawn_from_live_queries(synthetic_server):
    data = requests.get(synthetic_server.url + "/api/charts/enterprises_by_type").json()
    qualified = sparql_count(synthetic_server, "?e sekg:hasQualification ?q")
    assert sum(data["series"]["enterprises"]) >= qualified > 400
    years = requests.get(synthetic_server.url + "/api/charts/projects_by_year").json()
    assert years["series"]["calls"].count(1) == 1  # the one call of the sources, counted once
    missing = requests.get(synthetic_server.url + "/api/charts/nothing")
    assert missing.status_code == 404




def test_internal_queries_are_not_cut_by_the_public_result_cap(tmp_path):
    from conftest import start_server

    live = start_server(tmp_path / "store", SEKG_MAX_RESULT_ROWS=5)
    try:
        live.app.extensions["sekg"].extras["portal_index"].ensure_current(wait=True)
        assert total(requests.get(live.url + "/").text) == 14
        capped = live.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
        assert len(capped.json()["results"]["bindings"]) == 5
    finally:
        live.stop()
