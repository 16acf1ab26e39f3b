"""Generate the SKOS code lists in `data/vocab/` from the shared reference CSV files.

Run it from the repository root:

    PYTHONPATH=service python -m sekg.vocabularies --shared ../shared --out data/vocab

It writes CPV 2008, NUTS 2024, the SDG goals and targets and six EU authority tables as Turtle. The
output is deterministic (same input, byte-identical files), so the files are committed and a test
checks that they are up to date. The hand-written schemes in `data/vocab/` are not touched.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import re
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from .namespaces import AUTHORITY, CPV, DCTERMS, NUTS, OWL, PROV, RDFS, SEKG, SKOS, XSD
from .paths import PROJECT_ROOT, VOCAB_DIR

ELI = "http://data.europa.eu/eli/ontology#"

# The prefixes every generated file declares (the project's list for vocabulary files).
PREFIXES = (
    ("dcterms", str(DCTERMS)),
    ("eli", ELI),
    ("owl", str(OWL)),
    ("prov", str(PROV)),
    ("rdfs", str(RDFS)),
    ("sekg", str(SEKG)),
    ("skos", str(SKOS)),
    ("xsd", str(XSD)),
)

# dcterms:modified of the generated schemes. A constant and not the run date, because the same CSV
# files must always give byte-identical files; change it together with the reference CSV files.
MODIFIED = "2026-11-25"

# The path under which the reference files are named in the output, whatever --shared points to:
# a different checkout location must not change the files.
REFERENCE_PATH = "shared/reference"

COMMAND = "PYTHONPATH=service python -m sekg.vocabularies --shared ../shared --out data/vocab"

# Predicates are written in this order (then alphabetically), whatever order the code adds them in.
PREDICATE_ORDER = (
    "a",
    "dcterms:title",
    "dcterms:description",
    "dcterms:source",
    "dcterms:license",
    "dcterms:rights",
    "dcterms:modified",
    "skos:inScheme",
    "skos:topConceptOf",
    "skos:notation",
    "dcterms:identifier",
    "skos:prefLabel",
    "skos:altLabel",
    "skos:definition",
    "skos:broader",
    "skos:narrower",
    "skos:exactMatch",
    "owl:deprecated",
    "skos:hasTopConcept",
)

# ------------------------------------------------------------------------------------------------
# Turtle terms
# ------------------------------------------------------------------------------------------------

_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_LANGUAGE_TAG = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")
_STRING_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def iri(value: str) -> str:
    """Render an absolute IRI as a Turtle IRI reference, refusing characters Turtle forbids."""
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", value) or _IRI_FORBIDDEN.search(value):
        raise ValueError(f"not a usable absolute IRI: {value!r}")
    return f"<{value}>"


def literal(text: str, language: str | None = None, datatype: str | None = None) -> str:
    """Render a string literal, with a language tag or a datatype (a prefixed name)."""
    rendered = '"' + text.translate(_STRING_ESCAPES) + '"'
    if language is not None:
        if not _LANGUAGE_TAG.match(language):
            raise ValueError(f"not a language tag: {language!r}")
        return f"{rendered}@{language}"
    if datatype is not None:
        return f"{rendered}^^{datatype}"
    return rendered


def date_literal(value: str) -> str:
    """Render an ISO date as an xsd:date literal."""
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        raise ValueError(f"not an ISO date: {value!r}")
    return literal(value, datatype="xsd:date")


@dataclass
class Node:
    """Collect the statements about one subject and render them as one Turtle block."""

    subject: str  # the subject IRI
    properties: dict[str, list[str]] = field(default_factory=dict)

    def add(self, predicate: str, *objects: str) -> None:
        """Add objects (already rendered terms) for a predicate, skipping ones already there."""
        values = self.properties.setdefault(predicate, [])
        values.extend(o for o in objects if o not in values)

    def render(self) -> str:
        """Write the block: one predicate per line, several objects one per line."""
        lines = [iri(self.subject)]
        predicates = sorted(self.properties, key=_predicate_rank)
        for number, predicate in enumerate(predicates):
            objects = self.properties[predicate]
            end = " ." if number == len(predicates) - 1 else " ;"
            body = (" ,\n        ").join(objects)
            lines.append(f"    {predicate} {body}{end}")
        return "\n".join(lines) + "\n"


def _predicate_rank(predicate: str) -> tuple[int, str]:
    """Rank a predicate by PREDICATE_ORDER; unknown ones come last, alphabetically."""
    known = PREDICATE_ORDER.index(predicate) if predicate in PREDICATE_ORDER else len(PREDICATE_ORDER)
    return known, predicate


# ------------------------------------------------------------------------------------------------
# Input: CSV files, their checksums, the README's provenance cells
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provenance:
    """Hold what the reference README says of one CSV file: its upstream source and its terms."""

    source: str
    terms: str


def read_rows(path: Path) -> list[dict[str, str]]:
    """Read a reference CSV file (UTF-8, RFC 4180, one header row) into dictionaries."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"{path}: no rows")
    return rows


def sha256_of(path: Path) -> str:
    """Return the hexadecimal SHA-256 of a file."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def read_provenance(readme: Path) -> dict[str, Provenance]:
    """Read the source and licence cells of each CSV file's row in the README's table of files."""
    result: dict[str, Provenance] = {}
    previous: Provenance | None = None
    for line in readme.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `([^`]+\.csv)` \|", line)
        if not match:
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if len(cells) != 6:
            raise ValueError(f"{readme}: row of {match.group(1)} has {len(cells)} cells, expected 6")
        source, terms = _plain(cells[3]), _plain(cells[4])
        # The README abbreviates a cell equal to the one of the row above as "as above".
        if previous is not None:
            source = previous.source if source == "as above" else source
            terms = previous.terms if terms == "as above" else terms
        previous = result[match.group(1)] = Provenance(source, terms)
    return result


def _plain(markdown: str) -> str:
    """Drop the Markdown code and bold marks from a README cell."""
    return markdown.replace("`", "").replace("**", "")


# ------------------------------------------------------------------------------------------------
# Building blocks of the concept schemes
# ------------------------------------------------------------------------------------------------


@dataclass
class Vocabulary:
    """Hold one concept scheme and its concepts, keyed by concept IRI."""

    scheme: Node
    concepts: dict[str, Node] = field(default_factory=dict)

    def concept(self, concept_iri: str, notation: str) -> Node:
        """Create a concept of this scheme with its notation; refuse a second concept with the IRI."""
        if concept_iri in self.concepts:
            raise ValueError(f"duplicate concept {concept_iri}")
        node = Node(concept_iri)
        node.add("a", "skos:Concept")
        node.add("skos:inScheme", iri(self.scheme.subject))
        node.add("skos:notation", literal(notation))
        self.concepts[concept_iri] = node
        return node

    def mark_top(self, concept_iri: str) -> None:
        """Make a concept a top concept of the scheme, in both directions."""
        self.concepts[concept_iri].add("skos:topConceptOf", iri(self.scheme.subject))
        self.scheme.add("skos:hasTopConcept", iri(concept_iri))

    def link_hierarchy(self, parents: dict[str, str], sort_key: Callable[[str], object] = str) -> None:
        """Add skos:broader and skos:narrower from child-to-parent pairs; parentless concepts become top."""
        children: dict[str, list[str]] = {}
        for child, parent in parents.items():
            if parent not in self.concepts:
                raise ValueError(f"{child}: parent {parent} is not in the scheme")
            self.concepts[child].add("skos:broader", iri(parent))
            children.setdefault(parent, []).append(child)
        for parent, kids in children.items():
            self.concepts[parent].add("skos:narrower", *(iri(kid) for kid in sorted(kids, key=sort_key)))
        for concept_iri in sorted(self.concepts, key=sort_key):
            if concept_iri not in parents:
                self.mark_top(concept_iri)


def new_vocabulary(scheme_iri: str) -> Vocabulary:
    """Start a vocabulary with its skos:ConceptScheme."""
    scheme = Node(scheme_iri)
    scheme.add("a", "skos:ConceptScheme")
    return Vocabulary(scheme)


def add_labels(node: Node, row: dict[str, str], predicate: str = "skos:prefLabel") -> None:
    """Add a language-tagged label for every non-empty `label_xx` column of a row, in column order."""
    for column, value in row.items():
        if column.startswith("label_") and value:
            node.add(predicate, literal(value, language=column.removeprefix("label_")))


def add_deprecation(node: Node, row: dict[str, str]) -> None:
    """Flag a concept the source marks as deprecated; an empty cell means the source says nothing."""
    flag = row["deprecated"]
    if flag not in ("true", "false", ""):
        raise ValueError(f"{node.subject}: unexpected deprecated value {flag!r}")
    if flag == "true":
        node.add("owl:deprecated", "true")


def natural_key(text: str) -> tuple:
    """Sort strings with their digit runs compared as numbers (SDG 2 before 10, 1.9 before 1.10)."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text))


# ------------------------------------------------------------------------------------------------
# The code lists
# ------------------------------------------------------------------------------------------------

CPV_SCHEME = str(CPV).rstrip("/")
NUTS_SCHEME = "http://data.europa.eu/nuts/scheme/2024"
SDG_SCHEME = "http://metadata.un.org/sdg"


def build_cpv(tables: dict[str, list[dict[str, str]]]) -> Vocabulary:
    """Build CPV 2008: IRIs on the 8-digit stem, the full code (with check digit) as notation."""
    vocabulary = new_vocabulary(CPV_SCHEME)
    parents: dict[str, str] = {}
    for row in tables["cpv_2008.csv"]:
        if not re.match(r"^\d{8}-\d$", row["code"]):
            raise ValueError(f"cpv_2008.csv: malformed code {row['code']!r}")
        concept = vocabulary.concept(_cpv_iri(row["code"]), row["code"])
        add_labels(concept, row)
        if row["parent"]:
            parents[concept.subject] = _cpv_iri(row["parent"])
        elif row["level"] != "1":
            raise ValueError(f"cpv_2008.csv: {row['code']} has no parent but is not a division")
    vocabulary.link_hierarchy(parents)
    return vocabulary


def _cpv_iri(code: str) -> str:
    """Return the concept IRI of a CPV code."""
    # The EU Vocabularies CPV IRIs use the eight digits without the check digit.
    return f"{CPV}{code[:8]}"


def build_nuts(tables: dict[str, list[dict[str, str]]]) -> Vocabulary:
    """Build NUTS 2024: national names untagged, country names (level 0) from the country table."""
    vocabulary = new_vocabulary(NUTS_SCHEME)
    countries = {row["nuts_code"]: row for row in tables["eu_authority_countries.csv"] if row["nuts_code"]}
    plates = {row["nuts3_2024"]: row["car_plate_code"] for row in tables["italy_provinces.csv"]
              if row["nuts3_2024"] and row["car_plate_code"]}
    parents: dict[str, str] = {}
    for row in tables["nuts_2024.csv"]:
        if (row["level"] == "0") == bool(row["parent"]):
            raise ValueError(f"nuts_2024.csv: {row['code']} (level {row['level']}) has parent {row['parent']!r}")
        concept = vocabulary.concept(f"{NUTS}{row['code']}", row["code"])
        if row["level"] == "0":
            _add_country_names(concept, countries, row["code"])
        else:
            concept.add("skos:prefLabel", literal(row["name"]))
            if row["name_latin"] and row["name_latin"] != row["name"]:
                concept.add("skos:altLabel", literal(row["name_latin"]))
        if row["parent"]:
            parents[concept.subject] = f"{NUTS}{row['parent']}"
        if row["code"] in plates:
            # Italian spreadsheets name provinces by their car-plate code ("TO"): a hidden label lets
            # imports and searches find the region without showing the code as a name.
            concept.add("skos:hiddenLabel", literal(plates[row["code"]]))
    vocabulary.link_hierarchy(parents)
    return vocabulary


def _add_country_names(concept: Node, countries: dict[str, dict[str, str]], code: str) -> None:
    """Label a level-0 NUTS concept with its country's names and link it to the country."""
    # Eurostat gives no names for level 0: the country authority table has them, and its IRI.
    country = countries.get(code)
    if country is None:
        raise ValueError(f"nuts_2024.csv: no row of eu_authority_countries.csv has nuts_code {code}")
    for language in ("en", "it"):
        concept.add("skos:prefLabel", literal(country[f"label_{language}"], language=language))
    concept.add("skos:exactMatch", iri(country["iri"]))


def build_countries(tables: dict[str, list[dict[str, str]]]) -> Vocabulary:
    """Build the EU Country table: every row, ISO alpha-2 as dcterms:identifier."""
    vocabulary = build_authority_table(tables, "country", "eu_authority_countries.csv")
    for row in tables["eu_authority_countries.csv"]:
        if row["iso3166_alpha2"]:
            vocabulary.concepts[row["iri"]].add("dcterms:identifier", literal(row["iso3166_alpha2"]))
    return vocabulary


def build_authority_table(tables: dict[str, list[dict[str, str]]], table: str, filename: str) -> Vocabulary:
    """Build a flat EU authority table: labels, notation, deprecation and exact matches."""
    scheme_iri = f"{AUTHORITY}{table}"
    vocabulary = new_vocabulary(scheme_iri)
    for row in tables[filename]:
        if not row["iri"].startswith(scheme_iri + "/"):
            raise ValueError(f"{filename}: {row['iri']} is not in {scheme_iri}")
        # The country table's OP_DATPRO row has an empty code; everywhere else the code is the
        # last segment of the IRI, so that segment stands in for it.
        concept = vocabulary.concept(row["iri"], row["code"] or row["iri"].rsplit("/", 1)[1])
        add_labels(concept, row)
        add_deprecation(concept, row)
        if row.get("exact_match"):
            concept.add("skos:exactMatch", iri(row["exact_match"]))
    # The tables are flat: every concept is a top concept, as in the Publications Office's own files.
    for concept_iri in sorted(vocabulary.concepts):
        vocabulary.mark_top(concept_iri)
    return vocabulary


def build_sdg(tables: dict[str, list[dict[str, str]]]) -> Vocabulary:
    """Build the SDGs: goals (short titles as labels, full titles as definitions) and their targets."""
    vocabulary = new_vocabulary(SDG_SCHEME)
    for row in tables["sdg_goals.csv"]:
        goal = vocabulary.concept(row["iri"], row["number"])
        for language in ("en", "it"):
            goal.add("skos:prefLabel", literal(row[f"short_title_{language}"], language=language))
        for language in ("en", "it", "fr", "es"):
            goal.add("skos:definition", literal(row[f"title_{language}"], language=language))
        goal.add("skos:exactMatch", iri(row["wikidata"]))
    parents: dict[str, str] = {}
    for row in tables["sdg_targets.csv"]:
        target = vocabulary.concept(row["iri"], row["code"])
        target.add("skos:prefLabel", literal(f"Target {row['code']}", language="en"))
        target.add("skos:prefLabel", literal(f"Traguardo {row['code']}", language="it"))
        # No Italian target text exists in the source, and none is translated here.
        for language in ("en", "fr", "es"):
            target.add("skos:definition", literal(row[f"label_{language}"], language=language))
        parents[row["iri"]] = row["goal_iri"]
    vocabulary.link_hierarchy(parents, sort_key=natural_key)
    return vocabulary


# ------------------------------------------------------------------------------------------------
# What is generated
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """Describe one generated file: its scheme's titles and descriptions, inputs and builder."""

    filename: str
    title: tuple[str, str]  # en, it
    description: tuple[str, str]  # en, it
    inputs: tuple[str, ...]  # the first one is the file the README's upstream source is taken from
    build: Callable[[dict[str, list[dict[str, str]]]], Vocabulary]
    licences: tuple[str, ...] = ()
    sort_key: Callable[[str], object] = str


_AUTHORITY_NOTE = (
    "as in the copy named in dcterms:source; deprecated entries carry owl:deprecated true.",
    "come nella copia indicata in dcterms:source; le voci deprecate hanno owl:deprecated true.",
)


def _authority_spec(
    filename: str, table: str, csv_name: str, title: tuple[str, str], what: tuple[str, str]
) -> Spec:
    """Describe the file of one flat EU authority table."""
    return Spec(
        filename,
        (f"{title[0]} (EU authority table)", f"{title[1]} (tabella di autorità UE)"),
        (f"{what[0]} {_AUTHORITY_NOTE[0]}", f"{what[1]} {_AUTHORITY_NOTE[1]}"),
        (csv_name,),
        partial(build_authority_table, table=table, filename=csv_name),
    )


SPECS: tuple[Spec, ...] = (
    Spec(
        "cpv.ttl",
        ("Common Procurement Vocabulary (CPV 2008)", "Vocabolario comune per gli appalti pubblici (CPV 2008)"),
        (
            "The main vocabulary of the CPV (Regulation (EC) No 213/2008) with its labels in the EU "
            "languages of the source. Concept IRIs follow the EU Vocabularies pattern (the eight digits, "
            "without the check digit); skos:notation holds the full code with its check digit.",
            "Il vocabolario principale del CPV (regolamento (CE) n. 213/2008) con le etichette nelle "
            "lingue dell'UE presenti nella fonte. Gli IRI dei concetti seguono lo schema di EU Vocabularies "
            "(le otto cifre, senza la cifra di controllo); skos:notation riporta il codice completo con la "
            "cifra di controllo.",
        ),
        ("cpv_2008.csv",),
        build_cpv,
        # The README names these two licences for the sources the labels were taken from.
        licences=("http://spdx.org/licenses/Apache-2.0", "http://spdx.org/licenses/MIT"),
    ),
    Spec(
        "nuts.ttl",
        (
            "NUTS 2024 – Nomenclature of territorial units for statistics (EU-27)",
            "NUTS 2024 – Nomenclatura delle unità territoriali statistiche (UE-27)",
        ),
        (
            "NUTS 2024 (valid from 1 January 2024) for the 27 EU Member States, levels 0 to 3 including the "
            "Extra-Regio units. Region names are Eurostat's official names in the national language, without "
            "a language tag (skos:altLabel: Eurostat's Latin transliteration where it differs); country "
            "names (level 0) are the English and Italian names of the EU country authority table. Italian "
            "provinces (NUTS 3) carry their car-plate code as skos:hiddenLabel (ISTAT province table).",
            "NUTS 2024 (in vigore dal 1° gennaio 2024) per i 27 Stati membri dell'UE, livelli da 0 a 3 comprese "
            "le unità Extra-Regio. I nomi delle regioni sono quelli ufficiali di Eurostat nella lingua "
            "nazionale, senza tag di lingua (skos:altLabel: la traslitterazione latina di Eurostat, dove "
            "diversa); i nomi dei paesi (livello 0) sono quelli inglesi e italiani della tabella di autorità "
            "UE dei paesi. Le province italiane (NUTS 3) hanno la sigla automobilistica come skos:hiddenLabel "
            "(tabella ISTAT delle province).",
        ),
        ("nuts_2024.csv", "eu_authority_countries.csv", "italy_provinces.csv"),
        build_nuts,
    ),
    Spec(
        "countries.ttl",
        ("Countries and territories (EU authority table)", "Paesi e territori (tabella di autorità UE)"),
        (
            "The Country authority table of the EU Publications Office, " + _AUTHORITY_NOTE[0]
            + " dcterms:identifier holds the ISO 3166-1 alpha-2 code where there is one.",
            "La tabella di autorità Country dell'Ufficio delle pubblicazioni dell'UE, " + _AUTHORITY_NOTE[1]
            + " dcterms:identifier riporta il codice ISO 3166-1 alpha-2, dove esiste.",
        ),
        ("eu_authority_countries.csv",),
        build_countries,
    ),
    Spec(
        "sdg.ttl",
        (
            "Sustainable Development Goals and targets",
            "Obiettivi e traguardi per lo sviluppo sostenibile",
        ),
        (
            "The 17 Sustainable Development Goals and their 169 targets, from the UN SDG linked data. Goal "
            "labels are the short titles and definitions the full titles; the Italian goal titles come from "
            "secondary sources (UNRIC Italia, the Italian SDG icons). No Italian target texts exist in the "
            "source, so targets have none.",
            "I 17 obiettivi per lo sviluppo sostenibile e i loro 169 traguardi, dai linked data SDG dell'ONU. "
            "Le etichette degli obiettivi sono i titoli brevi e le definizioni i titoli completi; i titoli "
            "italiani degli obiettivi vengono da fonti secondarie (UNRIC Italia, le icone SDG in italiano). "
            "La fonte non ha testi italiani dei traguardi, che quindi ne sono privi.",
        ),
        ("sdg_goals.csv", "sdg_targets.csv"),
        build_sdg,
        sort_key=natural_key,
    ),
    _authority_spec(
        "languages.ttl",
        "language",
        "eu_authority_languages.csv",
        ("Languages", "Lingue"),
        (
            "The concepts of the EU Language authority table that carry labels in Italian, English, French, "
            "German or Spanish (not the full table),",
            "I concetti della tabella di autorità UE Language che hanno etichette in italiano, inglese, "
            "francese, tedesco o spagnolo (non la tabella completa),",
        ),
    ),
    _authority_spec(
        "file-types.ttl",
        "file-type",
        "eu_authority_file_types.csv",
        ("File types", "Tipi di file"),
        (
            "The EU File type authority table; the official table has Italian labels for one entry only,",
            "La tabella di autorità UE File type; la tabella ufficiale ha un'etichetta italiana per una sola "
            "voce,",
        ),
    ),
    _authority_spec(
        "licences.ttl",
        "licence",
        "eu_authority_licences.csv",
        ("Licences", "Licenze"),
        (
            "The EU Licence authority table in its 2019 version (licences added later are missing),",
            "La tabella di autorità UE Licence nella versione del 2019 (mancano le licenze aggiunte dopo),",
        ),
    ),
    _authority_spec(
        "data-themes.ttl",
        "data-theme",
        "eu_authority_data_themes.csv",
        ("Data themes", "Temi dei dati"),
        (
            "The EU Data theme authority table (the DCAT-AP themes),",
            "La tabella di autorità UE Data theme (i temi di DCAT-AP),",
        ),
    ),
    _authority_spec(
        "frequencies.ttl",
        "frequency",
        "eu_authority_frequencies.csv",
        ("Frequencies", "Frequenze"),
        (
            "The EU Frequency authority table (DCAT-AP update frequencies), with exact matches to the "
            "Dublin Core frequency vocabulary,",
            "La tabella di autorità UE Frequency (frequenze di aggiornamento di DCAT-AP), con le "
            "corrispondenze esatte nel vocabolario di frequenze Dublin Core,",
        ),
    ),
)


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------


def describe_scheme(vocabulary: Vocabulary, spec: Spec, provenance: Provenance, checksums: dict[str, str]) -> None:
    """Add titles, descriptions, provenance and the modification date to the scheme."""
    scheme = vocabulary.scheme
    scheme.add("dcterms:title", literal(spec.title[0], "en"), literal(spec.title[1], "it"))
    scheme.add("dcterms:description", literal(spec.description[0], "en"), literal(spec.description[1], "it"))
    scheme.add("dcterms:source", literal(provenance.source))
    for name in spec.inputs:
        scheme.add("dcterms:source", literal(f"{REFERENCE_PATH}/{name} (sha256 {checksums[name]})"))
    if spec.licences:
        scheme.add("dcterms:license", *(iri(licence) for licence in spec.licences))
    scheme.add("dcterms:rights", literal(provenance.terms))
    scheme.add("dcterms:modified", date_literal(MODIFIED))


def render_file(
    vocabulary: Vocabulary, spec: Spec, provenance: dict[str, Provenance], checksums: dict[str, str]
) -> str:
    """Render a whole file: the comment block, the prefixes, the scheme, then the sorted concepts."""
    parts = [header(spec, provenance, checksums)]
    parts.append("".join(f"@prefix {prefix}: {iri(namespace)} .\n" for prefix, namespace in PREFIXES))
    parts.append(vocabulary.scheme.render())
    parts.extend(vocabulary.concepts[key].render() for key in sorted(vocabulary.concepts, key=spec.sort_key))
    return "\n".join(parts)


def header(spec: Spec, provenance: dict[str, Provenance], checksums: dict[str, str]) -> str:
    """Write the comment block: generated, do not edit, the inputs and their sha256, the upstream sources."""
    lines = [
        f"# data/vocab/{spec.filename}: {spec.title[0]}",
        "#",
        "# GENERATED by sekg.vocabularies (service/sekg/vocabularies.py). DO NOT EDIT: change the",
        "# reference CSV files or the generator and run it again:",
        f"#     {COMMAND}",
        "#",
        "# Source files (sha256):",
    ]
    lines += [f"#     {REFERENCE_PATH}/{name}  {checksums[name]}" for name in (*spec.inputs, "README.md")]
    lines += ["#", f"# Upstream sources, as stated in {REFERENCE_PATH}/README.md:"]
    for name in spec.inputs:
        lines.append(f"#   {name}")
        lines += _comment_paragraph(f"Source: {provenance[name].source}")
        lines += _comment_paragraph(f"Licence / terms: {provenance[name].terms}")
    return "\n".join(lines) + "\n"


def _comment_paragraph(text: str) -> list[str]:
    """Wrap a paragraph into indented comment lines."""
    wrapped = textwrap.wrap(text, width=92, break_long_words=False, break_on_hyphens=False)
    return [f"#     {wrapped[0]}"] + [f"#         {line}" for line in wrapped[1:]]


def write_atomically(path: Path, text: str) -> None:
    """Replace a file in one step, so that an interrupted run never leaves half a vocabulary."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_bytes(text.encode("utf-8"))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def build_vocabularies(shared_dir: Path, out_dir: Path) -> dict[str, int]:
    """Generate every code list from `shared_dir/reference` into `out_dir`; return concepts per file."""
    reference = Path(shared_dir) / "reference"
    out_dir = Path(out_dir)
    provenance = read_provenance(reference / "README.md")
    names = sorted({name for spec in SPECS for name in spec.inputs})
    undocumented = [name for name in names if name not in provenance]
    if undocumented:
        raise ValueError(f"{reference / 'README.md'} has no row for {', '.join(undocumented)}")
    tables = {name: read_rows(reference / name) for name in names}
    checksums = {name: sha256_of(reference / name) for name in (*names, "README.md")}
    texts: dict[str, str] = {}
    counts: dict[str, int] = {}
    for spec in SPECS:
        vocabulary = spec.build(tables)
        describe_scheme(vocabulary, spec, provenance[spec.inputs[0]], checksums)
        texts[spec.filename] = render_file(vocabulary, spec, provenance, checksums)
        counts[spec.filename] = len(vocabulary.concepts)
    # Write only once every file is built, so that bad input leaves the old set of files intact.
    out_dir.mkdir(parents=True, exist_ok=True)
    for filename, text in texts.items():
        write_atomically(out_dir / filename, text)
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, generate the vocabularies and print what was written."""
    parser = argparse.ArgumentParser(
        prog="python -m sekg.vocabularies",
        description="Generate the SKOS code lists (CPV, NUTS, countries, SDG, EU authority tables) "
        "in data/vocab/ from the shared reference CSV files.",
    )
    parser.add_argument(
        "--shared", type=Path, default=PROJECT_ROOT.parent / "shared",
        help="the shared folder holding reference/*.csv (default: %(default)s)",
    )
    parser.add_argument(
        "--out", type=Path, default=VOCAB_DIR,
        help="the folder to write the Turtle files to (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        counts = build_vocabularies(args.shared, args.out)
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for filename, count in counts.items():
        print(f"{args.out / filename}: {count} concepts")
    print(f"{len(counts)} files in {time.perf_counter() - started:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
