"""Soak test of ``spacy biobert serve``: many requests of words the server has never seen; does its memory level off?

Every request holds one short document: a fixed sentence plus ``--fresh-words`` random words never sent before
(each new word would stay in the vocabulary for good without ``nlp.memory_zone()``). ``--clients`` concurrent
clients send ``--requests`` requests (or stop after ``--max-seconds``; the run then counts those sent); the RSS
of the server's process tree is sampled every ``--sample-every`` completed requests. "Growth after warm-up" is the
last sample minus the first sample at or after ``--warmup`` requests. Results go to
``bench/results/server_soak.json`` (one entry per model label and settings) and the ``## Server soak`` section of
BENCHMARKS.md. The server is started as in ``bench/bench_server.py``, on loopback.

    python bench/bench_soak.py --model training/e2e --requests 10000

The shipped pipeline answers about 11 of these requests a second on 2 quiet CPU cores: 10,000 requests take about
15 minutes (several times that on cores shared with other jobs).
"""
import argparse
import asyncio
import json
import os
import random
import string
import sys
import time
from typing import Dict, List

import httpx
from bench_server import percentile, serving, tree_rss_mib
from common import ROOT, SHIPPED, keep_run, machine, utc_now, write_section

RESULTS = ROOT / "bench" / "results" / "server_soak.json"
TITLE = "## Server soak"
SENTENCE = "Cisplatin-induced nephrotoxicity was observed in two patients ."


def fresh_text(rng: random.Random, words: int) -> str:
    """The sentence plus ``words`` random lower-case words of 10 letters (practically never repeated)."""
    return SENTENCE + " " + " ".join("".join(rng.choices(string.ascii_lowercase, k=10)) for _ in range(words))


async def soak(base: str, pid: int, args: argparse.Namespace) -> Dict:
    rng = random.Random(0)
    samples: List[List[float]] = [[0, round(tree_rss_mib(pid), 1)]]
    latencies: List[float] = []
    errors: Dict[str, int] = {}
    counter = iter(range(args.requests))
    done = {"n": 0}
    deadline = time.perf_counter() + args.max_seconds

    async def client(http: httpx.AsyncClient) -> None:
        for _ in counter:
            if time.perf_counter() > deadline:
                return
            body = {"documents": [{"id": "0", "text": fresh_text(rng, args.fresh_words)}]}
            start = time.perf_counter()
            try:
                res = await http.post(f"{base}/v1/annotate", json=body)
                if res.status_code == 200:
                    latencies.append(time.perf_counter() - start)
                else:
                    errors[str(res.status_code)] = errors.get(str(res.status_code), 0) + 1
            except httpx.HTTPError as err:
                errors[type(err).__name__] = errors.get(type(err).__name__, 0) + 1
            done["n"] += 1
            if done["n"] % args.sample_every == 0:
                samples.append([done["n"], round(tree_rss_mib(pid), 1)])

    start = time.perf_counter()
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        await asyncio.gather(*(client(http) for _ in range(args.clients)))
    if samples[-1][0] != done["n"]:  # stopped at --max-seconds between two samples
        samples.append([done["n"], round(tree_rss_mib(pid), 1)])
    return {"samples": samples, "latencies": latencies, "errors": errors, "wall": time.perf_counter() - start}


def summarise(measured: Dict, args: argparse.Namespace) -> Dict:
    samples = measured["samples"]
    after = after_warmup(samples, args.warmup) or [samples[-1][1]]
    return {
        "model": args.label or args.model, "requests": samples[-1][0], "clients": args.clients,
        "fresh_words_per_request": args.fresh_words, "ok": len(measured["latencies"]), "errors": measured["errors"],
        "wall_s": round(measured["wall"], 1), "p50_ms": round(1000 * percentile(measured["latencies"], 50), 1),
        "rss_start_mib": samples[0][1], "warmup_requests": args.warmup, "rss_after_warmup_mib": after[0],
        "rss_end_mib": samples[-1][1], "rss_max_after_warmup_mib": max(after),
        "growth_after_warmup_mib": round(samples[-1][1] - after[0], 1), "rss_samples": samples,
        "date": utc_now(), "machine": machine(), "command": "python bench/bench_soak.py " + " ".join(sys.argv[1:]),
    }


def section(runs: List[Dict]) -> str:
    rows = [f"| `{r['model']}` | {r['requests']:,} | {r['fresh_words_per_request']} | {r['clients']} | {r['ok']:,} | "
            f"{sum(r['errors'].values())} | {r['rss_start_mib']:.0f} | {r['rss_after_warmup_mib']:.0f} "
            f"(after {r['warmup_requests']:,}) | {r['rss_end_mib']:.0f} | {r['growth_after_warmup_mib']:+.1f} | "
            f"{after_warmup_range(r)} | {r['date']} |" for r in runs]
    return "\n".join([
        TITLE, "",
        "Command: `python bench/bench_soak.py --model MODEL --requests N --fresh-words W` (exact commands and every "
        "RSS sample in `bench/results/server_soak.json`). One document per request: a fixed sentence plus W random "
        "words never sent before; RSS is the server's process tree, sampled as requests complete. Each request runs "
        "in `nlp.memory_zone()`, so the words it added leave the vocabulary again, and then gives the heap memory it "
        "freed back to the operating system.", "",
        "| model | requests | fresh words/request | clients | ok | errors | RSS MiB at start | RSS MiB after warm-up "
        "| RSS MiB at end | growth after warm-up MiB | RSS MiB range after warm-up | date |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |", *rows, ""])


def after_warmup(samples: List[List[float]], warmup: int) -> List[float]:
    """The RSS samples taken at or after ``warmup`` requests."""
    return [rss for n, rss in samples if n >= warmup]


def after_warmup_range(run: Dict) -> str:
    """Lowest and highest RSS sample at or after the warm-up."""
    after = after_warmup(run["rss_samples"], run["warmup_requests"])
    return f"{min(after):.1f}–{max(after):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=SHIPPED, help=f"pipeline folder (default: {SHIPPED}, the shipped one)")
    parser.add_argument("--label", default=None, help="the model's name in the results (default: --model)")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--fresh-words", type=int, default=20, help="never-seen words per request")
    parser.add_argument("--sample-every", type=int, default=500, help="sample RSS every N completed requests")
    parser.add_argument("--warmup", type=int, default=1000, help="requests before growth is counted")
    parser.add_argument("--max-seconds", type=float, default=float("inf"),
                        help="stop sending after this many seconds; the run is kept with the requests it sent")
    parser.add_argument("--ready-timeout", type=float, default=900,
                        help="seconds to wait for the server to load (a loaded machine can take minutes)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave results and BENCHMARKS.md")
    args = parser.parse_args()
    log = ROOT / "bench" / "runs" / "server_soak.log"
    with serving(args.model, 1, log, args.ready_timeout) as (base, proc, _):
        measured = asyncio.run(soak(base, proc.pid, args))
    result = summarise(measured, args)
    print(json.dumps({k: v for k, v in result.items() if k != "rss_samples"}, indent=1))
    if args.no_write:
        return
    runs = keep_run(RESULTS, result, ("model", "requests", "fresh_words_per_request", "clients"))
    write_section(ROOT / "BENCHMARKS.md", section(runs), TITLE)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
