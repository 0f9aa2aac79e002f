"""Inputs of the Ray backend as Ray Datasets of rows ``{"id", "text", "where", "problem", "sections"}`` (``problem``
set for a bad record, with ``id``/``text`` None; ``sections`` the document's sections as JSON, None without),
in input order.

* **JSONL** -- a ``.jsonl`` file (``.gz`` too) or a folder of ``*.jsonl`` shards (name order), read *by the
  cluster*: one read task per file, every line checked by the local backend's own rules
  (:func:`spacy_biobert.corpus.documents.jsonl_doc`, :func:`spacy_biobert.batch.inputs.with_id`), so a bad line
  is named by file and line as locally.
  ``ray.data.read_json`` is not used: Arrow's JSON reader fails a whole file on one bad line or on ids that are
  numbers in some lines and strings in others.
* **Parquet** -- a ``.parquet`` file or a folder of them with columns ``id`` and ``text``, read by
  ``ray.data.read_parquet``; a row is bad when its id is missing or its text is not a string
  (named by file and id).
* **text, PubTator, BioC, BRAT** -- read on the driver by :func:`spacy_biobert.batch.inputs.read_inputs` and passed
  to the cluster with ``ray.data.from_items``, :data:`DRIVER_CHUNK` documents per Dataset (bounded driver
  memory; each chunk starts its own actor pool, so convert a large corpus to JSONL first).

Repeated ids are found by the consumer (the driver, :mod:`spacy_biobert.batch.ray_backend`), which sees the rows
in input order.
"""
import json
from itertools import islice
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from ..corpus.documents import InputDoc, Skipped, jsonl_doc
from ..corpus.sections import Section
from .inputs import read_inputs, with_id

#: Documents per ``from_items`` Dataset when the driver reads the input (text, PubTator, BioC, BRAT).
DRIVER_CHUNK = 50_000
#: CPUs Ray reserves per read/check task: none, so that an actor pool holding every CPU does not starve the
#: (light, I/O-bound) tasks that feed it.
IO_CPUS = 0.0
#: Rows per block built by a JSONL read task: bounds a read task's memory on a large shard, and small blocks
#: spread over the actors (Ray Data gives a whole block to one actor call).
READ_BLOCK_ROWS = 64
ROW_FIELDS = ("id", "text", "where", "problem", "sections")


def row(item: Any) -> Dict[str, Optional[str]]:
    """An :class:`InputDoc` or :class:`Skipped` as a Dataset row."""
    if isinstance(item, Skipped):
        return {"id": None, "text": None, "where": item.where, "problem": item.problem, "sections": None}
    sections = json.dumps([list(section) for section in item.sections]) if item.sections else None
    return {"id": item.id, "text": item.text, "where": item.where, "problem": None, "sections": sections}


def input_doc(r: Dict[str, Optional[str]]) -> InputDoc:
    """The :class:`InputDoc` of a good row (the inverse of :func:`row`)."""
    sections = tuple(Section(*s) for s in json.loads(r["sections"])) if r.get("sections") else ()
    return InputDoc(r["id"], r["text"], r["where"], sections)


def input_schema():
    """The Arrow schema of the input rows (all strings, nullable)."""
    import pyarrow as pa

    return pa.schema([(name, pa.string()) for name in ROW_FIELDS])


def jsonl_files(path: Path) -> List[str]:
    """The JSONL file, or a folder's ``*.jsonl``/``*.jsonl.gz`` shards in name order."""
    path = Path(path)
    if not path.is_dir():
        return [str(path)]
    files = sorted(p for p in path.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz")))
    if not files:
        raise ValueError(f"{path}: no *.jsonl shards in this folder")
    return [str(p) for p in files]


def _lines(stream: Any, size: int = 1 << 20) -> Iterator[bytes]:
    """The lines of a binary stream that has no ``readline`` (Arrow's input streams), split on ``\\n`` as a
    binary file is."""
    pending = b""
    while True:
        chunk = stream.read(size)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line + b"\n"
    if pending:
        yield pending


def _jsonl_datasource(paths: List[str]):
    """A Ray file datasource applying the local JSONL rules line by line (built lazily: Ray is optional)."""
    import pyarrow as pa
    from ray.data.datasource import FileBasedDatasource

    class JsonlDocs(FileBasedDatasource):
        def _read_stream(self, f, path: str) -> Iterator["pa.Table"]:
            schema, rows = input_schema(), []
            for number, raw in enumerate(_lines(f), start=1):
                if raw.strip():
                    rows.append(row(with_id(jsonl_doc(raw, f"{path}:{number}"))))
                if len(rows) >= READ_BLOCK_ROWS:
                    yield pa.Table.from_pylist(rows, schema=schema)
                    rows = []
            if rows:
                yield pa.Table.from_pylist(rows, schema=schema)

    return JsonlDocs(paths, file_extensions=None)


def _parquet_rows(batch: "Any") -> "Any":
    """Parquet rows (``id``, ``text``, ``path``) checked as the JSONL rules check a line."""
    import pyarrow as pa

    rows = []
    for rec in batch.to_pylist():
        doc_id, text = rec.get("id"), rec.get("text")
        where = f"{rec.get('path')} (id {doc_id})"
        if doc_id is None or str(doc_id).strip() == "":
            rows.append(row(Skipped(where, "missing 'id'")))
        elif not isinstance(text, str):
            rows.append(row(Skipped(where, f"'text' must be a string, got {type(text).__name__}")))
        else:
            rows.append(row(InputDoc(str(doc_id), text, where)))
    return pa.Table.from_pylist(rows, schema=input_schema())


def cluster_dataset(path: Path, fmt: str):
    """The Dataset of a JSONL or Parquet input, read by the cluster."""
    import ray

    if fmt == "jsonl":
        return ray.data.read_datasource(_jsonl_datasource(jsonl_files(path)), num_cpus=IO_CPUS)
    if fmt == "parquet":
        ds = ray.data.read_parquet(str(path), columns=["id", "text"], include_paths=True, num_cpus=IO_CPUS)
        return ds.map_batches(_parquet_rows, batch_format="pyarrow", num_cpus=IO_CPUS)
    raise ValueError(f"the cluster reads jsonl and parquet, not {fmt!r}")


def driver_datasets(path: Path, fmt: str) -> Iterator[Any]:
    """Datasets of at most :data:`DRIVER_CHUNK` documents read on the driver by ``read_inputs``.

    Bad records (and repeated ids) come as rows with a ``problem``: the consumer skips them or stops there.
    """
    import ray

    items = iter(read_inputs(path, fmt, skip_bad=True))
    while True:
        chunk = [row(item) for item in islice(items, DRIVER_CHUNK)]
        if not chunk:
            return
        yield ray.data.from_items(chunk)
