"""Present an import's outcome: a terminal table, CSV and HTML files for the federation, and linked data
(PROV-O provenance of the import, its SHACL validation report and DQV quality measurements)."""

from __future__ import annotations

import csv
import html
import io
from datetime import datetime

import pyoxigraph as ox

SEKG = "https://w3id.org/sekg/ontology#"
PROV = "http://www.w3.org/ns/prov#"
SH = "http://www.w3.org/ns/shacl#"
DQV = "http://www.w3.org/ns/dqv#"
DCT = "http://purl.org/dc/terms/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SPDX = "http://spdx.org/rdf/terms#"
XSD = "http://www.w3.org/2001/XMLSchema#"
PROVENANCE = "https://w3id.org/sekg/graph/provenance"
COLUMNS = ("row", "column", "value", "severity", "message_en", "message_it")


def rows(result) -> list[dict]:
    return [{"row": p.row, "column": p.column or "", "value": p.value or "", "severity": p.severity,
             "message_en": p.en, "message_it": p.it}
            for p in sorted(result.problems, key=lambda p: (p.row, p.column or "", p.en))]


def to_csv(result) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows(result))
    return buffer.getvalue()


def to_html(result, language: str = "en") -> str:
    title = {"en": "Import report", "it": "Rapporto di importazione"}[language]
    head = {"en": ("Row", "Column", "Value", "Severity", "Message"), "it": ("Riga", "Colonna", "Valore", "Gravità", "Messaggio")}
    lines = [f"<!doctype html><html lang=\"{language}\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body>",
             f"<h1>{title}: {html.escape(result.file_name)}</h1>",
             f"<p>{html.escape(result.federation)} · {result.rows} rows · {result.accepted} accepted · "
             f"{len(result.rejected_rows)} rejected · {'written' if result.written else 'not written'}</p>",
             "<table><thead><tr>" + "".join(f"<th scope=\"col\">{h}</th>" for h in head[language]) + "</tr></thead><tbody>"]
    for row in rows(result):
        message = row["message_it"] if language == "it" else row["message_en"]
        lines.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
            row["row"], row["column"], row["value"], row["severity"], message)) + "</tr>")
    lines.append("</tbody></table></body></html>")
    return "\n".join(lines)


def print_table(result, console, language: str = "en") -> None:
    from rich.table import Table

    table = Table("row", "column", "value", "severity", "message", title=f"{result.file_name}: "
                  f"{result.accepted}/{result.rows} rows accepted", show_lines=False)
    for row in rows(result):
        table.add_row(str(row["row"]), row["column"], row["value"][:40], row["severity"],
                      row["message_it"] if language == "it" else row["message_en"])
    console.print(table)


def provenance_quads(result, now: datetime) -> dict[str, list[ox.Quad]]:
    """Return the statements that describe an import, by graph: the provenance graph gets the source
    graph's description; the federation's report graph gets the activity, the SHACL report and DQV."""
    graph = ox.NamedNode(result.graph)
    report_graph = ox.NamedNode(result.graph + "/report")
    prov = ox.NamedNode(PROVENANCE)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    activity = ox.NamedNode(f"https://w3id.org/sekg/id/import/{result.federation}/{stamp}")
    file_node = ox.NamedNode(f"https://w3id.org/sekg/id/import/{result.federation}/{stamp}/file")
    report = ox.NamedNode(f"https://w3id.org/sekg/id/import/{result.federation}/{stamp}/report")

    def n(iri):
        return ox.NamedNode(iri)

    def lit(value, datatype=None, language=None):
        if language:
            return ox.Literal(str(value), language=language)
        return ox.Literal(str(value), datatype=n(datatype)) if datatype else ox.Literal(str(value))

    when = lit(now.isoformat(timespec="seconds"), XSD + "dateTime")
    about = [
        (graph, n(RDF + "type"), n(SEKG + "SourceGraph")),
        (graph, n(RDF + "type"), n(PROV + "Entity")),
        (graph, n(RDFS + "label"), lit(f"Members of the federation {result.federation}", language="en")),
        (graph, n(RDFS + "label"), lit(f"Membri della federazione {result.federation}", language="it")),
        (graph, n(DCT + "source"), lit(result.file_name)),
        (graph, n(SEKG + "confidence"), n("https://w3id.org/sekg/id/confidence/high")),
        (graph, n(SEKG + "retrievedOn"), when),
        (graph, n(PROV + "wasGeneratedBy"), activity),
        (graph, n(RDFS + "seeAlso"), report_graph),
        (graph, n(SEKG + "validationReport"), report),
    ]
    measurements = []
    for metric, value in (("rowsAccepted", result.accepted), ("rowsRejected", len(result.rejected_rows)),
                          ("violations", len(result.violations)),
                          ("warnings", len(result.problems) - len(result.violations))):
        node = n(f"{activity.value}/measurement/{metric}")
        about.append((graph, n(DQV + "hasQualityMeasurement"), node))
        measurements += [(node, n(RDF + "type"), n(DQV + "QualityMeasurement")),
                         (node, n(DQV + "isMeasurementOf"), n(SEKG + metric)),
                         (node, n(DQV + "computedOn"), graph),
                         (node, n(DQV + "value"), lit(value, XSD + "integer"))]
    details = [
        (activity, n(RDF + "type"), n(PROV + "Activity")),
        (activity, n(RDFS + "label"), lit(f"Import of {result.file_name}", language="en")),
        (activity, n(PROV + "endedAtTime"), when),
        (activity, n(PROV + "used"), file_node),
        (activity, n(PROV + "generated"), graph),
        (file_node, n(RDF + "type"), n(PROV + "Entity")),
        (file_node, n(DCT + "title"), lit(result.file_name)),
        (file_node, n(SEKG + "rowCount"), lit(result.rows, XSD + "integer")),
        (file_node, n(SPDX + "checksum"), n(file_node.value + "#sha256")),
        (n(file_node.value + "#sha256"), n(RDF + "type"), n(SPDX + "Checksum")),
        (n(file_node.value + "#sha256"), n(SPDX + "algorithm"), n(SPDX + "checksumAlgorithm_sha256")),
        (n(file_node.value + "#sha256"), n(SPDX + "checksumValue"), lit(result.sha256, XSD + "hexBinary")),
        (report, n(RDF + "type"), n(SH + "ValidationReport")),
        (report, n(SH + "conforms"), lit("false" if result.violations else "true", XSD + "boolean")),
        (report, n(PROV + "wasGeneratedBy"), activity),
    ] + measurements
    for number, problem in enumerate(sorted(result.problems, key=lambda p: (p.row, p.column or "")), start=1):
        node = n(f"{report.value}/result/{number}")
        details += [(report, n(SH + "result"), node),
                    (node, n(RDF + "type"), n(SH + "ValidationResult")),
                    (node, n(SH + "resultSeverity"), n(SH + problem.severity)),
                    (node, n(SH + "resultMessage"), lit(problem.en, language="en")),
                    (node, n(SH + "resultMessage"), lit(problem.it, language="it")),
                    (node, n(SEKG + "row"), lit(problem.row, XSD + "integer"))]
        if problem.column:
            details.append((node, n(SEKG + "column"), lit(problem.column)))
        if problem.value:
            details.append((node, n(SH + "value"), lit(problem.value)))
        if problem.shape:
            details.append((node, n(SH + "sourceShape"), n(problem.shape)))
    return {PROVENANCE: [ox.Quad(*t, prov) for t in about],
            report_graph.value: [ox.Quad(*t, report_graph) for t in details]}
