"""Match names (with VAT number, fiscal code, website or municipality) to the graph's organisations.

The logic of the W3C Reconciliation Service API (0.2) endpoint: an index of every organisation,
rebuilt when the store's data changes, candidates found by shared name words or identifiers, and
a score from 0 to 100 that says how well each candidate fits, with the features it was made from.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from .importing.matching import key, vat_number

ORG = "http://www.w3.org/ns/org#Organization"
ENTERPRISE = "https://w3id.org/sekg/ontology#SocialEconomyEnterprise"
TYPES = {
    ENTERPRISE: {"en": "Social-economy enterprise", "it": "Impresa dell'economia sociale"},
    ORG: {"en": "Organisation", "it": "Organizzazione"},
}
PROPERTIES = {
    "vat": {"en": "VAT number", "it": "Partita IVA"},
    "fiscal_code": {"en": "Fiscal code", "it": "Codice fiscale"},
    "municipality": {"en": "Municipality of the registered address", "it": "Comune della sede legale"},
    "website": {"en": "Website", "it": "Sito web"},
}
# Words that say what kind of organisation it is rather than which one: they find candidates but
# weigh little in the name comparison.
GENERIC_WORDS = {
    "cooperativa", "sociale", "societa", "soc", "coop", "onlus", "ets", "srl", "s", "r", "l", "spa", "impresa",
    "consorzio", "associazione", "fondazione", "di", "del", "della", "e", "the", "of", "and", "sb", "scs", "aps",
}


@dataclass
class Organisation:
    iri: str
    names: list[str] = field(default_factory=list)
    types: set[str] = field(default_factory=set)
    vat: set[str] = field(default_factory=set)
    fiscal_code: set[str] = field(default_factory=set)
    website: set[str] = field(default_factory=set)
    municipality: set[str] = field(default_factory=set)
    description: str = ""

    @property
    def name(self) -> str:
        return self.names[0] if self.names else self.iri


@dataclass
class Candidate:
    organisation: Organisation
    score: float
    match: bool
    features: list[dict]


def site_key(url: str) -> str:
    """Compare websites by host and path, without scheme, 'www.' or trailing slash."""
    value = re.sub(r"^https?://(www\.)?", "", url.strip().lower())
    return value.rstrip("/")


def words(text: str) -> set[str]:
    return set(key(text).split())


class OrganisationIndex:
    """The organisations of the graph, kept for the store version they were read at."""

    def __init__(self, store, queries):
        self.store = store
        self.queries = queries
        self._lock = threading.Lock()
        self._version: str | None = None
        self.organisations: dict[str, Organisation] = {}
        self.by_word: dict[str, set[str]] = defaultdict(set)
        self.by_vat: dict[str, set[str]] = defaultdict(set)
        self.by_fiscal_code: dict[str, set[str]] = defaultdict(set)
        self.by_site: dict[str, set[str]] = defaultdict(set)

    def current(self) -> "OrganisationIndex":
        with self._lock:
            version = self.store.version
            if version != self._version:
                self._build()
                self._version = version
        return self

    def _build(self) -> None:
        organisations: dict[str, Organisation] = {}
        for row in self.store.select_values(self.queries["reconcile_organisations"].text, union=True):
            entry = organisations.setdefault(str(row["org"]), Organisation(str(row["org"])))
            field_, value = str(row["field"]), str(row["value"])
            if field_ == "name":
                if value not in entry.names:
                    entry.names.append(value)
            elif field_ == "type":
                entry.types.add(value)
            elif field_ == "vat":
                entry.vat.add(value.upper())
            elif field_ == "fiscal_code":
                entry.fiscal_code.add(value.upper())
            elif field_ == "website":
                entry.website.add(site_key(value))
            elif field_ == "municipality":
                entry.municipality.add(key(value))
            elif field_ == "description":
                entry.description = value
        by_word, by_vat, by_cf, by_site = defaultdict(set), defaultdict(set), defaultdict(set), defaultdict(set)
        for iri, entry in organisations.items():
            entry.names.sort(key=len)
            for name in entry.names:
                for word in words(name):
                    by_word[word].add(iri)
            for vat in entry.vat:
                by_vat[vat].add(iri)
            for code in entry.fiscal_code:
                by_cf[code].add(iri)
            for site in entry.website:
                by_site[site].add(iri)
        self.organisations, self.by_word, self.by_vat = organisations, by_word, by_vat
        self.by_fiscal_code, self.by_site = by_cf, by_site

    # --- reconciliation -----------------------------------------------------------------------
    def reconcile(self, query: dict) -> list[Candidate]:
        """Answer one reconciliation query: candidates sorted by decreasing score."""
        text = str(query.get("query") or "")
        wanted_types = query.get("type")
        if isinstance(wanted_types, str):
            wanted_types = [wanted_types]
        properties = self._properties(query.get("properties") or [])
        found: set[str] = set()
        for word in words(text):
            found |= self.by_word.get(word, set())
        for vat in properties.get("vat", []):
            found |= self.by_vat.get(vat, set())
        for code in properties.get("fiscal_code", []):
            found |= self.by_fiscal_code.get(code, set())
        for site in properties.get("website", []):
            found |= self.by_site.get(site, set())
        candidates = []
        for iri in found:
            entry = self.organisations[iri]
            if wanted_types and not entry.types & set(wanted_types):
                continue
            candidates.append(self._score(entry, text, properties))
        candidates.sort(key=lambda c: (-c.score, c.organisation.name))
        limit = query.get("limit")
        limit = int(limit) if isinstance(limit, (int, float)) and limit > 0 else 5
        candidates = candidates[:limit]
        if len(candidates) > 1 and candidates[0].match and candidates[1].score >= candidates[0].score:
            for candidate in candidates:  # two equally good candidates: let the user choose
                candidate.match = False
        return candidates

    @staticmethod
    def _properties(items: list) -> dict[str, list[str]]:
        """Normalise property constraints: VAT numbers and fiscal codes checked, websites and places keyed."""
        values: dict[str, list[str]] = defaultdict(list)
        for item in items:
            pid = str(item.get("pid", ""))
            given = item.get("v")
            for value in given if isinstance(given, list) else [given]:
                text = str(value.get("id") or value.get("name") or "") if isinstance(value, dict) else str(value)
                if not text.strip():
                    continue
                if pid == "vat":
                    outcome = vat_number(text)
                    values["vat"].append(outcome.values[0] if outcome.ok else text.strip().upper())
                elif pid == "fiscal_code":
                    values["fiscal_code"].append(re.sub(r"\s", "", text).upper())
                elif pid == "website":
                    values["website"].append(site_key(text))
                elif pid == "municipality":
                    values["municipality"].append(key(text))
        return values

    @staticmethod
    def _name_similarity(text: str, entry: Organisation) -> float:
        """Compare names as folded word sequences; words that only say the kind of organisation weigh less."""
        if not text.strip():
            return 0.0
        wanted = key(text)
        best = 0.0
        for name in entry.names:
            candidate = key(name)
            ratio = SequenceMatcher(None, wanted, candidate).ratio()
            specific_wanted = words(text) - GENERIC_WORDS
            specific_name = words(name) - GENERIC_WORDS
            if specific_wanted and specific_name:
                overlap = len(specific_wanted & specific_name) / len(specific_wanted | specific_name)
                ratio = 0.5 * ratio + 0.5 * overlap
            best = max(best, ratio)
        return best

    def _score(self, entry: Organisation, text: str, properties: dict[str, list[str]]) -> Candidate:
        name = self._name_similarity(text, entry)
        features = [{"id": "name_similarity", "value": round(name, 3)}]
        score = 100 * name
        identified = False
        for pid, known in (("vat", entry.vat), ("fiscal_code", entry.fiscal_code), ("website", entry.website)):
            if pid in properties:
                same = bool(known & set(properties[pid]))
                features.append({"id": f"{pid}_match", "value": same})
                identified |= same and pid != "website"
                if same:
                    score = max(score, 90) + 10 if pid != "website" else score + 15
                elif known:
                    score -= 30  # a different identifier says it is another organisation
        if "municipality" in properties:
            same = bool(entry.municipality & set(properties["municipality"]))
            features.append({"id": "municipality_match", "value": same})
            score += 10 if same else (-10 if entry.municipality else 0)
        score = max(0.0, min(100.0, score))
        match = identified or (name >= 0.95 and score >= 95)
        return Candidate(entry, round(score, 1), match, features)

    # --- suggest --------------------------------------------------------------------------------
    def suggest(self, prefix: str, limit: int = 10) -> list[Organisation]:
        """Return organisations one of whose name words starts with each word of the prefix."""
        wanted = key(prefix).split()
        if not wanted:
            return []
        found = None
        for part in wanted:
            matching = set()
            for word, iris in self.by_word.items():
                if word.startswith(part):
                    matching |= iris
            found = matching if found is None else found & matching
        ranked = sorted((self.organisations[i] for i in found or ()), key=lambda o: (len(o.name), o.name))
        return ranked[:limit]
