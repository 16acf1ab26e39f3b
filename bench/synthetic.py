"""Generate SYNTHETIC social-economy enterprises for benchmarks and tests (never real data).

Every generated resource lives in the graph https://w3id.org/sekg/graph/synthetic/... whose
provenance says it is synthetic, and every name ends with "(synthetic)".

    python bench/synthetic.py 100000 --out bench/work/synthetic-100k.nq --seed 1
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference"
BASE = "https://w3id.org/sekg/"
ID = BASE + "id/"
SEKG = BASE + "ontology#"
GRAPH = BASE + "graph/synthetic/enterprises"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ORG = "http://www.w3.org/ns/org#"
LEGAL = "http://www.w3.org/ns/legal#"
CV = "http://data.europa.eu/m8g/"
LOCN = "http://www.w3.org/ns/locn#"
SCHEMA = "https://schema.org/"
DCT = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
ADMS = "http://www.w3.org/ns/adms#"
PROV = "http://www.w3.org/ns/prov#"
XSD = "http://www.w3.org/2001/XMLSchema#"
EURIO = "http://data.europa.eu/s66#"

MISSIONS = ["social-services", "health-services", "social-health-services", "education-training", "environment",
            "cultural-heritage-landscape", "culture-arts-recreation", "social-tourism", "fair-trade",
            "employment-services", "work-integration", "social-housing", "migrant-reception-integration",
            "social-farming", "amateur-sport", "reuse-of-public-and-confiscated-assets"]
QUALIFICATIONS = ["cooperativa-sociale-a", "cooperativa-sociale-b", "impresa-sociale", "societa-benefit",
                  "startup-innovativa-vocazione-sociale", "ente-terzo-settore"]
LEGAL_FORMS = {"cooperativa-sociale-a": "it-societa-cooperativa", "cooperativa-sociale-b": "it-societa-cooperativa",
               "impresa-sociale": "it-srl", "societa-benefit": "it-srl",
               "startup-innovativa-vocazione-sociale": "it-srl", "ente-terzo-settore": "it-associazione"}
ROLES = ["lead-partner", "partner", "partner", "partner", "associated-partner"]
WORDS_IT = ["Aurora", "Girasole", "Orizzonte", "Quercia", "Arcobaleno", "Ponte", "Radici", "Fiume", "Sentiero",
            "Officina", "Terra", "Mosaico", "Filo", "Ala", "Bottega", "Seme", "Cortile", "Vela", "Faro", "Incontro"]
KINDS = {"cooperativa-sociale-a": "Cooperativa Sociale", "cooperativa-sociale-b": "Cooperativa Sociale",
         "impresa-sociale": "Impresa Sociale", "societa-benefit": "Società Benefit",
         "startup-innovativa-vocazione-sociale": "Startup", "ente-terzo-settore": "Associazione"}
SERVICE_DIVISIONS = ("45", "50", "55", "60", "71", "72", "77", "79", "80", "85", "90", "92", "98", "15", "39")


def iri(value: str) -> str:
    return f"<{value}>"


def lit(value: str, *, lang: str | None = None, datatype: str | None = None) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    if lang:
        return f'"{escaped}"@{lang}'
    if datatype:
        return f'"{escaped}"^^<{datatype}>'
    return f'"{escaped}"'


def italian_vat(rng: random.Random) -> str:
    """Return a random Italian VAT number with a valid check digit (Luhn-style, as the law defines)."""
    digits = [rng.randrange(10) for _ in range(10)]
    total = 0
    for i, d in enumerate(digits):
        if i % 2 == 0:
            total += d
        else:
            doubled = d * 2
            total += doubled - 9 if doubled > 9 else doubled
    check = (10 - total % 10) % 10
    return "IT" + "".join(map(str, digits)) + str(check)


@dataclass
class Reference:
    cpv: list[str]
    nuts3: list[tuple[str, str]]  # (code, country authority code)


def read_reference() -> Reference:
    with open(SHARED / "cpv_2008.csv", encoding="utf-8") as handle:
        cpv = [row["code"][:8] for row in csv.DictReader(handle)
               if row["code"][:2] in SERVICE_DIVISIONS and int(row["level"]) >= 3]
    with open(SHARED / "eu_authority_countries.csv", encoding="utf-8") as handle:
        country_of = {row["nuts_code"]: row["code"] for row in csv.DictReader(handle) if row["nuts_code"]}
    with open(SHARED / "nuts_2024.csv", encoding="utf-8") as handle:
        nuts3 = [(row["code"], country_of[row["country_code"]]) for row in csv.DictReader(handle)
                 if row["level"] == "3" and row["extra_regio"] == "0"]
    return Reference(cpv, nuts3)


def generate(count: int, out, *, seed: int = 1) -> int:
    """Write `count` synthetic enterprises (and their places and projects) as N-Quads; return the quads."""
    rng = random.Random(seed)
    ref = read_reference()
    italian = [n for n in ref.nuts3 if n[0].startswith("IT")]
    g = iri(GRAPH)
    written = 0

    def quad(s, p, o):
        nonlocal written
        out.write(f"{s} {p} {o} {g} .\n")
        written += 1

    # provenance: this graph is synthetic
    meta = iri(BASE + "graph/provenance")
    for s, p, o in [
        (g, iri(RDF_TYPE), iri(SEKG + "SourceGraph")),
        (g, iri(SKOS + "prefLabel"), lit("SYNTHETIC enterprises for benchmarks and tests", lang="en")),
        (g, iri(DCT + "source"), lit(f"synthetic data generated by bench/synthetic.py (seed {seed}, {count} enterprises)")),
        (g, iri(SEKG + "confidence"), iri(ID + "confidence/inferred")),
    ]:
        out.write(f"{s} {p} {o} {meta} .\n")
        written += 1

    places = {}
    for code, country in ref.nuts3:
        for k in range(3):
            place = iri(f"{ID}place/synthetic/{code.lower()}-{k}")
            places.setdefault(code, []).append(place)
            quad(place, iri(RDF_TYPE), iri(SEKG + "Municipality"))
            quad(place, iri(SKOS + "prefLabel"), lit(f"Comune {code}-{k} (synthetic)"))
            quad(place, iri(SEKG + "nutsRegion"), iri(f"http://data.europa.eu/nuts/code/{code}"))
            quad(place, iri(SEKG + "country"), iri(f"http://publications.europa.eu/resource/authority/country/{country}"))
            lat, lon = rng.uniform(36.0, 60.0), rng.uniform(-9.0, 28.0)
            geo = f"_:geo-{code.lower()}-{k}"
            quad(place, iri(SCHEMA + "geo"), geo)
            quad(geo, iri(RDF_TYPE), iri(SCHEMA + "GeoCoordinates"))
            quad(geo, iri(SCHEMA + "latitude"), lit(f"{lat:.5f}", datatype=XSD + "decimal"))
            quad(geo, iri(SCHEMA + "longitude"), lit(f"{lon:.5f}", datatype=XSD + "decimal"))

    project_count = max(1, count // 200)
    for j in range(project_count):
        project = iri(f"{ID}project/synthetic-{j:05d}")
        quad(project, iri(RDF_TYPE), iri(EURIO + "Project"))
        quad(project, iri(SKOS + "prefLabel"), lit(f"Project {j:05d} (synthetic)", lang="en"))
        year = rng.randrange(2015, 2026)
        quad(project, iri(SCHEMA + "startDate"), lit(f"{year}-{rng.randrange(1, 13):02d}-01", datatype=XSD + "date"))
        quad(project, iri(SCHEMA + "endDate"), lit(f"{year + rng.randrange(1, 4)}-12-31", datatype=XSD + "date"))

    for i in range(count):
        key = f"synthetic-{i:07d}"
        e = iri(f"{ID}organisation/{key}")
        qualification = rng.choice(QUALIFICATIONS)
        name = f"{KINDS[qualification]} {rng.choice(WORDS_IT)} {rng.choice(WORDS_IT)} {i} (synthetic)"
        for t in (SEKG + "SocialEconomyEnterprise", ORG + "FormalOrganization", ORG + "Organization"):
            quad(e, iri(RDF_TYPE), iri(t))
        quad(e, iri(SKOS + "prefLabel"), lit(name))
        quad(e, iri(LEGAL + "legalName"), lit(name))
        quad(e, iri(LEGAL + "companyType"), iri(f"{ID}legal-form/{LEGAL_FORMS[qualification]}"))
        quad(e, iri(ORG + "classification"), iri(f"{ID}organisation-type/company"))
        q = iri(f"{ID}qualification/{key}/{qualification}")
        quad(e, iri(SEKG + "hasQualification"), q)
        quad(q, iri(RDF_TYPE), iri(SEKG + "Qualification"))
        quad(q, iri(SEKG + "qualificationOf"), e)
        quad(q, iri(SEKG + "qualificationType"), iri(f"{ID}qualification/{qualification}"))
        quad(q, iri(SCHEMA + "startDate"), lit(str(rng.randrange(1995, 2026)), datatype=XSD + "gYear"))
        missions = rng.sample(MISSIONS, rng.randrange(1, 4))
        quad(e, iri(SEKG + "prevailingSocialMission"), iri(f"{ID}social-mission/{missions[0]}"))
        for mission in missions:
            quad(e, iri(SEKG + "socialMission"), iri(f"{ID}social-mission/{mission}"))
        for code in rng.sample(ref.cpv, rng.randrange(1, 5)):
            quad(e, iri(SEKG + "offers"), iri(f"http://data.europa.eu/cpv/cpv/{code}"))
        code, country = rng.choice(italian) if rng.random() < 0.7 else rng.choice(ref.nuts3)
        address = iri(f"{ID}address/{key}")
        quad(e, iri(CV + "registeredAddress"), address)
        quad(address, iri(RDF_TYPE), iri(LOCN + "Address"))
        quad(address, iri(SEKG + "municipality"), rng.choice(places[code]))
        quad(address, iri(SEKG + "country"), iri(f"http://publications.europa.eu/resource/authority/country/{country}"))
        quad(e, iri(SEKG + "country"), iri(f"http://publications.europa.eu/resource/authority/country/{country}"))
        quad(e, iri(DCT + "description"), lit(
            f"Impresa sintetica n. {i}: servizi di {missions[0].replace('-', ' ')}.", lang="it"))
        quad(e, iri(DCT + "description"), lit(
            f"Synthetic enterprise no. {i}: {missions[0].replace('-', ' ')} services.", lang="en"))
        quad(e, iri(FOAF + "homepage"), iri(f"https://{key}.example.org/"))
        if country == "ITA":
            identifier = iri(f"{ID}identifier/vat-number/{key}")
            quad(e, iri(ADMS + "identifier"), identifier)
            quad(identifier, iri(RDF_TYPE), iri(ADMS + "Identifier"))
            quad(identifier, iri(SKOS + "notation"), lit(italian_vat(rng)))
            quad(identifier, iri(DCT + "type"), iri(f"{ID}identifier-type/vat-number"))
        for j in rng.sample(range(project_count), min(project_count, rng.randrange(0, 3))):
            project = iri(f"{ID}project/synthetic-{j:05d}")
            participation = iri(f"{ID}participation/synthetic-{j:05d}/{key}")
            quad(project, iri(SEKG + "hasParticipation"), participation)
            quad(participation, iri(RDF_TYPE), iri(SEKG + "Participation"))
            quad(participation, iri(SEKG + "inProject"), project)
            quad(participation, iri(SEKG + "participant"), e)
            quad(participation, iri(SEKG + "role"), iri(f"{ID}participation-role/{rng.choice(ROLES)}"))
    return written


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        quads = generate(args.count, handle, seed=args.seed)
    print(f"wrote {quads} quads for {args.count} synthetic enterprises to {args.out}")


if __name__ == "__main__":
    main()
