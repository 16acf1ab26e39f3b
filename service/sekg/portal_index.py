"""Keep the directory's facet and text index (DuckDB) in step with the store.

The store stays the source of truth; this index only makes the portal's faceted search fast. It is
filled from SPARQL (named queries portal_*), so it works on any store, and updated after each
write for the enterprises of the graphs that changed. It remembers the store version it reflects;
a stale index is rebuilt in the background while the previous one keeps answering.
"""

from __future__ import annotations

import csv
import logging
import tempfile
import threading
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from rdflib import URIRef

log = logging.getLogger(__name__)

FACETS = ("cpv", "type", "mission", "place", "project")
BROAD_TYPES = {  # a cooperativa sociale of type A or B is also a cooperativa sociale
    "https://w3id.org/sekg/id/qualification/cooperativa-sociale-a": "https://w3id.org/sekg/id/qualification/cooperativa-sociale",
    "https://w3id.org/sekg/id/qualification/cooperativa-sociale-b": "https://w3id.org/sekg/id/qualification/cooperativa-sociale",
}
REBUILD_THRESHOLD = 2000  # past this many changed enterprises, rebuild rather than patch
# Enterprises read per query while (re)building. The engine joins the bound enterprises into every
# group of the query, so the cost of one query grows with the square of the chunk: 100 is ~15x faster
# than 2000 on 100k enterprises (bench/results/2026-11-26-portal-*.md).
CHUNK = 100
SCHEMES = {
    "http://data.europa.eu/cpv/cpv": "cpv", "http://data.europa.eu/nuts/scheme/2024": "nuts",
    "http://publications.europa.eu/resource/authority/country": "country",
    "https://w3id.org/sekg/id/scheme/social-mission": "mission",
    "https://w3id.org/sekg/id/scheme/qualification": "type", "https://w3id.org/sekg/id/scheme/legal-form": "type",
}


def fold(text: str) -> str:
    """Lower-case and strip accents, so that search ignores both."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@dataclass
class Concept:
    iri: str
    kind: str
    labels: dict = field(default_factory=dict)
    parent: str | None = None
    notation: str | None = None


class PortalIndex:
    """The directory's index: enterprises, their facet values (with ancestors) and concept labels."""

    def __init__(self, path: Path, store, queries):
        self.path = Path(path)
        self.store = store
        self.queries = queries
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = duckdb.connect(str(self.path))
        self._write = threading.Lock()
        self._building: threading.Thread | None = None
        self._create()

    # --- schema -------------------------------------------------------------------------------
    def _create(self) -> None:
        with self._write:
            self._db.execute("""
                CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
                CREATE TABLE IF NOT EXISTS enterprise (
                    id INTEGER PRIMARY KEY, iri VARCHAR UNIQUE, name VARCHAR, sort_key VARCHAR,
                    description_it VARCHAR, description_en VARCHAR, text_key VARCHAR, homepage VARCHAR,
                    municipality VARCHAR, lat DOUBLE, lon DOUBLE);
                CREATE TABLE IF NOT EXISTS facet (id INTEGER, facet VARCHAR, value VARCHAR, direct BOOLEAN);
                CREATE TABLE IF NOT EXISTS source (id INTEGER, graph VARCHAR);
                CREATE TABLE IF NOT EXISTS concept (
                    iri VARCHAR PRIMARY KEY, kind VARCHAR, parent VARCHAR, notation VARCHAR,
                    label_en VARCHAR, label_it VARCHAR, search_key VARCHAR);
                CREATE TABLE IF NOT EXISTS place (
                    iri VARCHAR PRIMARY KEY, label VARCHAR, nuts VARCHAR, country VARCHAR, lat DOUBLE, lon DOUBLE);
            """)

    def cursor(self):
        return self._db.cursor()

    @property
    def version(self) -> str | None:
        row = self.cursor().execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        return row[0] if row else None

    @property
    def fresh(self) -> bool:
        return self.version == self.store.version

    @property
    def building(self) -> bool:
        return self._building is not None and self._building.is_alive()

    # --- keeping up -----------------------------------------------------------------------------
    def ensure_current(self, *, wait: bool = False) -> None:
        """Rebuild in the background if the store changed without telling the index."""
        if self.fresh:
            return
        if not self.building:
            self._building = threading.Thread(target=self.rebuild, name="sekg-portal-index", daemon=True)
            self._building.start()
        if wait:
            self._building.join()

    def graphs_changed(self, graphs: set[str | None]) -> None:
        """Update the enterprises of changed graphs (or rebuild when a vocabulary changed)."""
        if self.building or self.version is None:
            # a patch now would land on a half-built index and mark it current; the running
            # rebuild instead builds again once it sees the store moved on
            self.ensure_current()
            return
        if any(g is None or "/graph/vocab/" in g or g.endswith("/graph/ontology") for g in graphs):
            self.ensure_current()
            return
        cursor = self.cursor()
        names = sorted(g for g in graphs if g)
        affected = set()
        if names:
            affected = {row[0] for row in cursor.execute(
                "SELECT DISTINCT e.iri FROM source s JOIN enterprise e USING (id) WHERE s.graph IN "
                f"({','.join('?' * len(names))})", names).fetchall()}
            for row in self.store.select(self.queries["portal_enterprises_in_graphs"].text,
                                         {"g": [URIRef(g) for g in names]}):
                affected.add(str(row["e"]))
        if len(affected) > REBUILD_THRESHOLD:
            self.ensure_current()
            return
        try:
            self.update(affected, version=self.store.version)
        except Exception:  # noqa: BLE001 - a failed patch falls back to a full rebuild
            log.exception("updating the portal index failed; rebuilding it")
            self.ensure_current()

    # --- building -------------------------------------------------------------------------------
    def _concepts(self) -> dict[str, Concept]:
        concepts: dict[str, Concept] = {}
        for row in self.store.select(self.queries["portal_concepts"].text, union=True):
            iri = str(row["concept"])
            concept = concepts.setdefault(iri, Concept(iri, SCHEMES[str(row["scheme"])]))
            label = row.get("label")
            if label is not None:
                concept.labels.setdefault(label.language or "", str(label))
            if "parent" in row:
                concept.parent = str(row["parent"])
            if "notation" in row:
                concept.notation = str(row["notation"])
        for row in self.store.select(self.queries["portal_projects"].text, union=True):
            concept = concepts.setdefault(str(row["project"]), Concept(str(row["project"]), "project"))
            if "label" in row:
                concept.labels.setdefault(row["label"].language or "", str(row["label"]))
        return concepts

    def _places(self) -> dict[str, dict]:
        places = {}
        for row in self.store.select(self.queries["portal_places"].text, union=True):
            place = places.setdefault(str(row["place"]), {"label": None, "nuts": None, "country": None,
                                                          "lat": None, "lon": None})
            for key in ("label", "nuts", "country"):
                if key in row and place[key] is None:
                    place[key] = str(row[key])
            if "lat" in row and "lon" in row:
                place["lat"], place["lon"] = float(row["lat"]), float(row["lon"])
        return places

    def _facts(self, iris: set[str] | None) -> dict[str, dict]:
        """Read the facts of some enterprises (all when `iris` is None), a chunk of them per query."""
        if iris is None:
            iris = {row["e"] for row in self.store.select_values(self.queries["portal_enterprises"].text,
                                                                 timeout=3600)}
        facts: dict[str, dict] = defaultdict(lambda: defaultdict(list))
        ordered = sorted(iris)
        for start in range(0, len(ordered), CHUNK):
            chunk = [URIRef(i) for i in ordered[start:start + CHUNK]]
            # lexical values are all the index keeps, and far cheaper to read than rdflib terms
            for row in self.store.select_values(self.queries["portal_enterprise_facts"].text, {"e": chunk},
                                                timeout=3600):
                entry = facts[row["e"]]
                entry[row["field"]].append(row["value"])
                entry["graphs"].append(row["g"])
        return facts

    def rebuild(self) -> None:
        """Rebuild the whole index from the store, again while writes happened during the build."""
        version = None
        while version != self.store.version:
            version = self.store.version
            if not self._build(version):
                return

    def _build(self, version: str) -> bool:
        """Build the whole index as of one store version; return whether it worked."""
        try:
            concepts = self._concepts()
            places = self._places()
            facts = self._facts(None)
            with self._write:
                cursor = self.cursor()
                cursor.execute("BEGIN TRANSACTION")
                for table in ("enterprise", "facet", "source", "concept", "place"):
                    cursor.execute(f"DELETE FROM {table}")
                self._write_concepts(cursor, concepts)
                self._write_places(cursor, places)
                self._write_enterprises(cursor, facts, concepts, places, start=1)
                cursor.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", [version])
                cursor.execute("COMMIT")
        except Exception:  # noqa: BLE001 - logged; the previous index keeps answering
            log.exception("building the portal index failed")
            return False
        return True

    def update(self, iris: set[str], *, version: str) -> None:
        """Replace the rows of some enterprises with what the store says now."""
        facts = self._facts(iris)
        with self._write:
            cursor = self.cursor()
            concepts = self._cached_concepts(cursor)
            places = self._cached_places(cursor)
            cursor.execute("BEGIN TRANSACTION")
            if iris:
                marks = ",".join("?" * len(iris))
                ids = [r[0] for r in cursor.execute(f"SELECT id FROM enterprise WHERE iri IN ({marks})",
                                                   sorted(iris)).fetchall()]
                if ids:
                    id_marks = ",".join("?" * len(ids))
                    for table in ("facet", "source", "enterprise"):
                        cursor.execute(f"DELETE FROM {table} WHERE id IN ({id_marks})", ids)
            start = (cursor.execute("SELECT COALESCE(MAX(id), 0) FROM enterprise").fetchone()[0] or 0) + 1
            self._write_enterprises(cursor, facts, concepts, places, start=start)
            cursor.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", [version])
            cursor.execute("COMMIT")

    def _cached_concepts(self, cursor) -> dict[str, Concept]:
        concepts = {}
        for iri, kind, parent, notation, label_en, label_it in cursor.execute(
                "SELECT iri, kind, parent, notation, label_en, label_it FROM concept").fetchall():
            concepts[iri] = Concept(iri, kind, {"en": label_en, "it": label_it}, parent, notation)
        return concepts

    def _cached_places(self, cursor) -> dict[str, dict]:
        return {iri: {"label": label, "nuts": nuts, "country": country, "lat": lat, "lon": lon}
                for iri, label, nuts, country, lat, lon in cursor.execute("SELECT * FROM place").fetchall()}

    def _write_concepts(self, cursor, concepts: dict[str, Concept]) -> None:
        rows = []
        for concept in concepts.values():
            en = concept.labels.get("en") or concept.labels.get("") or concept.labels.get("it")
            it = concept.labels.get("it") or concept.labels.get("") or en
            key = fold(" ".join(filter(None, [en, it, concept.notation])))
            rows.append((concept.iri, concept.kind, concept.parent, concept.notation, en, it, key))
        if rows:
            cursor.executemany("INSERT INTO concept VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def _write_places(self, cursor, places: dict[str, dict]) -> None:
        rows = [(iri, p["label"], p["nuts"], p["country"], p["lat"], p["lon"]) for iri, p in places.items()]
        if rows:
            cursor.executemany("INSERT INTO place VALUES (?, ?, ?, ?, ?, ?)", rows)

    @staticmethod
    def _ancestors(iri: str, concepts: dict[str, Concept]) -> list[str]:
        chain, seen = [], set()
        while iri and iri not in seen:
            seen.add(iri)
            chain.append(iri)
            concept = concepts.get(iri)
            iri = concept.parent if concept else None
        return chain

    def _write_enterprises(self, cursor, facts, concepts, places, *, start: int) -> None:
        enterprises, facets, sources = [], [], []
        for offset, (iri, entry) in enumerate(sorted(facts.items())):
            number = start + offset
            names = [str(v) for v in entry.get("name", [])]
            name = names[0] if names else iri.rsplit("/", 1)[-1]
            descriptions = {lang: " ".join(str(v) for v in entry.get(f"description_{lang}", []))
                            for lang in ("it", "en")}
            municipalities = [str(v) for v in entry.get("municipality", [])]
            municipality = municipalities[0] if municipalities else None
            place = places.get(municipality or "", {})
            words = names + list(descriptions.values()) + [place.get("label") or ""]
            values: set[tuple[str, str, bool]] = set()
            for code in entry.get("cpv", []):
                concept = concepts.get(str(code))
                if concept:
                    words += [concept.labels.get("en") or "", concept.labels.get("it") or "", concept.notation or ""]
                for i, ancestor in enumerate(self._ancestors(str(code), concepts)):
                    values.add(("cpv", ancestor, i == 0))
            for kind in entry.get("type", []):
                values.add(("type", str(kind), True))
                if str(kind) in BROAD_TYPES:
                    values.add(("type", BROAD_TYPES[str(kind)], False))
            for mission in entry.get("mission", []):
                values.add(("mission", str(mission), True))
            for project in entry.get("project", []):
                values.add(("project", str(project), True))
            countries = {str(v) for v in entry.get("country", [])}
            if place.get("country"):
                countries.add(place["country"])
            for country in countries:
                values.add(("place", country, False))
            if place.get("nuts"):
                for ancestor in self._ancestors(place["nuts"], concepts):
                    values.add(("place", ancestor, False))
            if municipality:
                values.add(("place", municipality, True))
            homepage = next((str(v) for v in entry.get("homepage", [])), None)
            enterprises.append((number, iri, name, fold(name), descriptions["it"] or None, descriptions["en"] or None,
                                fold(" ".join(words)), homepage, municipality, place.get("lat"), place.get("lon")))
            facets += [(number, f, v, d) for f, v, d in values]
            sources += [(number, g) for g in set(entry.get("graphs", []))]
        bulk_insert(cursor, "enterprise", enterprises)
        bulk_insert(cursor, "facet", facets)
        bulk_insert(cursor, "source", sources)


def bulk_insert(cursor, table: str, rows: list[tuple]) -> None:
    """Insert rows; large batches go through a CSV file, which DuckDB reads far faster than row inserts."""
    if not rows:
        return
    width = len(rows[0])
    if len(rows) < 1000:
        cursor.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * width)})", rows)
        return
    with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", encoding="utf-8", delete=True) as handle:
        writer = csv.writer(handle)
        writer.writerows(("" if v is None else v for v in row) for row in rows)
        handle.flush()
        cursor.execute(f"INSERT INTO {table} SELECT * FROM read_csv(?, header = false, all_varchar = false, "
                       f"auto_detect = false, columns = {_columns(cursor, table)}, nullstr = '')", [handle.name])


def _columns(cursor, table: str) -> str:
    described = cursor.execute(f"DESCRIBE {table}").fetchall()
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind, *_ in described) + "}"

