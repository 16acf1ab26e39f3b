"""Answer the directory's questions from the portal index: filtered lists, facet counts, exports, the
SPARQL query equivalent to a selection, and tender matching by CPV code and place."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from rdflib import Literal, URIRef

from .portal_index import FACETS, fold

ID = "https://w3id.org/sekg/id/"
CPV = "http://data.europa.eu/cpv/cpv/"
NUTS = "http://data.europa.eu/nuts/code/"
COUNTRY = "http://publications.europa.eu/resource/authority/country/"
SORTS = ("name", "-name", "place")
PAGE_SIZES = (20, 50, 100)
EXPORT_LIMIT = 100_000


def facet_iri(facet: str, key: str) -> str | None:
    """Turn a short key of the query string into the IRI it stands for, or None if malformed."""
    key = key.strip()
    if facet == "cpv":
        match = re.fullmatch(r"(\d{8})(-\d)?", key)
        return CPV + match.group(1) if match else None
    if facet == "place":
        if re.fullmatch(r"[A-Z]{3}", key):
            return COUNTRY + key
        if re.fullmatch(r"[A-Z]{2}[A-Z0-9]{1,3}", key):
            return NUTS + key
        if re.fullmatch(r"[a-z0-9-]+(/[a-z0-9-]+)+", key):
            return ID + "place/" + key
        return None
    if not re.fullmatch(r"[a-z0-9-]+", key):
        return None
    prefix = {"type": None, "mission": ID + "social-mission/", "project": ID + "project/"}[facet]
    if facet == "type":
        return ID + ("legal-form/" if key.startswith(("it-", "be-")) else "qualification/") + key
    return prefix + key


def facet_key(facet: str, iri: str) -> str:
    """Turn an IRI back into its short key for URLs."""
    for prefix in (CPV, COUNTRY, NUTS, ID + "place/", ID + "social-mission/", ID + "project/",
                   ID + "qualification/", ID + "legal-form/"):
        if iri.startswith(prefix):
            return iri[len(prefix):]
    return iri


@dataclass(frozen=True)
class Selection:
    text: str = ""
    filters: dict = field(default_factory=dict)  # facet -> tuple of IRIs
    sort: str = "name"
    page: int = 1
    size: int = 20

    @classmethod
    def from_args(cls, args) -> tuple["Selection", list[str]]:
        """Read a selection from the query string; return it with the values it had to ignore."""
        ignored = []
        filters = {}
        for facet in FACETS:
            values = []
            for raw in args.getlist(facet):
                for key in (k for k in raw.split(",") if k.strip()):
                    iri = facet_iri(facet, key)
                    if iri is None:
                        ignored.append(f"{facet}={key}")
                    elif iri not in values:
                        values.append(iri)
            if values:
                filters[facet] = tuple(values)
        sort = args.get("sort", "name")
        if sort not in SORTS:
            ignored.append(f"sort={sort}")
            sort = "name"
        try:
            page = max(1, int(args.get("page", "1")))
        except ValueError:
            page = 1
        try:
            size = int(args.get("size", "20"))
        except ValueError:
            size = 20
        size = size if size in PAGE_SIZES else 20
        text = (args.get("q") or "").strip()[:200]
        return cls(text, filters, sort, page, size), ignored

    def args(self, **changes) -> dict:
        """Return the query-string parameters of this selection (with changes), for links."""
        selection = replace(self, **changes) if changes else self
        params: dict[str, list[str]] = {}
        if selection.text:
            params["q"] = [selection.text]
        for facet in FACETS:
            for iri in selection.filters.get(facet, ()):
                params.setdefault(facet, []).append(facet_key(facet, iri))
        if selection.sort != "name":
            params["sort"] = [selection.sort]
        if selection.page != 1:
            params["page"] = [str(selection.page)]
        if selection.size != 20:
            params["size"] = [str(selection.size)]
        return params

    def query_string(self, **changes) -> str:
        return urlencode(self.args(**changes), doseq=True)

    def toggled(self, facet: str, iri: str) -> "Selection":
        values = list(self.filters.get(facet, ()))
        values.remove(iri) if iri in values else values.append(iri)
        filters = {k: v for k, v in self.filters.items() if k != facet}
        if values:
            filters[facet] = tuple(values)
        return replace(self, filters=filters, page=1)

    def without(self, facet: str) -> "Selection":
        return replace(self, filters={k: v for k, v in self.filters.items() if k != facet})


@dataclass
class FacetValue:
    iri: str
    key: str
    label: str
    count: int
    selected: bool


@dataclass
class Page:
    selection: Selection
    total: int
    rows: list[dict]
    facets: dict[str, list[FacetValue]]
    selected: dict[str, list[FacetValue]]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.selection.size))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def where(selection: Selection, *, skip: str | None = None) -> tuple[str, list]:
    """Build the SQL condition and parameters selecting the enterprises of a selection."""
    clauses, params = [], []
    for term in fold(selection.text).split():
        clauses.append("e.text_key LIKE ? ESCAPE '\\'")
        params.append(f"%{_escape_like(term)}%")
    for facet, values in selection.filters.items():
        if facet == skip or not values:
            continue
        clauses.append(f"e.id IN (SELECT id FROM facet WHERE facet = ? AND value IN ({', '.join('?' * len(values))}))")
        params += [facet, *values]
    return (" AND ".join(clauses) or "TRUE"), params


def _labels(cursor, iris, language: str) -> dict[str, str]:
    iris = sorted(set(iris))
    if not iris:
        return {}
    column = "label_it" if language == "it" else "label_en"
    found = dict(cursor.execute(f"SELECT iri, COALESCE({column}, label_en, label_it) FROM concept WHERE iri IN "
                                f"({', '.join('?' * len(iris))})", iris).fetchall())
    places = dict(cursor.execute(f"SELECT iri, label FROM place WHERE iri IN ({', '.join('?' * len(iris))})",
                                 iris).fetchall())
    return {iri: found.get(iri) or places.get(iri) or facet_key("", iri) for iri in iris}


def _display_condition(facet: str, selection: Selection) -> tuple[str, list]:
    """Which values of a hierarchical facet to list: the level under the deepest selected value."""
    chosen = selection.filters.get(facet, ())
    if facet == "cpv":
        if chosen:
            return "f.value IN (SELECT iri FROM concept WHERE parent = ?)", [chosen[-1]]
        return "f.value IN (SELECT iri FROM concept WHERE kind = 'cpv' AND parent IS NULL)", []
    if facet == "place":
        if not chosen:
            return "f.value LIKE ?", [COUNTRY + "%"]
        last = chosen[-1]
        if last.startswith(COUNTRY):
            return "f.value LIKE ? AND length(f.value) = ?", [NUTS + "%", len(NUTS) + 4]
        if last.startswith(NUTS) and len(last) - len(NUTS) == 4:
            return "f.value IN (SELECT iri FROM concept WHERE parent = ?)", [last]
        if last.startswith(NUTS):
            return "f.value IN (SELECT iri FROM place WHERE nuts = ?)", [last]
        return "FALSE", []
    return "TRUE", []


ORDER = {"name": "e.sort_key, e.iri", "-name": "e.sort_key DESC, e.iri", "place": "p.label NULLS LAST, e.sort_key"}


@dataclass
class Structure:
    """The hierarchy the facets are shown by: CPV and NUTS parents, places' NUTS 3 regions."""

    version: str | None
    parent: dict = field(default_factory=dict)
    place_nuts: dict = field(default_factory=dict)


def _structure(index, cursor) -> Structure:
    version = index.version
    cached = getattr(index, "_display_structure", None)
    if cached is not None and cached.version == version:
        return cached
    structure = Structure(version, dict(cursor.execute("SELECT iri, parent FROM concept").fetchall()),
                          dict(cursor.execute("SELECT iri, nuts FROM place").fetchall()))
    index._display_structure = structure
    return structure


def _display_filter(index, cursor, facet: str, selection: Selection):
    """Tell which values of a facet to list (the Python twin of _display_condition, for one-pass counts)."""
    chosen = selection.filters.get(facet, ())
    if facet not in ("cpv", "place"):
        return lambda value: True
    structure = _structure(index, cursor)
    parent = structure.parent
    if facet == "cpv":
        wanted = chosen[-1] if chosen else None
        return lambda value: value.startswith(CPV) and value in parent and parent[value] == wanted
    if not chosen:
        return lambda value: value.startswith(COUNTRY)
    last = chosen[-1]
    if last.startswith(COUNTRY):
        return lambda value: value.startswith(NUTS) and len(value) == len(NUTS) + 4
    if last.startswith(NUTS) and len(last) - len(NUTS) == 4:
        return lambda value: parent.get(value) == last
    if last.startswith(NUTS):
        return lambda value: structure.place_nuts.get(value) == last
    return lambda value: False


def search(index, selection: Selection, language: str, *, facet_limit: int = 30) -> Page:
    """Return one page of enterprises and the facet counts for the current selection.

    The selection is evaluated once into a temporary table; the facets the selection does not
    filter on are counted together in one pass over it, and each facet it does filter on (whose
    own filter is left out, so its other values stay choosable) in a pass of its own.
    """
    cursor = index.cursor()
    condition, params = where(selection)
    cursor.execute(f"CREATE OR REPLACE TEMP TABLE selected AS SELECT e.id FROM enterprise e WHERE {condition}", params)
    try:
        total = cursor.execute("SELECT COUNT(*) FROM selected").fetchone()[0]
        offset = (selection.page - 1) * selection.size
        if selection.sort == "place":
            rows = cursor.execute(
                f"SELECT e.id, e.iri, e.name, e.description_it, e.description_en, e.homepage, p.label, e.lat, e.lon "
                f"FROM enterprise e LEFT JOIN place p ON p.iri = e.municipality WHERE e.id IN (SELECT id FROM selected) "
                f"ORDER BY {ORDER['place']} LIMIT ? OFFSET ?", [selection.size, offset]).fetchall()
        else:  # order and cut the narrow keys first, then read the few rows of the page
            scope = "" if condition == "TRUE" else "WHERE e.id IN (SELECT id FROM selected)"
            ids = [r[0] for r in cursor.execute(
                f"SELECT e.id FROM enterprise e {scope} ORDER BY {ORDER[selection.sort]} LIMIT ? OFFSET ?",
                [selection.size, offset]).fetchall()]
            found = {r[0]: r for r in cursor.execute(
                f"SELECT e.id, e.iri, e.name, e.description_it, e.description_en, e.homepage, p.label, e.lat, e.lon "
                f"FROM enterprise e LEFT JOIN place p ON p.iri = e.municipality WHERE e.id IN "
                f"({', '.join('?' * len(ids)) or 'NULL'})", ids).fetchall()}
            rows = [found[i] for i in ids]
        page_rows = _describe_rows(cursor, rows, language)
        counts: dict[str, list[tuple[str, int]]] = {facet: [] for facet in FACETS}
        free = [facet for facet in FACETS if facet not in selection.filters]
        if free:
            shown = {facet: _display_filter(index, cursor, facet, selection) for facet in free}
            scope = "" if condition == "TRUE" else "AND f.id IN (SELECT id FROM selected)"
            for facet, value, n in cursor.execute(
                    f"SELECT f.facet, f.value, COUNT(*) AS n FROM facet f WHERE f.facet IN ({', '.join('?' * len(free))}) "
                    f"{scope} GROUP BY f.facet, f.value", free).fetchall():
                if shown[facet](value):
                    counts[facet].append((value, n))
        for facet in selection.filters:
            own, params = where(selection, skip=facet)
            display, display_params = _display_condition(facet, selection)
            counts[facet] = cursor.execute(
                f"SELECT f.value, COUNT(*) AS n FROM facet f WHERE f.facet = ? AND {display} AND f.id IN "
                f"(SELECT e.id FROM enterprise e WHERE {own}) GROUP BY f.value",
                [facet, *display_params, *params]).fetchall()
    finally:
        cursor.execute("DROP TABLE IF EXISTS selected")
    for facet in FACETS:
        counts[facet] = sorted(counts[facet], key=lambda item: (-item[1], item[0]))[:facet_limit]
    labels = _labels(cursor, [v for rows_ in counts.values() for v, _ in rows_] +
                     [v for values in selection.filters.values() for v in values], language)
    facets: dict[str, list[FacetValue]] = {}
    for facet in FACETS:
        chosen = selection.filters.get(facet, ())
        facets[facet] = [FacetValue(v, facet_key(facet, v), labels.get(v, v), n, v in chosen) for v, n in counts[facet]]
    selected = {facet: [FacetValue(v, facet_key(facet, v), labels.get(v, v), 0, True) for v in values]
                for facet, values in selection.filters.items()}
    return Page(selection, total, page_rows, facets, selected)


def _describe_rows(cursor, rows, language: str) -> list[dict]:
    ids = [row[0] for row in rows]
    values: dict[int, dict[str, list[str]]] = {i: {} for i in ids}
    if ids:
        for id_, facet, value in cursor.execute(
                f"SELECT id, facet, value FROM facet WHERE direct AND id IN ({', '.join('?' * len(ids))}) "
                f"AND facet IN ('type', 'mission', 'cpv', 'project')", ids).fetchall():
            values[id_].setdefault(facet, []).append(value)
    labels = _labels(cursor, [v for per in values.values() for vs in per.values() for v in vs], language)
    out = []
    for id_, iri, name, description_it, description_en, homepage, place, lat, lon in rows:
        per = values.get(id_, {})
        description = (description_it if language == "it" else description_en) or description_en or description_it
        out.append({
            "iri": iri, "name": name, "description": description, "homepage": homepage, "place": place,
            "lat": lat, "lon": lon,
            "types": sorted(labels[v] for v in per.get("type", [])),
            "missions": sorted(labels[v] for v in per.get("mission", [])),
            "services": sorted((facet_key("cpv", v), labels[v]) for v in per.get("cpv", [])),
            "projects": sorted(labels[v] for v in per.get("project", [])),
        })
    return out


def export_rows(index, selection: Selection, language: str) -> list[dict]:
    """Return every enterprise of the selection (not only one page), for CSV and JSON exports."""
    everything = replace(selection, page=1, size=EXPORT_LIMIT)
    cursor = index.cursor()
    condition, params = where(everything)
    rows = cursor.execute(
        f"SELECT e.id, e.iri, e.name, e.description_it, e.description_en, e.homepage, p.label, e.lat, e.lon "
        f"FROM enterprise e LEFT JOIN place p ON p.iri = e.municipality WHERE {condition} "
        f"ORDER BY {ORDER[selection.sort]} LIMIT ?", params + [EXPORT_LIMIT]).fetchall()
    return _describe_rows(cursor, rows, language)


def markers(index, selection: Selection, limit: int = 5000) -> list[dict]:
    cursor = index.cursor()
    condition, params = where(selection)
    return [{"iri": iri, "name": name, "lat": lat, "lon": lon} for iri, name, lat, lon in cursor.execute(
        f"SELECT e.iri, e.name, e.lat, e.lon FROM enterprise e WHERE {condition} AND e.lat IS NOT NULL "
        f"ORDER BY e.sort_key LIMIT ?", params + [limit]).fetchall()]


def suggest_concepts(index, kind: str, text: str, language: str, limit: int = 15) -> list[dict]:
    """Find concepts (CPV codes, places) by code or label, for the autocomplete."""
    cursor = index.cursor()
    words = fold(text).split()
    if not words:
        return []
    column = "label_it" if language == "it" else "label_en"
    clauses = " AND ".join("search_key LIKE ? ESCAPE '\\'" for _ in words)
    rows = cursor.execute(
        f"SELECT iri, COALESCE({column}, label_en, label_it), notation FROM concept WHERE kind = ? AND {clauses} "
        f"ORDER BY (CASE WHEN search_key LIKE ? ESCAPE '\\' THEN 0 ELSE 1 END), length(search_key), notation LIMIT ?",
        [kind, *[f"%{_escape_like(w)}%" for w in words], f"{_escape_like(words[0])}%", limit]).fetchall()
    return [{"iri": iri, "key": facet_key(kind, iri), "label": label, "code": notation} for iri, label, notation in rows]


SPARQL_PREFIXES = """PREFIX sekg: <https://w3id.org/sekg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX legal: <http://www.w3.org/ns/legal#>
PREFIX cv: <http://data.europa.eu/m8g/>
"""


def sparql_for(selection: Selection) -> str:
    """Write the SPARQL query that selects the same enterprises as a directory selection."""
    lines = [SPARQL_PREFIXES + "SELECT DISTINCT ?enterprise ?name WHERE {",
             "  ?enterprise a sekg:SocialEconomyEnterprise ; skos:prefLabel ?name ."]
    values = lambda name, iris: f"  VALUES ?{name} {{ {' '.join(URIRef(i).n3() for i in iris)} }}"  # noqa: E731
    filters = selection.filters
    if filters.get("cpv"):
        lines += ["  ?enterprise sekg:offers ?code . ?code skos:broader* ?service .", values("service", filters["cpv"])]
    if filters.get("type"):
        lines += ["  { ?enterprise sekg:hasQualification/sekg:qualificationType/skos:broader* ?type }",
                  "  UNION { ?enterprise legal:companyType ?type }", values("type", filters["type"])]
    if filters.get("mission"):
        lines += ["  ?enterprise sekg:prevailingSocialMission ?mission .", values("mission", filters["mission"])]
    if filters.get("place"):
        lines += ["  ?enterprise cv:registeredAddress/sekg:municipality ?municipality .",
                  "  { BIND(?municipality AS ?place) } UNION { ?municipality sekg:country ?place }",
                  "  UNION { ?municipality sekg:nutsRegion/skos:broader* ?place }", values("place", filters["place"])]
    if filters.get("project"):
        lines += ["  ?participation sekg:participant ?enterprise ; sekg:inProject ?project .",
                  values("project", filters["project"])]
    for term in fold(selection.text).split():
        lines.append(f"  FILTER(CONTAINS(LCASE(STR(?name)), {Literal(term).n3()}))")
    lines.append("}\nORDER BY ?name")
    return "\n".join(lines)
