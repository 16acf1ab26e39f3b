"""Import a federation's spreadsheet: read, match values, map with RML, validate, and write all or nothing.

Steps: read the table (CSV/XLSX) -> check its columns against the mapping -> evaluate the mapping's
functions for every row with the vocabularies (reporting unknown or ambiguous values by row and
column) -> run the RML mapping -> validate the result with the SHACL shapes, each result traced back
to its row and column -> write the federation's graph, its provenance and its validation report in
one transaction (or nothing, when anything is wrong and invalid rows are not to be skipped).
"""

from __future__ import annotations

import csv
import hashlib
import json
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pyoxigraph as ox
from rdflib import URIRef

from ..store.terms import graph_from_triples
from ..validation import validate
from . import matching
from .mapping import EMPTY, Mapping, run_engine
from .problems import Problem
from .spreadsheet import UnreadableError, read_table

ID = "https://w3id.org/sekg/id/"
PLACE = ID + "place/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFLIB_TYPE = URIRef(RDF_TYPE)
VALIDATION_CHUNK = 2000  # rows validated together
DUPLICATE_CHUNK = 100  # values looked up per duplicates query
GRAPH = "https://w3id.org/sekg/graph/"
SCHEME_MATCHERS = {"legal-form": "legal_form", "qualification": "qualification", "mission": "mission",
                   "country": "country"}


def federation_graph(federation: str) -> str:
    return f"{GRAPH}federation/{federation}"


@dataclass
class ImportResult:
    federation: str
    graph: str
    file_name: str
    sha256: str
    rows: int
    problems: list[Problem] = field(default_factory=list)
    rejected_rows: set[int] = field(default_factory=set)
    duplicates: list[dict] = field(default_factory=list)
    triples: int = 0
    written: bool = False
    dry_run: bool = False
    unreadable: bool = False  # the file could not be read as a table at all
    seconds: dict = field(default_factory=dict)

    @property
    def violations(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "Violation"]

    @property
    def accepted(self) -> int:
        return self.rows - len(self.rejected_rows)

    def as_json(self) -> dict:
        return {
            "federation": self.federation, "graph": self.graph, "file": self.file_name, "sha256": self.sha256,
            "rows": self.rows, "rows_accepted": self.accepted, "rows_rejected": len(self.rejected_rows),
            "triples": self.triples, "written": self.written, "dry_run": self.dry_run,
            "violations": len(self.violations), "warnings": len(self.problems) - len(self.violations),
            "problems": [p.as_json() for p in sorted(self.problems, key=lambda p: (p.row, p.column or ""))],
            "duplicates": self.duplicates, "seconds": self.seconds,
        }


class RowEvaluator:
    """Evaluate the mapping's function calls for each row, collecting answers and problems."""

    def __init__(self, vocabularies: matching.Vocabularies, federation: str):
        self.v = vocabularies
        self.federation = federation
        self.answers: dict[str, dict[str, dict[str, object]]] = {}
        self.problems: list[Problem] = []
        self.subjects: dict[str, int] = {}  # IRI minted for a row -> that row
        self.names: dict[str, int] = {}

    def _record(self, function: str, row: int, values: list[str], answer) -> None:
        key = json.dumps(values, ensure_ascii=False)
        self.answers.setdefault(function, {}).setdefault(str(row), {})[key] = answer
        if isinstance(answer, str) and answer.startswith(ID):
            self.subjects.setdefault(answer, row)

    def _problem(self, row: int, column: str, value: str, outcome: matching.Outcome) -> None:
        self.problems.append(Problem(row, column, value, outcome.en, outcome.it))

    def enterprise_iri(self, name: str) -> str:
        return f"{ID}organisation/{self.federation}-{matching.slug(name)}"

    def evaluate(self, call, row: int, cells: dict[str, str]) -> None:
        inputs = {parameter: (value if constant else cells.get(value, "")) for parameter, value, constant in call.inputs
                  if parameter != "row"}
        columns = {parameter: value for parameter, value, constant in call.inputs if not constant}
        values = [inputs[parameter] for parameter in sorted(inputs)]
        answer = getattr(self, "fn_" + call.function)(row, inputs, columns)
        self._record(call.function, row, values, answer)

    # --- the functions (names as in the mapping's https://w3id.org/sekg/fn# namespace) --------------
    def fn_enterprise(self, row, inputs, columns):
        name = inputs["name"]
        if not name:
            self.problems.append(Problem(row, columns["name"], "", "the name is missing", "manca il nome"))
            return None
        iri = self.enterprise_iri(name)
        if iri in self.names and self.names[iri] != row:
            self.problems.append(Problem(row, columns["name"], name,
                                         f"the same name as row {self.names[iri]}: each enterprise once",
                                         f"stesso nome della riga {self.names[iri]}: ogni impresa una sola volta"))
        self.names.setdefault(iri, row)
        return iri

    def fn_part(self, row, inputs, columns):
        name, kind, value = inputs["name"], inputs["kind"], inputs["value"]
        if not name or not value:
            return None
        key = f"{self.federation}-{matching.slug(name)}"
        if kind == "address":
            return f"{ID}address/{key}"
        if kind == "qualification":
            outcome = self.v.qualification(value)
            return f"{ID}qualification/{key}/{outcome.values[0].rsplit('/', 1)[1]}" if outcome.ok else None
        if kind == "identifier":
            outcome = matching.vat_number(value)
            return f"{ID}identifier/vat-number/{outcome.values[0].lower()}" if outcome.ok else None
        if kind == "fiscal-code":
            outcome = matching.fiscal_code(value)
            return f"{ID}identifier/fiscal-code/{outcome.values[0].lower()}" if outcome.ok else None
        raise ValueError(f"unknown part kind {kind!r} in the mapping")

    def fn_cpv(self, row, inputs, columns):
        if not inputs["value"]:
            return None
        outcome = self.v.cpv(inputs["value"])
        if not outcome.ok:
            self._problem(row, columns["value"], inputs["value"], outcome)
        return outcome.values or None

    def fn_concept(self, row, inputs, columns):
        value, scheme = inputs["value"], inputs["scheme"]
        if not value:
            return None
        outcome = getattr(self.v, SCHEME_MATCHERS[scheme])(value)
        if not outcome.ok:
            self._problem(row, columns["value"], value, outcome)
            return None
        return outcome.values[0]

    def fn_place(self, row, inputs, columns):
        value, field_ = inputs["value"], inputs["field"]
        if not value:
            return None
        country = None
        if inputs.get("country"):
            found = self.v.country(inputs["country"])
            country = found.values[0] if found.ok else None
        outcome, new = self.v.place(value, inputs.get("province", ""), country)
        if not outcome.ok:
            if field_ == "iri":
                self._problem(row, columns["value"], value, outcome)
            return None
        if field_ == "iri":
            return outcome.values[0]
        if field_ == "new":  # the place's own description is written only for a place the graph lacks
            return outcome.values[0] if new else None
        return new.get(field_) if new else None

    def fn_vat(self, row, inputs, columns):
        if not inputs["value"]:
            return None
        outcome = matching.vat_number(inputs["value"])
        if not outcome.ok:
            self._problem(row, columns["value"], inputs["value"], outcome)
            return None
        return outcome.values[0]

    def fn_fiscal_code(self, row, inputs, columns):
        return self._simple(matching.fiscal_code, row, inputs, columns)

    def fn_year(self, row, inputs, columns):
        return self._simple(matching.year, row, inputs, columns)

    def fn_website(self, row, inputs, columns):
        return self._simple(matching.website, row, inputs, columns)

    def fn_email(self, row, inputs, columns):
        return self._simple(matching.email, row, inputs, columns)

    def _simple(self, check, row, inputs, columns):
        if not inputs["value"]:
            return None
        outcome = check(inputs["value"])
        if not outcome.ok:
            self._problem(row, columns["value"], inputs["value"], outcome)
            return None
        return outcome.values[0]


def _prepared_csv(table, mapping: Mapping, path: Path) -> None:
    """Write the table for the engine: a `row` column, and copies of function inputs keeping empty cells."""
    inputs = sorted(mapping.input_columns)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*table.columns, "row", *(f"{c}__in" for c in inputs)])
        for number, cells in zip(table.numbers, table.rows):
            writer.writerow([*(cells[c] for c in table.columns), number, *(cells.get(c) or EMPTY for c in inputs)])


class Importer:
    """Import spreadsheets into federations' graphs on one store."""

    def __init__(self, store, queries, writes=None, *, engine: Path | None = None, max_rows: int = 200_000,
                 concepts: matching.ConceptCache | None = None):
        self.concepts = concepts
        self.store = store
        self.queries = queries
        self.writes = writes
        self.engine = engine
        self.max_rows = max_rows

    def run(self, path: Path, federation: str, mapping_path: Path, *, data: bytes | None = None,
            dry_run: bool = False, skip_invalid: bool = False, link_duplicates: bool = False,
            grant=None, progress: Callable[..., None] | None = None) -> ImportResult:
        """Import one file into the federation's graph; return what happened (written or not, and why).

        `progress(stage, done, total)` is told how far the import has got (done/total: rows, or None).
        """
        started = time.monotonic()
        tick = progress or (lambda stage, done=None, total=None: None)
        path = Path(path)
        data = path.read_bytes() if data is None else data
        result = ImportResult(federation, federation_graph(federation), path.name, hashlib.sha256(data).hexdigest(),
                              0, dry_run=dry_run)
        tick("reading")
        try:
            table = read_table(path, data)
        except UnreadableError as exc:
            result.problems = exc.problems
            result.unreadable = True
            return result
        result.rows = len(table.rows)
        if result.rows > self.max_rows:
            result.problems.append(Problem(0, None, str(result.rows),
                                           f"too many rows: {result.rows}; one import takes at most {self.max_rows}; "
                                           "split the file", f"troppe righe: {result.rows}; un'importazione ne "
                                           f"accetta al massimo {self.max_rows}; dividere il file"))
            result.rejected_rows = set(table.numbers)
            return result
        mapping = Mapping.load(mapping_path)
        missing = sorted(mapping.references - set(table.columns))
        extra = sorted(set(table.columns) - mapping.references)
        result.problems += [Problem(1, c, "", "the column is missing", "la colonna manca") for c in missing]
        result.problems += [Problem(1, c, c, "the mapping does not know this column (misspelt, or a different "
                                             "layout?)", "la mappatura non conosce questa colonna (nome errato o "
                                                         "formato diverso?)") for c in extra]
        if missing or extra:
            result.rejected_rows = set(table.numbers)
            return result
        tick("matching", 0, result.rows)
        vocabularies = matching.Vocabularies(self.store, self.queries, self.concepts.get() if self.concepts else None)
        evaluator = RowEvaluator(vocabularies, federation)
        for done, (number, cells) in enumerate(zip(table.numbers, table.rows), start=1):
            for call in mapping.calls:
                evaluator.evaluate(call, number, cells)
            if done % 1000 == 0:
                tick("matching", done, result.rows)
        result.problems += evaluator.problems
        result.seconds["matching"] = round(time.monotonic() - started, 2)
        tick("mapping")
        with tempfile.TemporaryDirectory(prefix="sekg-import-") as work:
            prepared = Path(work) / "rows.csv"
            _prepared_csv(table, mapping, prepared)
            nquads = run_engine(mapping.for_run(result.graph), prepared, evaluator.answers, engine=self.engine)
        result.seconds["mapping"] = round(time.monotonic() - started, 2)
        evaluator.answers.clear()  # the engine has used them; large imports need the memory
        del table
        quads = list(ox.parse(nquads, format=ox.RdfFormat.N_QUADS)) if nquads else []
        del nquads
        tick("validating")
        result.problems += self._validate(quads, evaluator.subjects, mapping, tick)
        result.seconds["validating"] = round(time.monotonic() - started, 2)
        result.rejected_rows = {p.row for p in result.violations if p.row}
        if result.violations and not skip_invalid:
            return result
        rejected = {s for s, row in evaluator.subjects.items() if row in result.rejected_rows}
        quads = [q for q in quads if q.subject.value not in rejected
                 and not (isinstance(q.object, ox.NamedNode) and q.object.value in rejected)]
        tick("duplicates")
        result.duplicates = self._duplicates(quads, result.graph)
        if link_duplicates:
            quads += [ox.Quad(ox.NamedNode(d["iri"]), ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs"),
                              ox.NamedNode(d["same_as"]), ox.NamedNode(result.graph)) for d in result.duplicates]
        result.triples = len(quads)
        if dry_run:
            return result
        tick("writing")
        self.writes.replace_imported_graph(grant, result.graph, quads, self._provenance(result))
        result.written = True
        result.seconds["total"] = round(time.monotonic() - started, 2)
        return result

    # --- validation ----------------------------------------------------------------------------------
    def _validate(self, quads, subjects: dict[str, int], mapping: Mapping, tick=None) -> list[Problem]:
        """Validate the mapped quads with the shapes, a chunk of rows at a time (memory stays bounded).

        A row's statements are validated together with the places shared by several rows; what the
        chunk points at elsewhere is looked up among all imported types, then in the store.
        """
        shared, by_row = [], defaultdict(list)
        types = defaultdict(set)
        for quad in quads:
            subject = quad.subject.value
            if quad.predicate.value == RDF_TYPE:
                types[subject].add(quad.object.value)
            if subject.startswith(PLACE) or subject not in subjects:
                shared.append(quad)
            else:
                by_row[subjects[subject]].append(quad)

        def lookup(iris):
            graph = self.store.reference_facts(iris)
            for iri in iris:
                for kind in types.get(str(iri), ()):
                    graph.add((iri, RDFLIB_TYPE, URIRef(kind)))
            return graph

        problems, seen = [], set()
        rows = sorted(by_row)
        for start in range(0, len(rows), VALIDATION_CHUNK):
            chunk = [q for row in rows[start:start + VALIDATION_CHUNK] for q in by_row[row]]
            data = graph_from_triples(q.triple for q in chunk + shared)
            for result in validate(data, lookup).results:
                identity = (result.focus, result.path, result.value, result.shape)
                if identity in seen:  # a shared place is validated with every chunk
                    continue
                seen.add(identity)
                columns = mapping.columns_of(result.path or "")
                problems.append(Problem(self._row_of(result.focus, subjects), ", ".join(columns) or None,
                                        result.value, result.messages.get("en", ""), result.messages.get("it", ""),
                                        result.severity, result.shape))
            if tick:
                tick("validating", min(start + VALIDATION_CHUNK, len(rows)), len(rows))
        if not rows and shared:
            for result in validate(graph_from_triples(q.triple for q in shared), lookup).results:
                problems.append(Problem(self._row_of(result.focus, subjects), None, result.value,
                                        result.messages.get("en", ""), result.messages.get("it", ""),
                                        result.severity, result.shape))
        return problems

    @staticmethod
    def _row_of(focus: str, subjects: dict[str, int]) -> int:
        if focus in subjects:
            return subjects[focus]
        for subject, row in subjects.items():  # parts are named after their enterprise
            if focus.startswith(subject):
                return row
        return 0

    # --- duplicates and provenance ---------------------------------------------------------------------
    def _duplicates(self, quads, graph: str) -> list[dict]:
        """Find enterprises of other graphs with the same VAT number or website as the imported ones."""
        from rdflib import Literal

        owners = {q.object.value: q.subject.value for q in quads
                  if q.predicate.value == "http://www.w3.org/ns/adms#identifier"}
        vats = {q.object.value: owners[q.subject.value] for q in quads
                if q.predicate.value == "http://www.w3.org/2004/02/skos/core#notation" and q.subject.value in owners}
        sites = {q.object.value: q.subject.value for q in quads
                 if q.predicate.value == "http://xmlns.com/foaf/0.1/homepage"}
        found = []
        for query, values, convert, because in (("import_duplicates_vat", vats, Literal, "same VAT number"),
                                                ("import_duplicates_site", sites, URIRef, "same website")):
            if not values:
                continue
            ordered = sorted(values)
            # bound values are joined into every group of the query, so a query's cost grows with
            # the square of its list: many small lists are far cheaper than one long one
            for start in range(0, len(ordered), DUPLICATE_CHUNK):
                chunk = [convert(v) for v in ordered[start:start + DUPLICATE_CHUNK]]
                for row in self.store.select_values(self.queries[query].text, {"value": chunk}):
                    if row["g"] != graph and values[row["value"]] != row["other"]:
                        found.append({"iri": values[row["value"]], "same_as": row["other"],
                                      "graph": row["g"], "because": because})
        return found

    def _provenance(self, result: ImportResult) -> list[ox.Quad]:
        """Describe the import with PROV-O and its validation with SHACL and DQV, for the provenance graph."""
        from .report import provenance_quads

        return provenance_quads(result, datetime.now(timezone.utc))

