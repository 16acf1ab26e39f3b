"""Benchmark a large spreadsheet import (run by hand): SYNTHETIC rows through the whole import path.

    .venv/bin/python bench/run_import.py --rows 100000

It writes a template-layout CSV of SYNTHETIC enterprises (names marked SYNTHETIC; real CPV codes,
Italian municipalities, provinces and valid-checksum VAT numbers drawn at random), imports it with
`sekg import` into a fresh store holding the shipped data, and writes the stage timings, the
importer's peak memory and the triples written to bench/results/.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
WORK = HERE / "work"
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(PROJECT / "service"))

from run_sparql import machine  # noqa: E402
from synthetic import italian_vat, read_reference  # noqa: E402

QUALIFICATIONS = ["cooperativa sociale tipo A", "cooperativa sociale tipo B", "impresa sociale", "società benefit",
                  "startup innovativa a vocazione sociale"]
LEGAL_FORMS = ["società cooperativa", "srl", "consorzio"]
MISSIONS = ["inserimento lavorativo", "educazione, istruzione e formazione", "servizi sociali",
            "ambiente"]


def write_rows(path: Path, count: int, seed: int = 1) -> None:
    """Write `count` SYNTHETIC template rows."""
    from sekg.importing.examples import TEMPLATE_COLUMNS

    rng = random.Random(seed)
    ref = read_reference()
    provinces = [(row["name"], row["car_plate_code"]) for row in csv.DictReader(
        open(PROJECT.parent / "shared" / "reference" / "italy_provinces.csv", encoding="utf-8"))]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=TEMPLATE_COLUMNS)
        writer.writeheader()
        for i in range(count):
            province, plate = rng.choice(provinces)
            writer.writerow({
                "name": f"Impresa {i:07d} SYNTHETIC", "legal_form": rng.choice(LEGAL_FORMS),
                "qualification_1": rng.choice(QUALIFICATIONS), "qualification_1_year": str(rng.randrange(1995, 2026)),
                "vat": italian_vat(rng), "address": f"Via Sintetica {i}", "postcode": f"{rng.randrange(10000, 99999)}",
                "municipality": province, "province": plate, "country": "Italia",
                "website": f"https://impresa-{i:07d}.example.org/",
                "services": "; ".join(rng.sample(ref.cpv, rng.randrange(1, 4))),
                "prevailing_mission": rng.choice(MISSIONS),
                "description_it": f"Impresa sintetica n. {i} per il benchmark di importazione.",
                "description_en": f"Synthetic enterprise no. {i} for the import benchmark.",
                "founded": str(rng.randrange(1950, 2025)),
            })


def span(stages: dict, start: str, end: str) -> str:
    return f"{stages[end] - stages[start]:.1f} s" if start in stages and end in stages else "-"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    WORK.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    data = WORK / f"import-{args.rows}.csv"
    started = time.monotonic()
    write_rows(data, args.rows)
    generate_s = time.monotonic() - started
    store = WORK / f"import-store-{args.rows}"
    shutil.rmtree(store, ignore_errors=True)
    subprocess.run([str(PROJECT / ".venv" / "bin" / "sekg"), "load", "--shipped", "--store", str(store)], check=True,
                   capture_output=True)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", f"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, {str(PROJECT / 'service')!r})
from sekg.config import load_settings
from sekg.audit import AuditLog
from sekg.importing import resolve_mapping
from sekg.importing.importer import Importer
from sekg.queries import load_queries
from sekg.store.embedded import EmbeddedStore
from sekg.writes import WriteService
settings = load_settings(environ={{}}, SEKG_STORE={str(store)!r}, SEKG_IMPORT_MAX_ROWS={args.rows})
store = EmbeddedStore(settings, workers=0).open()
importer = Importer(store, load_queries(), WriteService(store, AuditLog(settings.state_dir / 'audit.sqlite'), settings),
                    max_rows={args.rows})
marks = {{}}
t0 = time.monotonic()
rss = {{}}
def progress(stage, done=None, total=None):
    marks.setdefault(stage, round(time.monotonic() - t0, 1))
    current = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS'))
    rss[stage] = max(rss.get(stage, 0), round(current / 1024))
result = importer.run(Path({str(data)!r}), 'bench', resolve_mapping(None, allow_paths=False), progress=progress)
marks['done'] = round(time.monotonic() - t0, 1)
store.close()
print(json.dumps({{'stages': marks, 'rss_mb_by_stage': rss, 'written': result.written, 'triples': result.triples, 'rows': result.rows,
                  'accepted': result.accepted, 'violations': len(result.violations),
                  'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  'engine_peak_rss_mb': round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}}))
"""], capture_output=True, text=True, check=True)
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    total_s = time.monotonic() - started
    report = {"machine": machine(), "rows": args.rows, "generate_s": round(generate_s, 1),
              "import_s": round(total_s, 1), **outcome}
    stem = RESULTS / f"{date.today().isoformat()}-import-{args.rows}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    m = report["machine"]
    stages = outcome["stages"]
    stem.with_suffix(".md").write_text(
        f"# Import benchmark, {args.rows} SYNTHETIC rows\n\n{m['date']}, {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gb']} GB, Python {m['python']}. Template CSV through `Importer.run` (read, match, morph-kgc, "
        f"SHACL, one write transaction) into a store holding the shipped data.\n\n"
        f"| rows | triples written | total | read | match | map (morph-kgc) | validate (SHACL) | duplicates | write | "
        f"importer peak RSS | engine peak RSS |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
        f"| {args.rows} | {outcome['triples']} | {report['import_s']} s | {span(stages, 'reading', 'matching')} | "
        f"{span(stages, 'matching', 'mapping')} | {span(stages, 'mapping', 'validating')} | "
        f"{span(stages, 'validating', 'duplicates')} | {span(stages, 'duplicates', 'writing')} | "
        f"{span(stages, 'writing', 'done')} | {outcome['peak_rss_mb']} MB | {outcome['engine_peak_rss_mb']} MB |\n\n"
        f"RSS at each stage (MB): {outcome['rss_mb_by_stage']}\n", encoding="utf-8")
    print(stem.with_suffix(".md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
