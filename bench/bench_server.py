"""Load test of ``spacy biobert serve`` on loopback: N concurrent clients, a bounded number of requests.

Starts the server as its own process (``python -m spacy biobert serve MODEL --port P --workers W``) on
127.0.0.1, waits for ``/readyz``, then C asyncio clients (httpx) send ``--requests`` ``POST /v1/annotate``
requests (each ``--docs`` CDR dev abstracts, cycling) and stop after ``--max-seconds`` whatever the count.
Reports throughput, p50/p95/p99 latency, errors (any non-200 or transport error) and the RSS of the server's
process tree after loading and after the load. Each run is kept in ``bench/results/server.json`` (keyed by
model, workers, clients, docs) and the ``## Server`` section of BENCHMARKS.md is rewritten from all runs.
Only loopback is ever contacted.

    python bench/bench_server.py --model training/e2e --requests 2000 --clients 8
"""
import argparse
import asyncio
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import httpx
from common import ROOT, SHIPPED, keep_run, machine, utc_now, write_section

RESULTS = ROOT / "bench" / "results" / "server.json"


def abstracts(path: Path, limit: int = 200) -> List[str]:
    """Title + abstract of the first ``limit`` documents of a PubTator file."""
    texts, title = [], ""
    with gzip.open(path, "rt", encoding="utf8") as handle:
        for line in handle:
            if "|t|" in line[:20]:
                title = line.split("|t|", 1)[1].rstrip("\n")
            elif "|a|" in line[:20]:
                texts.append(title + " " + line.split("|a|", 1)[1].rstrip("\n"))
                if len(texts) >= limit:
                    break
    return texts


def tree_rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MiB (from /proc)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total / 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def load(base: str, texts: List[str], args: argparse.Namespace) -> Dict:
    """Send the requests with ``args.clients`` concurrent clients; return latencies, errors and wall time."""
    latencies: List[float] = []
    errors: Dict[str, int] = {}
    counter = iter(range(args.requests))
    deadline = time.perf_counter() + args.max_seconds
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)

    async def client(http: httpx.AsyncClient) -> None:
        for i in counter:
            if time.perf_counter() > deadline:
                return
            docs = [{"id": str(k), "text": texts[(i * args.docs + k) % len(texts)]} for k in range(args.docs)]
            start = time.perf_counter()
            try:
                res = await http.post(f"{base}/v1/annotate", json={"documents": docs})
                if res.status_code == 200 and len(res.json()["records"]) == args.docs:
                    latencies.append(time.perf_counter() - start)
                else:
                    errors[str(res.status_code)] = errors.get(str(res.status_code), 0) + 1
            except httpx.HTTPError as err:
                errors[type(err).__name__] = errors.get(type(err).__name__, 0) + 1

    start = time.perf_counter()
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        await asyncio.gather(*(client(http) for _ in range(args.clients)))
    return {"latencies": latencies, "errors": errors, "wall": time.perf_counter() - start}


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 300) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return time.perf_counter() - start
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the server did not become ready")


@contextmanager
def serving(model: str, workers: int = 1, log_path: Path = ROOT / "bench" / "results" / "server_run.log",
            ready_timeout: float = 300) -> Iterator[Tuple[str, subprocess.Popen, float]]:
    """``spacy biobert serve MODEL`` on a free loopback port: (base URL, process, seconds until ready, at most
    ``ready_timeout``); stopped (SIGINT, then kill) on exit. Its output goes to ``log_path``."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "spacy", "biobert", "serve", model, "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--log-level", "warning"]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "w", encoding="utf8")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        ready_s = wait_ready(base, proc, ready_timeout)
        time.sleep(2)  # let every worker finish its warm-up
        yield base, proc, ready_s
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def run(args: argparse.Namespace) -> Dict:
    texts = abstracts(ROOT / "assets" / "cdr" / "dev.pubtator.gz")
    with serving(args.model, args.workers) as (base, proc, ready_s):
        rss_before = tree_rss_mib(proc.pid)
        measured = asyncio.run(load(base, texts, args))
        rss_after = tree_rss_mib(proc.pid)
    lat = measured["latencies"]
    ok = len(lat)
    return {
        "model": args.model, "workers": args.workers, "clients": args.clients, "docs_per_request": args.docs,
        "requests_sent": ok + sum(measured["errors"].values()), "ok": ok, "errors": measured["errors"],
        "wall_s": round(measured["wall"], 2), "requests_per_s": round(ok / measured["wall"], 2),
        "docs_per_s": round(ok * args.docs / measured["wall"], 2),
        "p50_ms": round(1000 * percentile(lat, 50), 1), "p95_ms": round(1000 * percentile(lat, 95), 1),
        "p99_ms": round(1000 * percentile(lat, 99), 1), "max_ms": round(1000 * max(lat, default=float("nan")), 1),
        "ready_s": round(ready_s, 1), "rss_before_mib": round(rss_before, 1), "rss_after_mib": round(rss_after, 1),
        "mean_chars_per_doc": round(sum(map(len, texts)) / len(texts)), "date": utc_now(), "machine": machine(),
        "command": "python bench/bench_server.py " + " ".join(sys.argv[1:]),
    }


def section(runs: List[Dict]) -> str:
    m = runs[-1]["machine"]
    rows = [
        f"| `{r['model']}` | {r['workers']} | {r['clients']} | {r['docs_per_request']} | {r['ok']} | "
        f"{sum(r['errors'].values())} | {r['requests_per_s']} | {r['docs_per_s']} | {r['p50_ms']} | {r['p95_ms']} | "
        f"{r['p99_ms']} | {r['rss_before_mib']:.0f} → {r['rss_after_mib']:.0f} | {r['date']} |"
        for r in runs
    ]
    return "\n".join([
        "## Server",
        "",
        f"Command: `python bench/bench_server.py --model MODEL --workers W --clients C --docs D --requests N` "
        f"(one row per run; exact commands in `bench/results/server.json`). Machine: {m['nproc']} cores "
        f"({m['cpu']}), no GPU, shared by the server, its torch threads (cores / workers) and the load generator. "
        "The server runs as `spacy biobert serve` on 127.0.0.1; C asyncio httpx clients send `POST /v1/annotate` "
        f"with D CDR dev abstracts each (about {runs[-1]['mean_chars_per_doc']} characters per abstract), "
        "relations on (the model column names the pipeline). Latency is per request, client side; errors count every non-200 answer and transport "
        "error; RSS is the server's whole process tree (all workers) after loading and after the load.",
        "",
        "How to read it: each worker runs one request at a time on its inference thread, so with more clients "
        "than workers a request's latency is mostly waiting in line (about clients / requests-per-second); the "
        "server time per request is 1 / (requests/s). The server and the load generator share the machine's "
        "cores, so the figures are a floor for a dedicated server.",
        "",
        "| model | workers | clients | docs/request | requests ok | errors | requests/s | docs/s | p50 ms | p95 ms "
        "| p99 ms | RSS MiB before → after | date |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=SHIPPED, help=f"pipeline folder (default: {SHIPPED}, the shipped one)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--docs", type=int, default=1, help="documents per request")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--max-seconds", type=float, default=900, help="stop sending after this long")
    parser.add_argument("--no-write", action="store_true", help="print only; leave results and BENCHMARKS.md")
    args = parser.parse_args()
    result = run(args)
    print(json.dumps(result, indent=1))
    if args.no_write:
        return
    runs = keep_run(RESULTS, result, ("model", "workers", "clients", "docs_per_request"))
    write_section(ROOT / "BENCHMARKS.md", section(runs), "## Server")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
