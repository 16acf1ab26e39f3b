"""Fuzz the spreadsheet import: the table reader directly (fast, many examples), and POST /import over HTTP.

The reader must turn any bytes into a table or an `UnreadableError` whose problems say why in English
and Italian; never another exception. Over HTTP every answer is a report (200/422), or a 4xx whose
JSON names the problem, and the server process lives on. An import runs the RML engine in a
subprocess (seconds per call), so the HTTP fuzzing keeps to a handful of examples; the cheap paths
(unreadable files, wrong columns, bad parameters) take most of them.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile

import pytest
import requests
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from conftest import PROJECT
from processes import admin_token, start_serving
from sekg.importing.spreadsheet import MAX_XLSX_UNCOMPRESSED, Table, UnreadableError, read_table

EXAMPLES = PROJECT / "data" / "import" / "examples"
TEMPLATE_CSV = (EXAMPLES / "tsi-network-template.csv").read_bytes()
TEMPLATE_XLSX = (EXAMPLES / "tsi-network-template.xlsx").read_bytes()
SHEET = "xl/worksheets/sheet1.xml"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

READER = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")), deadline=None,
                  suppress_health_check=[HealthCheck.too_slow], derandomize=not os.environ.get("FUZZ_RANDOM"))
HTTP = settings(max_examples=int(os.environ.get("FUZZ_IMPORT_EXAMPLES", "15")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
                derandomize=not os.environ.get("FUZZ_RANDOM"))


def rezip(replacements: dict[str, bytes], *, source: bytes = TEMPLATE_XLSX) -> bytes:
    """Return the workbook with some of its parts replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as old, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, replacements.get(info.filename, old.read(info.filename)))
    return out.getvalue()


@st.composite
def mutated(draw, data: bytes, *, keep: int = 0) -> bytes:
    """Return the bytes with a few random edits (cuts, insertions, stray bytes) after the first `keep` bytes."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(keep, len(data)))
        action = draw(st.sampled_from(["cut", "insert", "byte"]))
        if action == "cut":
            del data[at:at + draw(st.integers(1, 40))]
        elif action == "insert":
            data[at:at] = draw(st.sampled_from(['"', ",", ";", "\n", "\r", "\x00", "\ufeff", "é", "<script>",
                                                "=cmd|' /C calc'!A0", "&e;", "<", "]]>", ",,,,,,,"])).encode()
        else:
            data[at:at] = bytes([draw(st.integers(0, 255))])
    return bytes(data)


sheets = st.builds(lambda edited: rezip({SHEET: edited}),
                   mutated(zipfile.ZipFile(io.BytesIO(TEMPLATE_XLSX)).read(SHEET)))
header_end = TEMPLATE_CSV.index(b"\n") + 1


def check_reading(name: str, data: bytes) -> Table | None:
    """Read the bytes; assert a well-formed table or a refusal with reasons; return the table if any."""
    try:
        table = read_table(name, data)
    except UnreadableError as refusal:
        assert refusal.problems
        assert all(p.en and p.it for p in refusal.problems)
        return None
    assert table.columns and len(set(table.columns)) == len(table.columns)
    assert all(c and c == c.strip() for c in table.columns)
    assert len(table.rows) == len(table.numbers)
    assert all(set(row) == set(table.columns) for row in table.rows)
    assert table.numbers == sorted(set(table.numbers)) and all(n >= 2 for n in table.numbers)
    return table


# --- the reader ----------------------------------------------------------------------------------------
@given(data=st.binary(max_size=500), name=st.sampled_from(["f.csv", "f.xlsx", "f.txt", "f", "f.ods"]))
@READER
def test_any_bytes_are_a_table_or_a_reasoned_refusal(data, name):
    check_reading(name, data)


@given(data=mutated(TEMPLATE_CSV) | mutated(TEMPLATE_CSV, keep=header_end))
@READER
def test_edited_template_csv_is_a_table_or_a_reasoned_refusal(data):
    check_reading("members.csv", data)


@given(data=sheets)
@READER
def test_edited_template_xlsx_is_a_table_or_a_reasoned_refusal(data):
    check_reading("members.xlsx", data)


cells = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=15)
columns = st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,9}", fullmatch=True), min_size=1, max_size=6, unique=True)


@given(data=st.data(), header=columns, delimiter=st.sampled_from([",", ";"]), bom=st.booleans())
@READER
def test_csv_written_by_a_csv_writer_reads_back_cell_for_cell(data, header, delimiter, bom):
    records = data.draw(st.lists(st.lists(cells, min_size=len(header), max_size=len(header)), max_size=8))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(records)
    table = read_table("members.csv", (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode())
    expected = [(n, dict(zip(header, (c.strip() for c in r)))) for n, r in enumerate(records, start=2)
                if any(c.strip() for c in r)]
    if len(header) > 1 or delimiter == ",":  # one column: no delimiter to tell which one was meant
        assert table.columns == header
        assert list(zip(table.numbers, table.rows)) == expected


def test_xml_entities_in_a_workbook_are_refused_and_never_expanded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    sheet = zipfile.ZipFile(io.BytesIO(TEMPLATE_XLSX)).read(SHEET).decode()
    for doctype, reference in [
            (f'<!DOCTYPE w [<!ENTITY e SYSTEM "file://{secret}">]>', "&e;"),
            ('<!DOCTYPE w [<!ENTITY a "' + "x" * 1000 + '"><!ENTITY b "' + "&a;" * 1000 + '">]>', "&b;"),
            ('<!DOCTYPE w [<!ENTITY l0 "lol"><!ENTITY l1 "&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;">'
             '<!ENTITY l2 "&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;"><!ENTITY l3 "&l2;&l2;&l2;&l2;&l2;&l2;&l2;">]>',
             "&l3;")]:
        hostile = rezip({SHEET: (doctype + sheet.replace("<t>name</t>", f"<t>{reference}</t>", 1)).encode()})
        with pytest.raises(UnreadableError) as refused:
            read_table("members.xlsx", hostile)
        assert "TOP-SECRET" not in str(refused.value) and "xxxxxxxxxx" not in str(refused.value)


def test_a_decompression_bomb_is_refused_before_it_is_unpacked():
    # one cell of many zeros: the file is small, unpacked it would exceed the limit
    size = MAX_XLSX_UNCOMPRESSED + 1
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(TEMPLATE_XLSX)) as old, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename != SHEET:
                new.writestr(info.filename, old.read(info.filename))
        with new.open(SHEET, "w", force_zip64=True) as part:
            chunk = b"0" * (1 << 22)
            for _ in range(size // len(chunk) + 1):
                part.write(chunk)
    bomb = out.getvalue()
    assert len(bomb) < 5_000_000
    with pytest.raises(UnreadableError) as refused:
        read_table("members.xlsx", bomb)
    assert "unpacks to" in refused.value.problems[0].en


# --- POST /import over HTTP ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    store = tmp_path_factory.mktemp("import-fuzz") / "store"
    token = admin_token(store)
    live = start_serving(store, SEKG_QUERY_WORKERS="1")
    live.auth = {"Authorization": f"Bearer {token}"}
    yield live
    live.stop()


def answered(server, response: requests.Response) -> None:
    """Assert a report, or an error the client can act on; the server process must still be running."""
    assert server.alive(), "the server process died"
    status = response.status_code
    assert status in {200, 400, 404, 413, 415, 422}, (status, response.text[:300])
    body = response.json()
    if status == 200:
        assert body["rows"] >= 1
    elif "problems" in body:  # a report: unreadable file (400) or rows refused (422)
        assert body["problems"] and not body["written"]
        assert all(p["message"]["en"] and p["message"]["it"] for p in body["problems"])
        assert "/" not in body["file"] and body["file"] not in {"", ".", ".."}  # a label, never a path
    else:
        assert body["message"], response.text[:300]


payloads = st.one_of(
    st.binary(max_size=300),
    mutated(TEMPLATE_CSV, keep=header_end),  # the columns stay right: these reach the RML engine
    mutated(TEMPLATE_CSV),
    sheets,
)
# each is half the time a value that lets the import go on, so that some examples reach the engine
filenames = st.sampled_from(["members.csv", "members.xlsx"]) | st.sampled_from([
    "../../../../tmp/evil.csv", "..\\..\\evil.xlsx", "/etc/passwd", "members.txt", "", ".csv",
    "<script>alert(1)</script>.csv"]) | st.text(max_size=20)
federations = st.sampled_from(["fuzz", "fuzz-two"]) | st.sampled_from(["../fuzz", "FUZZ", "", "a" * 70, "fuzz%2F..",
                                                                     "fuzz\x00"])
mappings = st.sampled_from([None, "template"]) | st.sampled_from(["sample-it", "../../etc/passwd", "/etc/passwd",
                                                                  "template\x00", "x" * 300])


@given(data=payloads, filename=filenames, federation=federations, mapping=mappings, dry_run=st.booleans(),
       multipart=st.booleans(), accept=st.sampled_from(["application/json", "*/*"]))
@example(data=TEMPLATE_CSV, filename="members.csv", federation="fuzz", mapping=None, dry_run=True, multipart=True,
         accept="application/json")
@example(data=rezip({}), filename="members.xlsx", federation="fuzz", mapping="template", dry_run=False,
         multipart=False, accept="application/json")
@HTTP
def test_import_fuzz(server, data, filename, federation, mapping, dry_run, multipart, accept):
    params = {"federation": federation, **({"mapping": mapping} if mapping is not None else {}),
              **({"dry-run": "true"} if dry_run else {})}
    headers = {**server.auth, "Accept": accept}
    if multipart:
        response = requests.post(server.url + "/import", params=params, headers=headers, timeout=300,
                                 files={"file": (filename, data)})
    else:
        content_type = XLSX_TYPE if filename.endswith("xlsx") or data[:2] == b"PK" else "text/csv"
        response = requests.post(server.url + "/import", params={**params, "filename": filename}, data=data,
                                 headers={**headers, "Content-Type": content_type}, timeout=300)
    answered(server, response)
    event(f"{response.status_code} {'engine' if response.json().get('seconds', {}).get('mapping') else 'early'}")


def test_script_in_cells_is_escaped_in_the_html_report(server):
    evil = TEMPLATE_CSV[:header_end] + b'<script>alert(1)</script>,,"<img src=x onerror=alert(2)>",,,,,,,,,,,,,,,,,\n'
    response = requests.post(server.url + "/import", params={"federation": "fuzz", "dry-run": "true"},
                             headers={**server.auth, "Accept": "text/html"}, timeout=300,
                             files={"file": ("<script>alert(3)</script>.csv", evil)})
    assert response.status_code == 422, response.text[:300]
    page = response.text
    assert "<script" not in page and "<img" not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page


def test_a_workbook_with_an_external_entity_is_a_400_report(server, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    sheet = zipfile.ZipFile(io.BytesIO(TEMPLATE_XLSX)).read(SHEET).decode()
    hostile = rezip({SHEET: (f'<!DOCTYPE w [<!ENTITY e SYSTEM "file://{secret}">]>'
                             + sheet.replace("<t>name</t>", "<t>&e;</t>", 1)).encode()})
    response = requests.post(server.url + "/import", params={"federation": "fuzz"}, headers=server.auth,
                             timeout=300, files={"file": ("members.xlsx", hostile)})
    assert response.status_code == 400
    assert response.json()["problems"] and "TOP-SECRET" not in response.text


def test_server_survived_the_import_fuzzing(server):
    assert server.alive()
    assert requests.get(server.url + "/health", timeout=60).json()["ok"]
    graphs = requests.get(server.url + "/sparql", timeout=60, headers={"Accept": "application/sparql-results+json"},
                          params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"}).json()
    # only the fuzz federations' graphs (and the import provenance) may have been written
    for row in graphs["results"]["bindings"]:
        g = row["g"]["value"]
        assert g.startswith("https://w3id.org/sekg/graph/federation/fuzz") or g.endswith("/graph/provenance"), g
