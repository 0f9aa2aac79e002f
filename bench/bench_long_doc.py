"""Peak memory of one huge document through ``spacy biobert annotate``'s path (issue 25: bounded memory on any length).

A text of ``--mb`` million characters (CDR dev abstracts, paragraphs separated by blank lines, repeated) goes
through :func:`spacy_biobert.batch.local.pipe_records` -- the same code as ``spacy biobert annotate`` (a memory
zone, texts over ``--piece-chars`` characters split into pieces, annotated one at a time and re-joined) -- in a
fresh process. Reported: RSS after loading, peak RSS, their difference, time, pieces, entities; the record's text
must equal the input. Results are kept in ``bench/results/long_doc.json`` (one entry per model label, size and
piece budget) and the ``## Memory: one huge document`` section of BENCHMARKS.md.

    python bench/bench_long_doc.py --model training/e2e --mb 5
"""
import argparse
import json
import subprocess
import sys
import time
from typing import Dict

from bench_memory import peak_rss_mb
from bench_server import abstracts
from common import ROOT, SHIPPED, keep_run, machine, utc_now, write_section
from spacy_biobert.pipeline.long_docs import MAX_PIECE_CHARS

RESULTS = ROOT / "bench" / "results" / "long_doc.json"
TITLE = "## Memory: one huge document"


def huge_text(chars: int) -> str:
    paragraphs = abstracts(ROOT / "assets" / "cdr" / "dev.pubtator.gz")
    parts, size, i = [], 0, 0
    while size < chars:
        parts.append(paragraphs[i % len(paragraphs)])
        size += len(parts[-1]) + 2
        i += 1
    return "\n\n".join(parts)[:chars]


def measure(model: str, chars: int, piece_chars: int) -> Dict:
    """One run in this process (call it in a fresh one)."""
    import spacy_biobert.models.ner  # noqa: F401  (registered here too: an installed entry-point list may be stale)
    from spacy_biobert.corpus.documents import InputDoc
    from spacy_biobert.batch.local import pipe_records
    from spacy_biobert.pipeline.long_docs import split_points
    from spacy_biobert.pipeline.loading import load_pipeline

    nlp = load_pipeline(model)
    text = huge_text(chars)
    loaded = peak_rss_mb()
    start = time.perf_counter()
    (record,) = pipe_records(nlp, [InputDoc("huge", text, "bench")], max_chars=piece_chars)
    seconds, peak = time.perf_counter() - start, peak_rss_mb()
    assert record["text"] == text
    return {"chars": len(text), "pieces": len(split_points(text, piece_chars)) - 1, "entities": len(record["entities"]),
            "relations": len(record["relations"]), "seconds": round(seconds, 1), "rss_loaded_mb": round(loaded),
            "peak_rss_mb": round(peak), "extra_peak_mb": round(peak - loaded)}


def section(runs) -> str:
    m = runs[-1]["machine"]
    rows = [f"| `{r['model']}` | {r['chars']:,} | {r['piece_chars']:,} | {r['pieces']} | {r['entities']:,} | "
            f"{r['seconds']} | {r['rss_loaded_mb']:,} | {r['peak_rss_mb']:,} | {r['extra_peak_mb']:,} | {r['date']} |"
            for r in runs]
    return "\n".join([
        TITLE, "",
        f"Command: `python bench/bench_long_doc.py --model MODEL --mb N` (exact commands in "
        f"`bench/results/long_doc.json`). Machine: {m['nproc']} cores ({m['cpu']}), no GPU. One document of N million "
        "characters through `spacy biobert annotate`'s code in a fresh process; a text over the piece budget is "
        "annotated in pieces and re-joined. Extra peak = peak RSS − RSS after loading the pipeline.", "",
        "| model | characters | piece budget | pieces | entities | seconds | RSS loaded MB | peak RSS MB "
        "| extra peak MB | date |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |", *rows, ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=SHIPPED, help=f"pipeline folder (default: {SHIPPED}, the shipped one)")
    parser.add_argument("--label", default=None, help="the model's name in the results (default: --model)")
    parser.add_argument("--mb", type=float, default=5.0, help="document size in millions of characters")
    parser.add_argument("--piece-chars", type=int, default=MAX_PIECE_CHARS)
    parser.add_argument("--no-write", action="store_true", help="print only; leave results and BENCHMARKS.md")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    chars = int(args.mb * 1_000_000)
    if args.one:
        print(json.dumps(measure(args.model, chars, args.piece_chars)))
        return
    cmd = [sys.executable, __file__, "--one", "--model", args.model, "--mb", str(args.mb),
           "--piece-chars", str(args.piece_chars)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout.splitlines()[-1]
    result = {"model": args.label or args.model, "piece_chars": args.piece_chars, **json.loads(out),
              "date": utc_now(), "machine": machine(), "command": "python bench/bench_long_doc.py " + " ".join(sys.argv[1:])}
    print(json.dumps(result, indent=1))
    if args.no_write:
        return
    runs = keep_run(RESULTS, result, ("model", "chars", "piece_chars"))
    write_section(ROOT / "BENCHMARKS.md", section(runs), TITLE)


if __name__ == "__main__":
    main()
