"""`sekg log` shows who wrote what, when, to which graph and how many triples; refused writes leave no trace."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import requests

from conftest import start_server
from processes import sekg

FED_A = "https://w3id.org/sekg/graph/federation/a"
FED_B = "https://w3id.org/sekg/graph/federation/b"
TTL = {"Content-Type": "text/turtle"}


def lines(n: int, word: str) -> str:
    return " ".join(f'<http://example.org/{word}/{i}> <http://example.org/p> "{word}" .' for i in range(n))


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """A server that took a known sequence of writes (and refused two)."""
    live = start_server(tmp_path_factory.mktemp("audit") / "store", SEKG_LOAD_SHIPPED=False)
    a, b = live.token(FED_A, label="Federation A"), live.token(FED_B, label="Federation B")
    steps = [
        requests.put(live.url + "/store", params={"graph": FED_A}, data=lines(3, "a"), headers={**live.auth(a), **TTL}),
        requests.post(live.url + "/store", params={"graph": FED_A}, data=lines(2, "more"), headers={**live.auth(a), **TTL}),
        requests.put(live.url + "/store", params={"graph": FED_B}, data=lines(4, "b"), headers={**live.auth(b), **TTL}),
        live.post("/update", headers=live.auth(b), data={
            "update": f'DELETE WHERE {{ GRAPH <{FED_B}> {{ <http://example.org/b/0> ?p ?o }} }}'}),
        requests.delete(live.url + "/store", params={"graph": FED_A}, headers=live.auth(a)),
    ]
    assert [r.status_code for r in steps] == [201, 204, 201, 204, 204]
    refused = [
        requests.put(live.url + "/store", params={"graph": FED_B}, data=lines(1, "x"), headers={**live.auth(a), **TTL}),
        requests.put(live.url + "/store", params={"graph": FED_A}, headers={**live.auth(a), **TTL},
                     data="<http://example.org/nameless> a <http://www.w3.org/ns/org#Organization> ."),
    ]
    assert [r.status_code for r in refused] == [403, 422]
    yield live
    live.stop()


def store_args(live) -> list[str]:
    return ["--store", str(live.settings.store_path)]


def test_log_lists_every_acknowledged_write_in_order(logged):
    result = sekg("log", *store_args(logged), check=True)
    rows = result.stdout.strip().splitlines()
    assert len(rows) == 5
    expected = [("put", FED_A, "0 → 3 triples (+3)", "Federation A"),
                ("post", FED_A, "3 → 5 triples (+2)", "Federation A"),
                ("put", FED_B, "0 → 4 triples (+4)", "Federation B"),
                ("update", FED_B, "4 → 3 triples (-1)", "Federation B"),
                ("delete", FED_A, "5 → 0 triples (-5)", "Federation A")]
    for row, (operation, graph, change, who) in zip(rows, expected):
        assert f" {operation} " in row and f"<{graph}>" in row and change in row and who in row, row
        datetime.fromisoformat(row.split()[0])  # each line starts with its time


def test_log_filters_by_graph_time_and_count(logged):
    only_b = sekg("log", *store_args(logged), "--graph", FED_B, check=True).stdout.strip().splitlines()
    assert len(only_b) == 2 and all(FED_B in row for row in only_b)
    last_two = sekg("log", *store_args(logged), "--limit", "2", check=True).stdout.strip().splitlines()
    assert [" update " in last_two[0], " delete " in last_two[1]] == [True, True]
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).date().isoformat()
    assert len(sekg("log", *store_args(logged), "--since", yesterday, check=True).stdout.splitlines()) == 5
    later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    future = sekg("log", *store_args(logged), "--since", later, check=True)
    assert future.stdout == "" and "no writes recorded" in future.stderr


def test_log_as_json(logged):
    entries = json.loads(sekg("log", *store_args(logged), "--json", check=True).stdout)
    assert [(e["operation"], e["graph"], e["triples_before"], e["triples_after"]) for e in entries] == [
        ("put", FED_A, 0, 3), ("post", FED_A, 3, 5), ("put", FED_B, 0, 4), ("update", FED_B, 4, 3),
        ("delete", FED_A, 5, 0)]
    assert entries[3]["detail"] == {"operations": ["DELETE"]}
    assert all(e["who"].startswith("token ") for e in entries)


@pytest.mark.parametrize("args, message", [(["--since", "yesterday"], "is not a date"),
                                           (["--limit", "0"], "at least 1")])
def test_log_rejects_bad_options(logged, args, message):
    result = sekg("log", *store_args(logged), *args)
    assert result.returncode == 2 and message in result.stderr


def test_log_of_a_store_without_writes(tmp_path):
    result = sekg("log", "--store", str(tmp_path / "nothing"), check=True)
    assert result.stdout == "" and "no writes recorded" in result.stderr
    assert not (tmp_path / "nothing" / "audit.sqlite").exists()
