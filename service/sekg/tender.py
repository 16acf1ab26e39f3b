"""Match a tender to the enterprises able to supply it: by CPV code (the same, a narrower or a broader
one) and by place, optionally only those with a required qualification (e.g. type B social cooperatives)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .portal_search import CPV, _describe_rows, _labels, facet_iri, facet_key

CODE = re.compile(r"(?<!\d)(\d{8})(?:-\d)?(?!\d)")
MAX_RESULTS = 100
# How close an enterprise's place is to the tender's, by the deepest level they share.
PLACE_SCORES = {"municipality": 1.0, "nuts3": 0.8, "nuts2": 0.6, "nuts1": 0.5, "country": 0.4}


def codes_in(text: str) -> list[str]:
    """Extract CPV codes from typed or pasted text (a TED notice, a list of codes with check digits)."""
    return list(dict.fromkeys(CODE.findall(text or "")))


@dataclass
class Match:
    iri: str
    code_score: float
    place_score: float
    reasons: list[dict] = field(default_factory=list)  # {"tender": code, "code": code, "relation": ...}
    place_level: str | None = None

    @property
    def score(self) -> float:
        return round(0.6 * self.code_score + 0.4 * self.place_score, 3)


@dataclass
class TenderResult:
    codes: list[str]
    unknown: list[str]
    place: str | None
    place_label: str | None
    required: str | None
    matches: list[dict]


def _parents(cursor) -> dict[str, str | None]:
    return dict(cursor.execute("SELECT iri, parent FROM concept WHERE kind IN ('cpv', 'nuts')").fetchall())


def _chain(iri: str, parents: dict) -> list[str]:
    chain = []
    while iri and iri not in chain:
        chain.append(iri)
        iri = parents.get(iri)
    return chain


def _place_chain(cursor, place: str, parents: dict) -> dict[str, str]:
    """Return {level: IRI} for a place: municipality, NUTS 3/2/1 and country, as far as known."""
    levels: dict[str, str] = {}
    nuts = None
    if "/id/place/" in place:
        levels["municipality"] = place
        row = cursor.execute("SELECT nuts, country FROM place WHERE iri = ?", [place]).fetchone()
        if row:
            nuts, country = row
            if country:
                levels["country"] = country
    elif "/nuts/code/" in place:
        nuts = place
    elif "/authority/country/" in place:
        levels["country"] = place
    for code in _chain(nuts, parents) if nuts else []:
        length = len(code.rsplit("/", 1)[1])
        level = {5: "nuts3", 4: "nuts2", 3: "nuts1"}.get(length)
        if level:
            levels[level] = code
    return levels


def match_tender(index, text: str, place_key: str | None, required_key: str | None, language: str) -> TenderResult:
    """List the enterprises able to supply a tender, ranked by closeness of code and of place."""
    cursor = index.cursor()
    parents = _parents(cursor)
    wanted = codes_in(text)
    known = [c for c in wanted if CPV + c in parents]
    unknown = [c for c in wanted if CPV + c not in parents]
    place = facet_iri("place", place_key) if place_key else None
    required = facet_iri("type", required_key) if required_key else None
    if not known:
        return TenderResult(wanted, unknown, place, None, required, [])
    chains = {code: _chain(CPV + code, parents) for code in known}
    values = sorted({iri for chain in chains.values() for iri in chain})
    condition = ""
    params: list = ["cpv", *values]
    if required:
        condition = " AND id IN (SELECT id FROM facet WHERE facet = 'type' AND value = ?)"
        params.append(required)
    rows = cursor.execute(f"SELECT id, value, direct FROM facet WHERE facet = ? AND value IN "
                          f"({', '.join('?' * len(values))}){condition}", params).fetchall()
    matches: dict[int, Match] = {}
    for id_, value, direct in rows:
        for code, chain in chains.items():
            if value not in chain:
                continue
            steps = chain.index(value)
            if steps == 0:
                relation, score = ("same", 1.0) if direct else ("narrower", 0.8)
            elif direct:
                relation, score = "broader", max(0.2, 0.6 - 0.1 * (steps - 1))
            else:
                continue  # an ancestor the enterprise only has through a narrower code of another branch
            match = matches.setdefault(id_, Match("", 0.0, 0.0))
            match.code_score = max(match.code_score, score)
            match.reasons.append({"tender": code, "code": facet_key("cpv", value), "relation": relation})
    if not matches:
        return TenderResult(wanted, unknown, place, None, required, [])
    target = _place_chain(cursor, place, parents) if place else {}
    ids = sorted(matches)
    marks = ", ".join("?" * len(ids))
    if target:
        enterprise_places: dict[int, set] = {}
        for id_, value in cursor.execute(f"SELECT id, value FROM facet WHERE facet = 'place' AND id IN ({marks})",
                                         ids).fetchall():
            enterprise_places.setdefault(id_, set()).add(value)
        for id_, match in matches.items():
            for level, iri in sorted(target.items(), key=lambda item: -PLACE_SCORES[item[0]]):
                if iri in enterprise_places.get(id_, set()):
                    match.place_score, match.place_level = PLACE_SCORES[level], level
                    break
            else:
                match.place_score = 0.1
    else:
        for match in matches.values():
            match.place_score = 1.0
    rows = cursor.execute(
        f"SELECT e.id, e.iri, e.name, e.description_it, e.description_en, e.homepage, p.label, e.lat, e.lon "
        f"FROM enterprise e LEFT JOIN place p ON p.iri = e.municipality WHERE e.id IN ({marks})", ids).fetchall()
    described = {row["iri"]: row for row in _describe_rows(cursor, rows, language)}
    iri_of = {row[0]: row[1] for row in rows}
    ranked = sorted(matches.items(), key=lambda item: (-item[1].score, described[iri_of[item[0]]]["name"]))
    labels = _labels(cursor, [CPV + r["code"] for _, m in ranked[:MAX_RESULTS] for r in m.reasons]
                     + ([place] if place else []), language)
    out = []
    for id_, match in ranked[:MAX_RESULTS]:
        row = dict(described[iri_of[id_]])
        row.update(score=match.score, code_score=match.code_score, place_score=match.place_score,
                   place_level=match.place_level,
                   reasons=[{**r, "label": labels.get(CPV + r["code"], r["code"])} for r in match.reasons])
        out.append(row)
    return TenderResult(wanted, unknown, place, labels.get(place) if place else None, required, out)
