"""Benchmark the directory page (filtered list with every facet count), end to end over HTTP (run by hand).

    .venv/bin/python bench/run_portal.py --size 10000 --requests 300
    .venv/bin/python bench/run_portal.py --size 100000 --requests 300

It reuses the store built by run_sparql.py (SYNTHETIC enterprises from bench/synthetic.py plus the
shipped data), starts `sekg serve` on it, waits for the portal index, then requests the directory
with random selections (text, CPV subtree, type, mission, place, project, page) and writes
p50/p95 latencies to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synthetic  # noqa: E402
from run_sparql import RESULTS, free_port, machine, percentile, prepare, rss_mb  # noqa: E402


def selections(count: int, seed: int, projects: list[str]) -> list[dict]:
    """Make random directory selections like a buyer's: zero to three filters, sometimes text, a page."""
    rng = random.Random(seed)
    choices = {
        "mission": synthetic.MISSIONS,
        "type": synthetic.QUALIFICATIONS + ["cooperativa-sociale"],
        "cpv": [d + "000000" for d in synthetic.SERVICE_DIVISIONS],
        "place": ["ITA", "ITC1", "ITC11", "ITH5", "ITI4", "ITF3", "DEU", "FRA", "ESP"],
        "project": projects,
    }
    out = []
    for _ in range(count):
        params: dict = {}
        for facet in rng.sample(sorted(choices), rng.randrange(0, 4)):
            if choices[facet]:
                params[facet] = rng.choice(choices[facet])
        if rng.random() < 0.3:
            params["q"] = rng.choice(synthetic.WORDS_IT).lower()
        if rng.random() < 0.3:
            params["page"] = str(rng.randrange(2, 4))
        out.append(params)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="portal benchmark: the directory page over HTTP")
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-index", action="store_true",
                        help="reuse the portal index left by an earlier run instead of timing a full rebuild")
    parser.add_argument("--note", default="", help="conditions worth writing down (e.g. other work running)")
    args = parser.parse_args(argv)
    store, _, timings = prepare(args.size, args.seed)
    if not args.keep_index:
        for leftover in store.glob("portal.duckdb*"):
            leftover.unlink()
    port = free_port()
    env = {**os.environ, "SEKG_LOAD_SHIPPED": "false", "SEKG_LOG_LEVEL": "WARNING", "SEKG_QUERY_TIMEOUT": "3600"}
    server = subprocess.Popen([str(Path(sys.executable).parent / "sekg"), "serve", "--store", str(store),
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    report = {"machine": machine(), "size": args.size, "requests": args.requests, "timings": timings}
    try:
        start = time.monotonic()
        while True:
            try:
                health = requests.get(url + "/health", timeout=30).json()
                if health.get("portal_index") == "fresh":
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() - start > 3600:
                raise SystemExit("the portal index was not built within an hour")
            time.sleep(1)
        report["timings"]["index_build_s"] = round(time.monotonic() - start, 1)
        projects = [f"synthetic-{i:05d}" for i in range(max(1, args.size // 200))]
        work = selections(args.requests, args.seed, projects)
        for params in work[:20]:
            requests.get(url + "/", params=params)
        latencies, totals = [], []
        for params in work:
            begin = time.perf_counter()
            response = requests.get(url + "/", params=params)
            latencies.append(time.perf_counter() - begin)
            if response.status_code != 200:
                raise SystemExit(f"{params}: {response.status_code}")
            totals.append(int(response.text.split('data-total="', 1)[1].split('"', 1)[0]))
        report["latency_ms"] = {"p50": round(statistics.median(latencies) * 1000, 1),
                                "p95": round(percentile(latencies, 0.95) * 1000, 1),
                                "max": round(max(latencies) * 1000, 1)}
        report["results_per_page_median"] = statistics.median(totals)
        report["memory_mb"] = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(60)
    RESULTS.mkdir(exist_ok=True)
    stem = f"{report['machine']['date']}-portal-{args.size}"
    (RESULTS / f"{stem}.json").write_text(json.dumps(report, indent=2))
    m = report["machine"]
    text = (f"# Directory page benchmark, {args.size} synthetic enterprises\n\n"
            f"{m['date']}, {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB. {args.requests} requests of `/` with "
            f"random selections (0-3 facet filters, text in 30 %, pages 2-3 in 30 %), every facet counted, "
            f"sequential, end to end over HTTP. Index build: from server start until `/health` says the "
            f"portal index is fresh{' (index reused)' if args.keep_index else ' (built from scratch)'}."
            f"{' ' + args.note if args.note else ''}\n\n"
            f"| p50 | p95 | max | index build | server memory |\n|---|---|---|---|---|\n"
            f"| {report['latency_ms']['p50']} ms | {report['latency_ms']['p95']} ms | {report['latency_ms']['max']} ms | "
            f"{report['timings']['index_build_s']} s | {report['memory_mb']} MB |\n")
    (RESULTS / f"{stem}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
