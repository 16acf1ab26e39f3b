"""Load-test a server on synthetic data with mixed traffic for a bounded time (run by hand, on loopback only).

    .venv/bin/python bench/run_load.py                          # 10 minutes, 10,000 enterprises, 4 clients
    .venv/bin/python bench/run_load.py --duration 20            # a short check that the script works

It reuses (or builds) the store of run_sparql.py (SYNTHETIC enterprises from bench/synthetic.py plus
the shipped data), starts `sekg serve` on 127.0.0.1, waits for the portal index, then runs clients
that cycle through a fixed, seeded plan of requests until the duration or the request budget runs
out, whichever comes first:

  portal       GET /  with random facet selections (and text, pages), as buyers click
  export       GET /directory.json  of a random selection
  sparql       POST /sparql  with the directory query mix of bench/sparql_mix/
  dereference  GET /id/...  (must be 303 See Other) then GET the /doc/... it names, as HTML, Turtle or JSON-LD

Meanwhile it samples the resident memory of the server and of each query worker process. It writes
latency percentiles per kind, errors (by kind and status, with the first messages), memory over
time, worker restarts and the machine's load average to bench/results/<date>-load.json and .md.

The memory bound it checks (and states in the result): the server and its workers together stay
under --max-rss-mb, and grow by at most --max-growth-mb from the end of the warm-up (--warmup
seconds, when caches have filled) to the end of the run. It exits 1 on any error, a dead server or
a broken bound.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(HERE))

import synthetic  # noqa: E402
from run_portal import selections  # noqa: E402
from run_sparql import RESULTS, WORK, free_port, instances, machine, percentile, sample_enterprises  # noqa: E402
from run_sparql import sample_projects  # noqa: E402

HOST = "127.0.0.1"  # loopback only: this tool must never load someone else's server
WEIGHTS = {"portal": 3, "export": 1, "sparql": 3, "dereference": 3}
DOC_TYPES = ["text/html", "text/turtle", "application/ld+json"]


def prepare_store(size: int, seed: int) -> tuple[Path, dict]:
    """Return our store of `size` synthetic enterprises plus the shipped data, building it when missing."""
    sys.path.insert(0, str(PROJECT / "service"))
    from sekg.loader import FileToLoad, load_files, shipped_to_load
    from sekg.store.embedded import EmbeddedStore

    WORK.mkdir(exist_ok=True)
    data, store_path, timings = WORK / f"synthetic-{size}.nq", WORK / f"store-{size}", {}
    if not data.exists():
        start = time.monotonic()
        with open(data, "w", encoding="utf-8") as handle:
            synthetic.generate(size, handle, seed=seed)
        timings["generate_s"] = round(time.monotonic() - start, 1)
    if not store_path.exists():
        start = time.monotonic()
        store = EmbeddedStore(path=store_path, workers=0).open()
        try:
            load_files(store, shipped_to_load() + [FileToLoad(data, None)], validate_first=False)
        finally:
            store.close()
        timings["load_s"] = round(time.monotonic() - start, 1)
    return store_path, timings


def children(pid: int) -> list[int]:
    """Return the processes whose parent is `pid` (the query workers of a server)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def rss_mb(pid: int) -> float | None:
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


class MemorySampler(threading.Thread):
    """Sample the RSS of the server and of each of its worker processes every `interval` seconds."""

    def __init__(self, pid: int, interval: float):
        super().__init__(daemon=True, name="memory-sampler")
        self.pid, self.interval = pid, interval
        self.samples: list[dict] = []
        self.workers_seen: set[int] = set()
        self.stop = threading.Event()
        self.started_at = time.monotonic()

    def sample(self) -> None:
        workers = {p: rss_mb(p) for p in children(self.pid)}
        workers = {p: m for p, m in workers.items() if m is not None}
        self.workers_seen |= set(workers)
        self.samples.append({"t": round(time.monotonic() - self.started_at, 1), "server_mb": rss_mb(self.pid),
                             "workers_mb": round(sum(workers.values()), 1), "worker_count": len(workers),
                             "largest_worker_mb": max(workers.values(), default=0.0)})

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.interval)


def plan(count: int, seed: int, enterprises: list[str], projects: list[str]) -> list[tuple[str, dict]]:
    """Return `count` requests in a fixed, seeded order, drawn by WEIGHTS."""
    rng = random.Random(seed)
    project_keys = [p.rsplit("/", 1)[1] for p in projects]
    picks = selections(count, seed, project_keys)
    queries = instances(max(1, count // 8 + 1), seed, enterprises, projects)
    kinds = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()), k=count)
    out = []
    for i, kind in enumerate(kinds):
        if kind in {"portal", "export"}:
            out.append((kind, {"params": picks[i]}))
        elif kind == "sparql":
            name, text = queries[i % len(queries)]
            out.append((kind, {"name": name, "query": text}))
        else:
            iri = rng.choice(enterprises)
            out.append((kind, {"path": "/id/" + iri.split("/id/", 1)[1], "accept": rng.choice(DOC_TYPES)}))
    return out


class Recorder:
    """Collect latencies and errors from all clients."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter = Counter()
        self.examples: list[str] = []
        self.done = 0

    def record(self, kind: str, elapsed: float, problem: str | None = None) -> None:
        with self.lock:
            self.done += 1
            if problem is None:
                self.latencies[kind].append(elapsed)
            else:
                self.errors[f"{kind}: {problem.split(':', 1)[0]}"] += 1
                if len(self.examples) < 20:
                    self.examples.append(f"{kind}: {problem}"[:300])


def perform(session: requests.Session, url: str, kind: str, item: dict) -> str | None:
    """Make one request of the plan; return None when the answer is right, else what was wrong."""
    if kind == "portal":
        response = session.get(url + "/", params=item["params"], headers={"Accept": "text/html"}, timeout=120)
    elif kind == "export":
        response = session.get(url + "/directory.json", params=item["params"], timeout=120)
        if response.status_code == 200 and "enterprises" not in response.json():
            return "200: no enterprises in the export"
    elif kind == "sparql":
        accept = "application/n-triples" if "DESCRIBE" in item["query"] else "application/sparql-results+json"
        response = session.post(url + "/sparql", data=item["query"].encode(), timeout=120,
                                headers={"Content-Type": "application/sparql-query", "Accept": accept})
    else:
        first = session.get(url + item["path"], allow_redirects=False, timeout=120)
        if first.status_code != 303 or not first.headers.get("Location", "").startswith("/doc/"):
            return f"{first.status_code}: /id/ did not answer 303 to /doc/ ({first.headers.get('Location')})"
        response = session.get(url + first.headers["Location"], headers={"Accept": item["accept"]}, timeout=120)
        if response.status_code == 200 and not response.headers["Content-Type"].startswith(item["accept"]):
            return f"200: asked {item['accept']}, got {response.headers['Content-Type']}"
    if response.status_code != 200:
        return f"{response.status_code}: {response.text[:200]}"
    return None


def run_clients(url: str, work: list, clients: int, duration: float, recorder: Recorder) -> float:
    """Run `clients` threads over the plan until it is used up or `duration` seconds pass; return the wall time."""
    position = iter(range(len(work)))
    take = threading.Lock()
    deadline = time.monotonic() + duration

    def client():
        session = requests.Session()
        while time.monotonic() < deadline:
            with take:
                index = next(position, None)
            if index is None:
                return
            kind, item = work[index]
            start = time.perf_counter()
            try:
                problem = perform(session, url, kind, item)
            except requests.RequestException as exc:
                problem = f"{type(exc).__name__}: {exc}"
            recorder.record(kind, time.perf_counter() - start, problem)

    threads = [threading.Thread(target=client, name=f"client-{i}") for i in range(clients)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - start


def wait_until_ready(url: str, server: subprocess.Popen, limit: float = 3600) -> float:
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped with exit code {server.returncode}")
        try:
            if requests.get(url + "/health", timeout=30).json().get("portal_index") == "fresh":
                return time.monotonic() - start
        except (requests.ConnectionError, ValueError):
            pass
        time.sleep(1)
    raise SystemExit("the portal index was not built in time")


def check_memory(samples: list[dict], *, max_rss_mb: float, max_growth_mb: float, warmup: float) -> dict:
    """Compare the total RSS (server + workers) with the stated bounds: a ceiling, and growth after the warm-up."""
    totals = [(s["t"], (s["server_mb"] or 0.0) + s["workers_mb"]) for s in samples]
    if not totals:
        return {"ok": False, "reason": "no memory samples"}
    peak = max(total for _, total in totals)
    after = next((total for t, total in totals if t >= warmup), totals[0][1])
    growth = round(totals[-1][1] - after, 1)
    return {"max_rss_mb": max_rss_mb, "max_growth_mb": max_growth_mb, "warmup_s": warmup,
            "total_start_mb": round(totals[0][1], 1), "total_after_warmup_mb": round(after, 1),
            "total_peak_mb": round(peak, 1), "total_end_mb": round(totals[-1][1], 1), "growth_after_warmup_mb": growth,
            "ok": peak <= max_rss_mb and growth <= max_growth_mb}


def summarise(recorder: Recorder, sampler: MemorySampler, wall: float) -> dict:
    def stats(values: list[float]) -> dict:
        return {"count": len(values), "p50_ms": round(statistics.median(values) * 1000, 1),
                "p90_ms": round(percentile(values, 0.90) * 1000, 1), "p95_ms": round(percentile(values, 0.95) * 1000, 1),
                "p99_ms": round(percentile(values, 0.99) * 1000, 1), "max_ms": round(max(values) * 1000, 1)}

    everything = [v for values in recorder.latencies.values() for v in values]
    samples = sampler.samples
    memory = {}
    for key in ("server_mb", "workers_mb", "largest_worker_mb"):
        series = [s[key] for s in samples if s[key] is not None]
        if series:
            memory[key] = {"start": series[0], "peak": max(series), "end": series[-1]}
    initial_workers = samples[0]["worker_count"] if samples else 0
    return {
        "requests": recorder.done, "errors": sum(recorder.errors.values()), "wall_s": round(wall, 1),
        "throughput_per_s": round(recorder.done / wall, 2) if wall else 0.0,
        "latency": {"all": stats(everything)} | {k: stats(v) for k, v in sorted(recorder.latencies.items())}
        if everything else {},
        "errors_by_kind": dict(recorder.errors), "error_examples": recorder.examples,
        "memory": memory, "worker_processes_seen": len(sampler.workers_seen),
        "worker_restarts": max(0, len(sampler.workers_seen) - initial_workers), "memory_samples": samples,
    }


def to_markdown(report: dict) -> str:
    m, r, s = report["machine"], report["results"], report["settings"]
    lines = [f"# Load test, {s['size']} synthetic enterprises, {s['duration_s']} s, {s['clients']} clients", "",
             f"{m['date']}, {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, Python {m['python']}. "
             f"Loopback; server `sekg serve` with {s['workers']} query workers and {s['threads']} threads; "
             f"mix by weight {s['weights']}; budget {s['max_requests']} requests.",
             f"Machine load average (1 min) at start {report['load_average']['start']}, at end "
             f"{report['load_average']['end']} (other work on this shared machine ran at the same time when it "
             f"exceeds the clients' share).", "",
             f"**{r['requests']} requests in {r['wall_s']} s ({r['throughput_per_s']}/s), {r['errors']} errors, "
             f"{r['worker_restarts']} worker restarts.**", "",
             "| kind | count | p50 | p90 | p95 | p99 | max |", "|---|---|---|---|---|---|---|"]
    for kind, x in r["latency"].items():
        lines.append(f"| {kind} | {x['count']} | {x['p50_ms']} ms | {x['p90_ms']} ms | {x['p95_ms']} ms | "
                     f"{x['p99_ms']} ms | {x['max_ms']} ms |")
    bound = r["memory_bound"]
    lines += ["", f"**Memory bound {'kept' if bound['ok'] else 'BROKEN'}**: server + workers at most "
                  f"{bound['max_rss_mb']} MB (peak {bound['total_peak_mb']} MB), and at most {bound['max_growth_mb']} MB "
                  f"growth after the {bound['warmup_s']:g} s warm-up ({bound['total_after_warmup_mb']} → "
                  f"{bound['total_end_mb']} MB: {bound['growth_after_warmup_mb']:+} MB)."]
    lines += ["", "| memory (RSS) | start | peak | end |", "|---|---|---|---|"]
    for key, x in r["memory"].items():
        lines.append(f"| {key.replace('_mb', '').replace('_', ' ')} | {x['start']} MB | {x['peak']} MB | {x['end']} MB |")
    samples = r["memory_samples"]
    if samples:
        step = max(1, len(samples) // 10)
        lines += ["", "Memory over time: " + ", ".join(
            f"{x['t']} s: {x['server_mb']} + {x['workers_mb']} MB" for x in samples[::step]) + "."]
    if r["errors"]:
        lines += ["", "## Errors", ""] + [f"- {kind}: {n}" for kind, n in r["errors_by_kind"].items()]
        lines += ["", "First messages:", ""] + [f"- `{e}`" for e in r["error_examples"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="bounded load test of portal, SPARQL and dereferencing traffic")
    parser.add_argument("--size", type=int, default=10_000, help="synthetic enterprises in the store")
    parser.add_argument("--duration", type=float, default=600, help="seconds of traffic (default: 10 minutes)")
    parser.add_argument("--requests", type=int, default=200_000, help="most requests to make")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=4, help="query worker processes of the server")
    parser.add_argument("--threads", type=int, default=16, help="request threads of the server")
    parser.add_argument("--sample-every", type=float, default=2.0, help="seconds between memory samples")
    parser.add_argument("--max-rss-mb", type=float, default=2048, help="bound on server + workers RSS (MB)")
    parser.add_argument("--max-growth-mb", type=float, default=256,
                        help="bound on RSS growth from the end of the warm-up to the end (MB)")
    parser.add_argument("--warmup", type=float, default=60, help="seconds before growth is measured")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.requests <= 0 or args.clients <= 0:
        parser.error("--duration, --requests and --clients must be positive")

    store, timings = prepare_store(args.size, args.seed)
    port = free_port()
    env = {**os.environ, "SEKG_LOAD_SHIPPED": "false", "SEKG_LOG_LEVEL": "WARNING", "SEKG_QUERY_WORKERS": str(args.workers),
           "SEKG_THREADS": str(args.threads), "SEKG_RATE_LIMIT": "0"}
    server = subprocess.Popen([str(Path(sys.executable).parent / "sekg"), "serve", "--store", str(store), "--host", HOST,
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
    url = f"http://{HOST}:{port}"
    load_start = round(os.getloadavg()[0], 2)
    settings = {"size": args.size, "duration_s": args.duration, "max_requests": args.requests, "clients": args.clients,
                "workers": args.workers, "threads": args.threads, "weights": WEIGHTS, "seed": args.seed}
    try:
        timings["ready_s"] = round(wait_until_ready(url, server), 1)
        enterprises = sample_enterprises(url + "/sparql", 500)
        projects = sample_projects(url + "/sparql")
        work = plan(args.requests, args.seed, enterprises, projects)
        sampler = MemorySampler(server.pid, args.sample_every)
        sampler.start()
        recorder = Recorder()
        wall = run_clients(url, work, args.clients, args.duration, recorder)
        sampler.stop.set()
        sampler.join()
        sampler.sample()
        results = summarise(recorder, sampler, wall)
        results["memory_bound"] = check_memory(sampler.samples, max_rss_mb=args.max_rss_mb,
                                                max_growth_mb=args.max_growth_mb, warmup=min(args.warmup, wall / 2))
        results["server_alive"] = server.poll() is None and requests.get(url + "/health", timeout=60).status_code == 200
    finally:
        server.terminate()
        server.wait(60)
    report = {"machine": machine(), "settings": settings, "timings": timings, "results": results,
              "load_average": {"start": load_start, "end": round(os.getloadavg()[0], 2)}}
    RESULTS.mkdir(exist_ok=True)
    stem = f"{report['machine']['date']}-load"
    (RESULTS / f"{stem}.json").write_text(json.dumps(report, indent=2))
    (RESULTS / f"{stem}.md").write_text(to_markdown(report))
    print(to_markdown(report))
    if results["errors"] or not results["server_alive"] or not results["memory_bound"]["ok"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
