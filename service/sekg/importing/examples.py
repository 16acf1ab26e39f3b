"""Write the example import files from the real enterprises of the shipped data (run by hand).

    python -m sekg.importing.examples

It writes data/import/examples/: the template layout as CSV and XLSX, and the same enterprises in
the differently laid out Italian sample (its own column names and order, `;` separated, province by
car-plate code) that data/import/sample-it-mapping.ttl maps. Nothing is invented: every cell comes
from a statement of data/ (qualification years, VAT numbers and the like stay empty where no
source gives them).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox

from ..paths import PROJECT_ROOT
from ..queries import load_queries
from ..shipped import shipped_files

EXAMPLES = PROJECT_ROOT / "data" / "import" / "examples"
TEMPLATE_COLUMNS = [
    "name", "legal_form", "qualification_1", "qualification_1_year", "qualification_2", "qualification_2_year",
    "vat", "fiscal_code", "address", "postcode", "municipality", "province", "country", "website", "services",
    "prevailing_mission", "description_it", "description_en", "email", "founded",
]
# The Italian sample: a federation's own column names for part of the template's content.
SAMPLE_IT_COLUMNS = {
    "Ragione sociale": "name", "Comune": "municipality", "Prov.": "province_plate", "Indirizzo": "address",
    "CAP": "postcode", "Forma giuridica": "legal_form", "Qualifica": "qualification_1",
    "Anno qualifica": "qualification_1_year", "P. IVA": "vat", "Sito web": "website",
    "Codici CPV": "services", "Missione prevalente": "prevailing_mission", "Descrizione": "description_it",
}


def enterprise_rows() -> list[dict[str, str]]:
    """Read the shipped enterprises as template rows, one per enterprise, sorted by name."""
    store = ox.Store()
    for shipped in shipped_files():
        if shipped.kind in {"vocabulary", "data"}:
            syntax = ox.RdfFormat.TRIG if shipped.graph is None else ox.RdfFormat.TURTLE
            graph = ox.NamedNode(shipped.graph) if shipped.graph else None
            store.bulk_load(path=str(shipped.path), format=syntax, to_graph=graph)
    plates = {}
    for quad in store.quads_for_pattern(None, ox.NamedNode("http://www.w3.org/2004/02/skos/core#hiddenLabel"), None):
        plates[quad.subject.value.rsplit("/", 1)[1]] = quad.object.value
    text = load_queries()["import_example_rows"].text
    cells: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    names = {}
    for solution in store.query(text, use_default_graph_as_union=True):
        iri = solution["e"].value
        names[iri] = solution["name"].value
        values = cells[iri][solution["field"].value]
        if solution["value"].value not in values:
            values.append(solution["value"].value)
    rows = []
    for iri, fields in cells.items():
        row = {column: "" for column in TEMPLATE_COLUMNS}
        row["name"] = names[iri]
        for column in ("legal_form", "vat", "fiscal_code", "address", "postcode", "municipality", "province",
                       "country", "website", "prevailing_mission", "description_it", "description_en", "founded"):
            row[column] = fields.get(column, [""])[0]
        row["services"] = "; ".join(sorted(fields.get("services", [])))
        for number, qualification in enumerate(sorted(fields.get("qualification", []))[:2], start=1):
            label, _, since = qualification.partition("|")
            row[f"qualification_{number}"], row[f"qualification_{number}_year"] = label, since
        row["province_plate"] = plates.get(row["province"], row["province"])
        rows.append(row)
    return sorted(rows, key=lambda r: r["name"].casefold())


def write_examples(out: Path = EXAMPLES) -> list[Path]:
    """Write the example files; return their paths."""
    from openpyxl import Workbook

    rows = enterprise_rows()
    out.mkdir(parents=True, exist_ok=True)
    template_csv = out / "tsi-network-template.csv"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=TEMPLATE_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    template_csv.write_text(buffer.getvalue(), encoding="utf-8")

    template_xlsx = out / "tsi-network-template.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "enterprises"
    sheet.append(TEMPLATE_COLUMNS)
    for row in rows:
        sheet.append([row[c] for c in TEMPLATE_COLUMNS])
    workbook.properties.creator = "sekg.importing.examples"
    fixed = datetime(2026, 1, 1)  # a fixed stamp keeps the committed workbook the same from run to run
    workbook.properties.created = workbook.properties.modified = fixed
    workbook.save(template_xlsx)

    sample = out / "tsi-network-sample-it.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(SAMPLE_IT_COLUMNS)
    for row in rows:
        writer.writerow([row[field] for field in SAMPLE_IT_COLUMNS.values()])
    sample.write_text(buffer.getvalue(), encoding="utf-8")
    return [template_csv, template_xlsx, sample]


if __name__ == "__main__":
    for written in write_examples():
        print(written.relative_to(PROJECT_ROOT))
