"""Outputs of the Ray backend written *by the cluster*: a folder of shards, one per write task.

* ``jsonl-shards`` -- ``part-00000.jsonl``, ...: each line is the record exactly as the local backend's JSONL
  writer writes it (``json.dumps(record, ensure_ascii=False)``), so ``cat part-*.jsonl`` holds the local
  output's lines (shards are in input order when read in name order).
* ``parquet`` -- ``part-00000.parquet``, ...: one row per record with the explicit Arrow schema
  :func:`record_schema` (nested lists of structs, nulls kept), so ``to_pylist()`` gives back the record dicts.

Each write task returns its counts, skips and ids; the driver checks the accounting and that no id was written
twice (see :mod:`spacy_biobert.batch.ray_backend`).
"""
import json
from pathlib import Path
from typing import Any, Dict, Iterable, List

SHARD_FORMATS = ("jsonl-shards", "parquet")


def record_schema():
    """The Arrow schema of the record (:mod:`spacy_biobert.output.record`, version 2)."""
    import pyarrow as pa

    concept = pa.struct([("id", pa.string()), ("name", pa.string()), ("score", pa.float64())])
    entity = pa.struct([
        ("id", pa.string()), ("label", pa.string()), ("start", pa.int64()), ("end", pa.int64()),
        ("text", pa.string()), ("confidence", pa.float64()), ("concepts", pa.list_(concept)),
        ("candidates", pa.list_(concept)),
    ])
    section = pa.struct([("type", pa.string()), ("start", pa.int64()), ("end", pa.int64())])
    relation = [("head", pa.string()), ("tail", pa.string()), ("label", pa.string()), ("score", pa.float64())]
    names = [("head_name", pa.string()), ("tail_name", pa.string())]
    return pa.schema([
        ("schema", pa.string()), ("version", pa.int64()), ("id", pa.string()), ("text", pa.string()),
        ("sections", pa.list_(section)), ("entities", pa.list_(entity)), ("relations", pa.list_(pa.struct(relation))),
        ("concept_relations", pa.list_(pa.struct(relation + names))),
    ])


def shard_sink(folder: Path, fmt: str, skip_bad: bool):
    """A Ray ``Datasink`` writing annotated rows (:mod:`spacy_biobert.batch.ray_backend`) into ``folder``."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from ray.data.block import BlockAccessor
    from ray.data.datasource import Datasink

    from ..corpus.documents import BadInput

    class ShardSink(Datasink):
        def __init__(self) -> None:
            self.results: List[Dict[str, Any]] = []

        def write(self, blocks: Iterable[Any], ctx: Any) -> Dict[str, Any]:
            result: Dict[str, Any] = {"read": 0, "written": 0, "resumed": 0, "skipped": [], "ids": []}
            records = []
            for block in blocks:
                for r in BlockAccessor.for_block(block).to_arrow().to_pylist():
                    result["read"] += 1
                    if r["problem"] is not None:
                        if not skip_bad:
                            raise BadInput(r["where"], r["problem"])
                        result["skipped"].append((r["where"], r["problem"]))
                        continue
                    result["ids"].append((r["id"], r["where"]))
                    records.append(r["record"])
            if records:
                name = f"part-{ctx.task_idx:05d}"
                if fmt == "parquet":
                    rows = [json.loads(rec) for rec in records]
                    pq.write_table(pa.Table.from_pylist(rows, schema=record_schema()), folder / f"{name}.parquet")
                else:
                    with (folder / f"{name}.jsonl").open("w", encoding="utf8", newline="\n") as handle:
                        handle.write("".join(rec + "\n" for rec in records))
            result["written"] = len(records)
            return result

        def on_write_complete(self, write_result: Any) -> None:
            self.results = list(write_result.write_returns)

    return ShardSink()
