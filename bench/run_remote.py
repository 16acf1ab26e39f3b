"""Benchmark the service on its embedded store against the same service on Virtuoso (run by hand).

    .venv/bin/python bench/run_remote.py --size 100000 --rounds 5

It generates SYNTHETIC enterprises (bench/synthetic.py), loads them with the shipped ontology,
vocabularies and data into a fresh embedded store (`load`), dumps that store as N-Quads and
bulk-loads the dump into a throwaway Virtuoso (tests/triplestores.py, isql-vt `ld_add` +
`rdf_loader_run`), then serves each with `sekg serve` (SEKG_STORE=sparql for Virtuoso), runs the
directory query mix of bench/sparql_mix/ through the service's /sparql at concurrency 1 and 4
(and, for reference, straight against Virtuoso's own /sparql), checks that the two services
give the same answers, and writes load time, p50/p95, throughput and memory side by side to
bench/results/YYYY-MM-DD-remote-SIZE.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
WORK = HERE / "work"
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(PROJECT / "service"))
sys.path.insert(0, str(PROJECT / "tests"))

import run_sparql  # noqa: E402
import synthetic  # noqa: E402
from run_sparql import (free_port, instances, machine, percentile, rss_mb, same_answer,  # noqa: E402
                        sample_enterprises, sample_projects)
from triplestores import VirtuosoServer  # noqa: E402

DEFAULT_GRAPH = "urn:x-sekg:default-graph"  # the remote store's stand-in for the default graph (datasets.py)
READY_SECONDS = 1800


def load_embedded(size: int, seed: int, folder: Path) -> tuple[Path, dict]:
    """Generate the data if needed and load it with the shipped files into a fresh embedded store."""
    from sekg.loader import FileToLoad, load_files, shipped_to_load
    from sekg.store.embedded import EmbeddedStore

    WORK.mkdir(exist_ok=True)
    data = WORK / f"synthetic-{size}.nq"
    timings = {}
    if not data.exists():
        start = time.monotonic()
        with open(data, "w", encoding="utf-8") as handle:
            synthetic.generate(size, handle, seed=seed)
        timings["generate_s"] = round(time.monotonic() - start, 1)
    if folder.exists():
        shutil.rmtree(folder)
    start = time.monotonic()
    store = EmbeddedStore(path=folder, workers=0).open()
    try:
        load_files(store, shipped_to_load() + [FileToLoad(data, None)], validate_first=False)
        timings["embedded_load_s"] = round(time.monotonic() - start, 1)
        dump = WORK / f"remote-dump-{size}.nq"
        start = time.monotonic()
        with open(dump, "wb") as handle:
            timings["quads"] = store.dump(handle, "application/n-quads")
        timings["dump_s"] = round(time.monotonic() - start, 1)
    finally:
        store.close()
    return dump, timings


def serve(env: dict, args: list[str], wait_index: bool = True) -> tuple[subprocess.Popen, str]:
    """Start `sekg serve` and wait until /health says ok and (unless told not to) the directory index is built."""
    port = free_port()
    env = {**os.environ, "SEKG_QUERY_WORKERS": "2", "SEKG_QUERY_THREADS": "4", "SEKG_QUERY_TIMEOUT": "300", "SEKG_MAX_RESULT_ROWS": "10000000",
           "SEKG_LOAD_SHIPPED": "false", "SEKG_LOG_LEVEL": "WARNING", **env}
    process = subprocess.Popen([str(Path(sys.executable).parent / "sekg"), "serve", *args, "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_SECONDS
    while True:
        if process.poll() is not None:
            raise SystemExit(f"sekg serve {args} exited with {process.returncode}")
        try:
            health = requests.get(url + "/health", timeout=30)
            if health.status_code == 200 and (not wait_index or health.json().get("portal_index", "fresh") == "fresh"):
                return process, url
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            process.terminate()
            raise SystemExit(f"{url} was not ready after {READY_SECONDS} s")
        time.sleep(1)


def ask(url: str, text: str) -> tuple[float, int, bytes, str]:
    """Send one query as a form POST (Virtuoso never answers a direct application/sparql-query POST)."""
    accept = "application/n-triples" if "DESCRIBE" in text else "application/sparql-results+json"
    start = time.perf_counter()
    response = requests.post(url, data={"query": text}, timeout=600, headers={"Accept": accept})
    return time.perf_counter() - start, response.status_code, response.content, accept


def run_mix(url: str, work: list[tuple[str, str]], concurrency: int):
    """Run the mix at a concurrency with form POSTs; see run_sparql.run_mix."""
    return run_sparql.run_mix(url, work, concurrency, send=ask)


def difference(a: bytes, b: bytes, accept: str) -> str | None:
    """Say how two answers differ: None, "order" (same rows, order not fixed by the query's ORDER BY), or "content"."""
    if same_answer(a, b, accept):
        return None
    if accept == "application/n-triples":
        return "content"  # graphs are compared as graphs already
    left, right = json.loads(a)["results"]["bindings"], json.loads(b)["results"]["bindings"]
    canonical = lambda rows: sorted(json.dumps(row, sort_keys=True) for row in rows)  # noqa: E731
    return "order" if canonical(left) == canonical(right) else "content"


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def figures(latencies: dict, rate: float) -> dict:
    return {"throughput": round(rate, 2), "queries": {name: {
        "p50_ms": round(statistics.median(values) * 1000, 1),
        "p95_ms": round(percentile(values, 0.95) * 1000, 1)} for name, values in sorted(latencies.items())}}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="the service on its embedded store and on Virtuoso, side by side")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--buffers", type=int, default=340_000, help="Virtuoso NumberOfBuffers (8 kB pages)")
    parser.add_argument("--note", default="", help="a remark written into the result (e.g. concurrent load)")
    parser.add_argument("--skip-directory-index", action="store_true",
                        help="serve with SEKG_PORTAL_INDEX_AT_START=false and do not wait for the directory index "
                             "(the SPARQL mix does not use it; at 1M it takes hours on Virtuoso)")
    args = parser.parse_args(argv)

    store_dir = WORK / f"remote-embedded-{args.size}"
    dump, timings = load_embedded(args.size, args.seed, store_dir)
    report = {"machine": machine(), "size": args.size, "rounds": args.rounds, "note": args.note,
              "directory_index": "skipped" if args.skip_directory_index else "built before the mix",
              "timings": timings, "runs": {}, "memory_mb": {}}
    virtuoso = VirtuosoServer(number_of_buffers=args.buffers, max_dirty_buffers=args.buffers * 3 // 4,
                              result_set_max_rows=10_000_000, max_query_execution_time=600,
                              # Virtuoso refuses a query whose *estimated* cost passes this; its estimate for
                              # project_partners is 1255 s (the query takes milliseconds): effectively off
                              max_query_cost_estimation_time=10_000_000, load_dirs=(WORK,), startup_timeout=120)
    processes = []
    try:
        virtuoso.start()
        start = time.monotonic()
        virtuoso.bulk_load(dump, graph=DEFAULT_GRAPH)
        timings["virtuoso_load_s"] = round(time.monotonic() - start, 1)
        print("timings so far:", timings, flush=True)

        start = time.monotonic()
        index_env = {"SEKG_PORTAL_INDEX_AT_START": "false"} if args.skip_directory_index else {}
        wait_index = not args.skip_directory_index
        embedded, embedded_url = serve({"SEKG_STATE_DIR": str(WORK / f"remote-embedded-state-{args.size}"),
                                        **index_env}, ["--store", str(store_dir)], wait_index)
        processes.append(embedded)
        timings["embedded_ready_s"] = round(time.monotonic() - start, 1)
        start = time.monotonic()
        remote, remote_url = serve({
            "SEKG_STORE": "sparql", "SEKG_REMOTE_DIALECT": "virtuoso",
            "SEKG_REMOTE_QUERY_URL": virtuoso.query_url, "SEKG_REMOTE_UPDATE_URL": virtuoso.update_url,
            "SEKG_REMOTE_GSP_URL": virtuoso.gsp_url, "SEKG_REMOTE_USER": virtuoso.user,
            "SEKG_REMOTE_PASSWORD": virtuoso.password,
            "SEKG_STATE_DIR": str(WORK / f"remote-virtuoso-state-{args.size}"), **index_env}, [], wait_index)
        processes.append(remote)
        timings["virtuoso_service_ready_s"] = round(time.monotonic() - start, 1)
        print("timings so far:", timings, flush=True)

        endpoints = {"embedded": embedded_url + "/sparql", "virtuoso": remote_url + "/sparql",
                     "virtuoso_direct": virtuoso.query_url}
        enterprises = sample_enterprises(endpoints["embedded"], 500)
        projects = sample_projects(endpoints["embedded"])
        work = instances(args.rounds, args.seed, enterprises, projects)
        for url in endpoints.values():
            run_mix(url, work[: len(work) // args.rounds], 1)  # warm-up
        mismatches = 0
        for concurrency in (1, 4):
            run = {}
            answers = {}
            for name, url in endpoints.items():
                latencies, answers[name], rate = run_mix(url, work, concurrency)
                run[name] = figures(latencies, rate)
            kinds = {}
            for (name, _), a, b in zip(work, answers["embedded"], answers["virtuoso"]):
                kind = difference(a[0], b[0], a[1])
                if kind:
                    kinds.setdefault(kind, []).append(name)
                    if kind == "content":  # keep one example of each real disagreement to look at
                        report.setdefault("content_examples", {}).setdefault(name, [a[0].decode()[:2000],
                                                                                   b[0].decode()[:2000]])
            mismatches += sum(len(names) for names in kinds.values())
            report.setdefault("mismatched_queries", {})[str(concurrency)] = {
                kind: sorted(set(names)) for kind, names in kinds.items()}
            report["runs"][str(concurrency)] = run
            print(f"concurrency {concurrency}:", json.dumps(run), flush=True)
        report["answer_mismatches"] = mismatches
        report["memory_mb"] = {"embedded_service": rss_mb(embedded.pid), "virtuoso_service": rss_mb(remote.pid),
                               "virtuoso_t": rss_mb(virtuoso.process.pid)}
    finally:
        for process in processes:
            stop(process)
        virtuoso.stop()
        for folder in (WORK / f"remote-embedded-state-{args.size}", WORK / f"remote-virtuoso-state-{args.size}"):
            shutil.rmtree(folder, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    stem = f"{report['machine']['date']}-remote-{args.size}"
    (RESULTS / f"{stem}.json").write_text(json.dumps(report, indent=2))
    (RESULTS / f"{stem}.md").write_text(to_markdown(report))
    print(to_markdown(report))


def mismatch_summary(report: dict) -> str:
    parts = []
    for concurrency, kinds in report.get("mismatched_queries", {}).items():
        if isinstance(kinds, dict):
            parts += [f"{kind} at {concurrency} client(s): {', '.join(names)}" for kind, names in kinds.items()]
    return "; ".join(parts) or "none"


def to_markdown(report: dict) -> str:
    m, t, mem = report["machine"], report["timings"], report["memory_mb"]
    lines = [f"# The service on its embedded store and on Virtuoso, {report['size']} synthetic enterprises", "",
             f"{m['date']}, {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, Python {m['python']}; "
             "Virtuoso Open Source 7.2 (Debian package), on the same machine, loopback.",
             f"`bench/run_remote.py --size {report['size']} --rounds {report['rounds']}`: mix of bench/sparql_mix/ × "
             f"{report['rounds']} rounds through each service's /sparql; answers of the two services compared: "
             f"{report.get('answer_mismatches', '?')} mismatches: {mismatch_summary(report)}.", ""]
    if report.get("note"):
        lines += [f"Note: {report['note']}", ""]
    lines += ["| | embedded | Virtuoso |", "|---|---|---|",
              f"| quads | {t.get('quads')} | {t.get('quads')} |",
              f"| load | {t.get('embedded_load_s')} s (`sekg load` path) | {t.get('virtuoso_load_s')} s "
              f"(isql `ld_add` + `rdf_loader_run` of the N-Quads dump, made in {t.get('dump_s')} s) |",
              f"| service ready (health ok, directory index {report.get('directory_index', 'built')}) | "
              f"{t.get('embedded_ready_s')} s | "
              f"{t.get('virtuoso_service_ready_s')} s |",
              f"| memory (RSS) after the mix | service {mem.get('embedded_service')} MB | service "
              f"{mem.get('virtuoso_service')} MB + virtuoso-t {mem.get('virtuoso_t')} MB |", ""]
    for concurrency, run in report["runs"].items():
        e, v, d = run["embedded"], run["virtuoso"], run["virtuoso_direct"]
        lines += [f"## Concurrency {concurrency}", "",
                  f"Throughput: embedded {e['throughput']} q/s, on Virtuoso {v['throughput']} q/s "
                  f"(Virtuoso's own /sparql, no service: {d['throughput']} q/s)", "",
                  "| query | p50 embedded | p50 Virtuoso | p95 embedded | p95 Virtuoso | p50 Virtuoso direct |",
                  "|---|---|---|---|---|---|"]
        for name in e["queries"]:
            qe, qv, qd = e["queries"][name], v["queries"][name], d["queries"][name]
            lines.append(f"| {name} | {qe['p50_ms']} ms | {qv['p50_ms']} ms | {qe['p95_ms']} ms | {qv['p95_ms']} ms "
                         f"| {qd['p50_ms']} ms |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
