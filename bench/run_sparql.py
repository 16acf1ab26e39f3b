"""Benchmark our /sparql against Oxigraph's own server on the same synthetic data (run by hand).

    .venv/bin/python bench/run_sparql.py --size 100000 --rounds 30

It generates SYNTHETIC enterprises (bench/synthetic.py), loads them with the shipped ontology and
vocabularies into our store, copies the resulting snapshot for `oxigraph serve`, starts both
servers, runs the directory query mix of bench/sparql_mix/ at concurrency 1 and 4 against each,
checks that both give the same answers, and writes the figures to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import requests
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
WORK = HERE / "work"
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

import synthetic  # noqa: E402

MISSIONS = [f"https://w3id.org/sekg/id/social-mission/{m}" for m in synthetic.MISSIONS]
DIVISIONS = [f"http://data.europa.eu/cpv/cpv/{d}000000" for d in synthetic.SERVICE_DIVISIONS]
REGIONS = ["ITC1", "ITC4", "ITH5", "ITI4", "ITF3", "ITG1", "ITH3", "ITC3"]
WORDS = [w.lower() for w in synthetic.WORDS_IT]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    memory_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(memory_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "date": date.today().isoformat()}


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    pids = [pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return round(total / 1024, 1)


def prepare(size: int, seed: int) -> tuple[Path, Path, dict]:
    """Build our store (shipped data + synthetic enterprises) and a copy of it for Oxigraph's server."""
    sys.path.insert(0, str(PROJECT / "service"))
    from sekg.loader import FileToLoad, load_files, shipped_to_load
    from sekg.store.embedded import EmbeddedStore

    WORK.mkdir(exist_ok=True)
    data = WORK / f"synthetic-{size}.nq"
    ours = WORK / f"store-{size}"
    theirs = WORK / f"oxigraph-{size}"
    timings = {}
    if not data.exists():
        start = time.monotonic()
        with open(data, "w", encoding="utf-8") as handle:
            synthetic.generate(size, handle, seed=seed)
        timings["generate_s"] = round(time.monotonic() - start, 1)
    if not ours.exists():
        start = time.monotonic()
        store = EmbeddedStore(path=ours, workers=0).open()
        try:
            load_files(store, shipped_to_load() + [FileToLoad(data, None)], validate_first=False)
        finally:
            store.close()
        timings["load_s"] = round(time.monotonic() - start, 1)
    if theirs.exists():
        shutil.rmtree(theirs)
    current = (ours / "checkpoints" / "CURRENT").read_text().strip()
    shutil.copytree(ours / "checkpoints" / current, theirs)
    return ours, theirs, timings


def start_servers(ours: Path, theirs: Path, workers: int = 2,
                  threads: int = 4) -> tuple[subprocess.Popen, str, subprocess.Popen, str]:
    bin_dir = Path(sys.executable).parent
    our_port, their_port = free_port(), free_port()
    env = {**os.environ, "SEKG_QUERY_WORKERS": str(workers), "SEKG_QUERY_THREADS": str(threads), "SEKG_QUERY_TIMEOUT": "300", "SEKG_MAX_RESULT_ROWS": "10000000",
           "SEKG_LOAD_SHIPPED": "false", "SEKG_LOG_LEVEL": "WARNING"}
    our = subprocess.Popen([str(bin_dir / "sekg"), "serve", "--store", str(ours), "--port", str(our_port)],
                           env=env, stdout=subprocess.DEVNULL)
    their = subprocess.Popen([str(bin_dir / "oxigraph"), "serve", "--location", str(theirs), "--bind",
                              f"127.0.0.1:{their_port}", "--union-default-graph"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    our_url, their_url = f"http://127.0.0.1:{our_port}/sparql", f"http://127.0.0.1:{their_port}/query"
    deadline = time.monotonic() + 120
    for url in (our_url, their_url):
        while True:
            try:
                if requests.get(url, params={"query": "ASK {}"}, timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not start")
            time.sleep(0.2)
    return our, our_url, their, their_url


def sample_enterprises(url: str, count: int) -> list[str]:
    query = ("PREFIX sekg: <https://w3id.org/sekg/ontology#> SELECT ?e WHERE { ?e a sekg:SocialEconomyEnterprise } "
             f"LIMIT {count}")
    response = requests.post(url, data=query, headers={"Content-Type": "application/sparql-query",
                                                         "Accept": "application/sparql-results+json"})
    return [b["e"]["value"] for b in response.json()["results"]["bindings"]]


def sample_projects(url: str) -> list[str]:
    query = "PREFIX eurio: <http://data.europa.eu/s66#> SELECT ?p WHERE { ?p a eurio:Project } LIMIT 200"
    response = requests.post(url, data=query, headers={"Content-Type": "application/sparql-query",
                                                         "Accept": "application/sparql-results+json"})
    return [b["p"]["value"] for b in response.json()["results"]["bindings"]]


def instances(rounds: int, seed: int, enterprises: list[str], projects: list[str]) -> list[tuple[str, str]]:
    """Return (query name, query text) pairs: the mix, `rounds` times, with random parameters."""
    rng = random.Random(seed)
    templates = {p.stem: p.read_text() for p in sorted((HERE / "sparql_mix").glob("*.rq"))}
    out = []
    for _ in range(rounds):
        values = {
            "mission": URIRef(rng.choice(MISSIONS)).n3(),
            "division": URIRef(rng.choice(DIVISIONS)).n3(),
            "region": URIRef("http://data.europa.eu/nuts/code/" + rng.choice(REGIONS)).n3(),
            "offset": str(rng.choice([0, 20, 40])),
            "word": Literal(rng.choice(WORDS)).n3(),
            "enterprise": URIRef(rng.choice(enterprises)).n3(),
            "project": URIRef(rng.choice(projects)).n3(),
        }
        for name, text in templates.items():
            for key, value in values.items():
                text = text.replace("{{" + key + "}}", value)
            out.append((name, text))
    return out


def ask(url: str, text: str) -> tuple[float, int, bytes, str]:
    accept = "application/n-triples" if text.lstrip().startswith(("DESCRIBE", "# Describe")) or "DESCRIBE" in text \
        else "application/sparql-results+json"
    start = time.perf_counter()
    response = requests.post(url, data=text.encode(), timeout=600,
                             headers={"Content-Type": "application/sparql-query", "Accept": accept})
    elapsed = time.perf_counter() - start
    return elapsed, response.status_code, response.content, accept


def same_answer(a: bytes, b: bytes, accept: str) -> bool:
    if accept == "application/n-triples":
        return isomorphic(Graph().parse(data=a.decode(), format="nt"), Graph().parse(data=b.decode(), format="nt"))
    left, right = json.loads(a), json.loads(b)
    return left["results"]["bindings"] == right["results"]["bindings"]


def run_mix(url: str, work: list[tuple[str, str]], concurrency: int, send=None):
    """Run the mix at a concurrency; return latencies per query, the answers and the throughput.

    `send(url, text)` asks one query (default: `ask`, a direct POST).
    """
    send = send or ask
    latencies: dict[str, list[float]] = {}
    answers = []
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for (name, _), (elapsed, status, body, accept) in zip(work, pool.map(lambda w: send(url, w[1]), work)):
            if status != 200:
                raise SystemExit(f"{url}: {name} answered {status}: {body[:300]!r}")
            latencies.setdefault(name, []).append(elapsed)
            answers.append((body, accept))
    wall = time.perf_counter() - start
    return latencies, answers, len(work) / wall


def run_interleaved(our_url: str, their_url: str, work: list[tuple[str, str]], rounds: int, concurrency: int):
    """Run the mix round by round on both servers, alternating which goes first.

    Whatever else the machine does then weighs on both servers alike, instead of on whichever
    happened to run during a busy minute.
    """
    size = max(1, len(work) // rounds)
    totals = {our_url: [{}, [], 0.0], their_url: [{}, [], 0.0]}
    for number, start in enumerate(range(0, len(work), size)):
        part = work[start:start + size]
        order = (our_url, their_url) if number % 2 == 0 else (their_url, our_url)
        for url in order:
            latencies, answers, rate = run_mix(url, part, concurrency)
            total = totals[url]
            for name, values in latencies.items():
                total[0].setdefault(name, []).extend(values)
            total[1].extend(answers)
            total[2] += len(part) / rate
    ours, theirs = totals[our_url], totals[their_url]
    return ours[0], ours[1], len(work) / ours[2], theirs[0], theirs[1], len(work) / theirs[2]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="SPARQL benchmark: our /sparql against oxigraph serve")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="SEKG_QUERY_WORKERS of our server")
    parser.add_argument("--threads", type=int, default=4, help="SEKG_QUERY_THREADS of our server")
    parser.add_argument("--note", default="", help="conditions worth writing down (e.g. other work running)")
    args = parser.parse_args(argv)
    ours, theirs, timings = prepare(args.size, args.seed)
    our_proc, our_url, their_proc, their_url = start_servers(ours, theirs, args.workers, args.threads)
    report = {"machine": machine(), "size": args.size, "rounds": args.rounds, "timings": timings, "runs": {},
              "workers": args.workers, "threads": args.threads, "note": args.note}
    try:
        enterprises = sample_enterprises(their_url, 500)
        projects = sample_projects(their_url)
        work = instances(args.rounds, args.seed, enterprises, projects)
        run_mix(our_url, work[: len(work) // args.rounds], 1)  # warm-up, both servers
        run_mix(their_url, work[: len(work) // args.rounds], 1)
        mismatches = 0
        for concurrency in (1, 4):
            mine, my_answers, my_rate, theirs_lat, their_answers, their_rate = run_interleaved(
                our_url, their_url, work, args.rounds, concurrency)
            mismatches += sum(not same_answer(a[0], b[0], a[1]) for a, b in zip(my_answers, their_answers))
            report["runs"][str(concurrency)] = {
                "throughput_ours": round(my_rate, 2), "throughput_oxigraph": round(their_rate, 2),
                "queries": {name: {
                    "p50_ours_ms": round(statistics.median(mine[name]) * 1000, 1),
                    "p95_ours_ms": round(percentile(mine[name], 0.95) * 1000, 1),
                    "p50_oxigraph_ms": round(statistics.median(theirs_lat[name]) * 1000, 1),
                    "p95_oxigraph_ms": round(percentile(theirs_lat[name], 0.95) * 1000, 1),
                } for name in sorted(mine)},
            }
        report["answer_mismatches"] = mismatches
        report["memory_mb"] = {"ours": rss_mb(our_proc.pid), "oxigraph": rss_mb(their_proc.pid)}
    finally:
        our_proc.terminate()
        their_proc.terminate()
        our_proc.wait(30)
        their_proc.wait(30)
    RESULTS.mkdir(exist_ok=True)
    stem = f"{report['machine']['date']}-sparql-{args.size}"
    (RESULTS / f"{stem}.json").write_text(json.dumps(report, indent=2))
    (RESULTS / f"{stem}.md").write_text(to_markdown(report))
    print(to_markdown(report))


def to_markdown(report: dict) -> str:
    m = report["machine"]
    lines = [f"# SPARQL benchmark, {report['size']} synthetic enterprises",
             "", f"{m['date']}, {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, Python {m['python']}.",
             f"Mix of bench/sparql_mix/ × {report['rounds']} rounds, the servers taking turns round by round; "
             f"answers compared: "
             f"{report.get('answer_mismatches', '?')} mismatches. Memory (RSS): {report.get('memory_mb')}.",
             f"Our server: SEKG_QUERY_WORKERS={report.get('workers', 4)}, SEKG_QUERY_THREADS={report.get('threads', 1)}. "
             f"{report.get('note', '')}".rstrip(),
             f"Preparation: {report['timings']}", ""]
    for concurrency, run in report["runs"].items():
        ratio = run["throughput_ours"] / run["throughput_oxigraph"]
        lines += [f"## Concurrency {concurrency}", "",
                  f"Throughput: ours {run['throughput_ours']} q/s, oxigraph serve {run['throughput_oxigraph']} q/s "
                  f"(ratio {ratio:.2f})", "",
                  "| query | p50 ours | p50 oxigraph | p95 ours | p95 oxigraph | p50 ratio |",
                  "|---|---|---|---|---|---|"]
        for name, q in run["queries"].items():
            ratio_q = q["p50_ours_ms"] / q["p50_oxigraph_ms"] if q["p50_oxigraph_ms"] else float("nan")
            lines.append(f"| {name} | {q['p50_ours_ms']} ms | {q['p50_oxigraph_ms']} ms | {q['p95_ours_ms']} ms | "
                         f"{q['p95_oxigraph_ms']} ms | {ratio_q:.2f} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
