"""Match spreadsheet values to the graph's vocabularies: CPV codes or labels, places, legal forms,
qualifications, missions, countries; check VAT numbers. Ambiguous or unknown values are reported,
never guessed."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from ..portal_index import fold

CPV = "http://data.europa.eu/cpv/cpv/"
NUTS = "http://data.europa.eu/nuts/code/"
COUNTRY = "http://publications.europa.eu/resource/authority/country/"
ID = "https://w3id.org/sekg/id/"
SCHEMES = {
    "http://data.europa.eu/cpv/cpv": "cpv", "http://data.europa.eu/nuts/scheme/2024": "nuts",
    "http://publications.europa.eu/resource/authority/country": "country",
    "https://w3id.org/sekg/id/scheme/social-mission": "mission",
    "https://w3id.org/sekg/id/scheme/qualification": "qualification",
    "https://w3id.org/sekg/id/scheme/legal-form": "legal-form",
}
# Common ways legal forms are written in Italian registers and spreadsheets.
LEGAL_FORM_ABBREVIATIONS = {
    "srl": "it-srl", "s r l": "it-srl", "societa a responsabilita limitata": "it-srl",
    "coop": "it-societa-cooperativa", "soc coop": "it-societa-cooperativa", "scrl": "it-societa-cooperativa",
    "s c r l": "it-societa-cooperativa", "cooperativa": "it-societa-cooperativa",
    "asbl": "be-asbl", "odv": "it-organizzazione-di-volontariato", "stp": "it-societa-tra-professionisti",
    "sta": "it-societa-tra-avvocati",
}
QUALIFICATION_ABBREVIATIONS = {
    "sb": "societa-benefit", "coop sociale a": "cooperativa-sociale-a", "coop sociale b": "cooperativa-sociale-b",
    "cooperativa sociale tipo a": "cooperativa-sociale-a", "cooperativa sociale tipo b": "cooperativa-sociale-b",
    "type a social cooperative": "cooperativa-sociale-a", "type b social cooperative": "cooperativa-sociale-b",
    "is": "impresa-sociale", "ets": "ente-terzo-settore", "siavs": "startup-innovativa-vocazione-sociale",
}


def key(text: str) -> str:
    """Normalise a value for matching: accents, case, punctuation and spacing ignored."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", fold(text)).split())


@dataclass
class Outcome:
    """A match: the IRIs found, or the problem (in English and Italian)."""

    values: list[str] = field(default_factory=list)
    en: str | None = None
    it: str | None = None

    @property
    def ok(self) -> bool:
        return self.en is None


def unknown(kind_en: str, kind_it: str, value: str) -> Outcome:
    return Outcome(en=f"unknown {kind_en}: {value!r}", it=f"{kind_it} sconosciuto: {value!r}")


def ambiguous(kind_en: str, kind_it: str, value: str, candidates) -> Outcome:
    shown = ", ".join(sorted(c.rsplit("/", 1)[1] for c in candidates)[:5])
    return Outcome(en=f"ambiguous {kind_en} {value!r}: it could be {shown}; give the code",
                   it=f"{kind_it} ambiguo {value!r}: potrebbe essere {shown}; indicare il codice")


@dataclass
class Concepts:
    """Label indexes of the concept schemes (CPV, NUTS, countries, legal forms, ...): costly to read, rarely changed."""

    labels: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))
    known: dict = field(default_factory=lambda: defaultdict(set))
    parent: dict = field(default_factory=dict)
    alpha2: dict = field(default_factory=dict)  # country IRI -> ISO 3166 alpha-2 code

    @classmethod
    def read(cls, store, queries) -> "Concepts":
        concepts = cls()
        for row in store.select_values(queries["import_vocabularies"].text, union=True):
            kind = SCHEMES[row["scheme"]]
            concept = row["concept"]
            concepts.known[kind].add(concept)
            for name in ("label", "notation", "identifier"):
                if name in row:
                    concepts.labels[kind][key(row[name])].add(concept)
            if "identifier" in row and kind == "country":
                concepts.alpha2[concept] = row["identifier"].upper()
            if "parent" in row:
                concepts.parent[concept] = row["parent"]
        return concepts


class ConceptCache:
    """Keep the concept indexes between imports; forget them when a vocabulary graph is written."""

    def __init__(self, store, queries):
        self.store, self.queries = store, queries
        self._concepts: Concepts | None = None
        self._lock = threading.Lock()

    def get(self) -> Concepts:
        with self._lock:
            if self._concepts is None:
                self._concepts = Concepts.read(self.store, self.queries)
            return self._concepts

    def graphs_changed(self, graphs) -> None:
        """Listen to committed writes: a changed vocabulary graph (or the default graph) invalidates."""
        if any(g is None or "/graph/vocab/" in g for g in graphs):
            with self._lock:
                self._concepts = None


class Vocabularies:
    """What an import matches values to: the concept schemes, and the municipalities the graph knows."""

    def __init__(self, store, queries, concepts: Concepts | None = None):
        concepts = concepts or Concepts.read(store, queries)
        self.labels, self.known = concepts.labels, concepts.known
        self.parent, self.alpha2 = concepts.parent, concepts.alpha2
        self.places: dict[str, set[tuple[str, str | None, str | None]]] = defaultdict(set)
        for row in store.select_values(queries["import_places"].text, union=True):
            self.places[key(row["label"])].add((row["place"], row.get("nuts"), row.get("country")))

    def lookup(self, kind: str, value: str) -> set[str]:
        return set(self.labels[kind].get(key(value), set()))

    # --- one function per kind of cell ----------------------------------------------------------
    def cpv(self, cell: str) -> Outcome:
        """Codes (with or without check digit) or Italian/English labels, several separated by ';'."""
        found, problems = [], []
        for part in (p.strip() for p in re.split(r"[;|\n]", cell) if p.strip()):
            match = re.fullmatch(r"(\d{8})(-\d)?", part)
            if match:
                iri = CPV + match.group(1)
                if iri in self.known["cpv"]:
                    found.append(iri)
                else:
                    problems.append(unknown("CPV code", "codice CPV", part))
                continue
            candidates = self.lookup("cpv", part)
            if len(candidates) == 1:
                found.append(candidates.pop())
            elif candidates:
                problems.append(ambiguous("CPV label", "etichetta CPV", part, candidates))
            else:
                problems.append(unknown("CPV code or label", "codice o etichetta CPV", part))
        if problems:
            return Outcome(found, " ; ".join(p.en for p in problems), " ; ".join(p.it for p in problems))
        return Outcome(list(dict.fromkeys(found)))

    def _concept(self, kind: str, cell: str, abbreviations: dict, prefix: str, en: str, it: str) -> Outcome:
        wanted = key(cell)
        if wanted in abbreviations:
            return Outcome([ID + prefix + abbreviations[wanted]])
        candidates = self.lookup(kind, cell) | ({ID + prefix + cell.strip()} & self.known[kind])
        if len(candidates) == 1:
            return Outcome([candidates.pop()])
        if candidates:
            return ambiguous(en, it, cell, candidates)
        return unknown(en, it, cell)

    def legal_form(self, cell: str) -> Outcome:
        return self._concept("legal-form", cell, LEGAL_FORM_ABBREVIATIONS, "legal-form/", "legal form", "forma giuridica")

    def qualification(self, cell: str) -> Outcome:
        return self._concept("qualification", cell, QUALIFICATION_ABBREVIATIONS, "qualification/", "qualification",
                             "qualifica")

    def mission(self, cell: str) -> Outcome:
        return self._concept("mission", cell, {}, "social-mission/", "social mission", "missione sociale")

    def country(self, cell: str) -> Outcome:
        value = cell.strip()
        if re.fullmatch(r"[A-Za-z]{3}", value) and COUNTRY + value.upper() in self.known["country"]:
            return Outcome([COUNTRY + value.upper()])
        candidates = {c for c in self.lookup("country", value) if c.startswith(COUNTRY)}
        if len(candidates) == 1:
            return Outcome([candidates.pop()])
        if candidates:
            return ambiguous("country", "paese", value, candidates)
        return unknown("country", "paese", value)

    def nuts3(self, province: str, country: str | None) -> str | None:
        """Find the NUTS 3 region of a province given by name, code or (Italian) car-plate code."""
        value = province.strip()
        if re.fullmatch(r"[A-Z]{2}[A-Z0-9]{3}", value) and NUTS + value in self.known["nuts"]:
            return NUTS + value
        candidates = {c for c in self.lookup("nuts", value) if len(c) - len(NUTS) == 5}
        if country and len(candidates) > 1:
            prefix = self._nuts_prefix(country)
            candidates = {c for c in candidates if prefix and c[len(NUTS):].startswith(prefix)}
        return candidates.pop() if len(candidates) == 1 else None

    def _nuts_prefix(self, country: str | None) -> str | None:
        """Return the NUTS country code of a country (its ISO alpha-2 code, EL for Greece)."""
        code = self.alpha2.get(country or "")
        return {"GR": "EL"}.get(code, code) if code else None

    def place(self, municipality: str, province: str, country_iri: str | None) -> tuple[Outcome, dict | None]:
        """Place a municipality: a known one, or a new one in the NUTS 3 region of its province.

        Returns the outcome (the place IRI) and, for a new place, its label, NUTS 3 and country.
        """
        known = self.places.get(key(municipality), set())
        if country_iri:
            known = {p for p in known if p[2] in (None, country_iri)}
        nuts = self.nuts3(province, None) if province else None
        if known and nuts:
            known = {p for p in known if p[1] in (None, nuts)}
        if len(known) == 1:
            return Outcome([next(iter(known))[0]]), None
        if not nuts:
            nuts = self.nuts3(municipality, None)  # a province capital: its NUTS 3 region bears its name
        if nuts is None:
            return Outcome(en=f"unknown municipality {municipality!r}: give its province (name, car-plate code or "
                              f"NUTS 3 code) so that it can be placed",
                           it=f"comune sconosciuto {municipality!r}: indicarne la provincia (nome, sigla o codice "
                              f"NUTS 3) per poterlo collocare"), None
        country = country_iri or self._country_of_nuts(nuts)
        slug = re.sub(r"[^a-z0-9]+", "-", key(municipality)).strip("-")
        iso = (self._nuts_prefix(country) or nuts[len(NUTS):len(NUTS) + 2]).lower()
        iri = f"{ID}place/{iso}/{slug}"
        return Outcome([iri]), {"label": municipality.strip(), "nuts": nuts, "country": country}

    def _country_of_nuts(self, nuts: str) -> str | None:
        code = {"EL": "GR"}.get(nuts[len(NUTS):len(NUTS) + 2], nuts[len(NUTS):len(NUTS) + 2])
        return next((iri for iri, alpha2 in self.alpha2.items() if alpha2 == code and "/country/" in iri), None)


def italian_vat_ok(digits: str) -> bool:
    """Check the control digit of an Italian partita IVA (11 digits)."""
    if not re.fullmatch(r"\d{11}", digits):
        return False
    total = 0
    for i, d in enumerate(int(c) for c in digits[:10]):
        if i % 2 == 0:
            total += d
        else:
            total += d * 2 - 9 if d * 2 > 9 else d * 2
    return (10 - total % 10) % 10 == int(digits[10])


def vat_number(cell: str, country_code: str | None = "IT") -> Outcome:
    """Normalise and check a VAT number: 'IT' + 11 digits with a valid control digit, or another EU form."""
    value = re.sub(r"[\s.\-]", "", cell).upper()
    if re.fullmatch(r"\d{11}", value):
        value = "IT" + value
    if value.startswith("IT"):
        if not italian_vat_ok(value[2:]):
            return Outcome(en=f"invalid Italian VAT number {cell!r}: it needs 11 digits and a valid control digit",
                           it=f"partita IVA non valida {cell!r}: servono 11 cifre e una cifra di controllo valida")
        return Outcome([value])
    if re.fullmatch(r"[A-Z]{2}[0-9A-Z+*]{2,12}", value):
        return Outcome([value])
    return Outcome(en=f"invalid VAT number {cell!r}: it must start with the two-letter country prefix",
                   it=f"partita IVA non valida {cell!r}: deve iniziare con il prefisso del paese di due lettere")


def fiscal_code(cell: str) -> Outcome:
    """Check an Italian codice fiscale: 11 digits (an organisation's, with a control digit) or 16 characters."""
    value = re.sub(r"\s", "", cell).upper()
    if re.fullmatch(r"\d{11}", value) and italian_vat_ok(value):
        return Outcome([value])
    if re.fullmatch(r"[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]", value):
        return Outcome([value])
    return Outcome(en=f"invalid fiscal code {cell!r}: 11 digits with a valid control digit, or 16 characters",
                   it=f"codice fiscale non valido {cell!r}: 11 cifre con cifra di controllo valida, o 16 caratteri")


def year(cell: str) -> Outcome:
    value = cell.strip()
    if re.fullmatch(r"(1[89]|20)\d\d", value):
        return Outcome([value])
    return Outcome(en=f"malformed year {cell!r}: write four digits, such as 2019",
                   it=f"anno non valido {cell!r}: scrivere quattro cifre, per esempio 2019")


def website(cell: str) -> Outcome:
    value = cell.strip()
    if not re.match(r"^https?://", value, re.I):
        value = "https://" + value
    if re.fullmatch(r"https?://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(/[^\s<>\"{}|\\^`]*)?", value):
        return Outcome([value if "/" in value[8:] else value + "/"])
    return Outcome(en=f"malformed website {cell!r}", it=f"sito web non valido {cell!r}")


def email(cell: str) -> Outcome:
    value = cell.strip()
    if re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", value):
        return Outcome([value])
    return Outcome(en=f"malformed e-mail address {cell!r}", it=f"indirizzo e-mail non valido {cell!r}")


def slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:80] or "unnamed"
