"""The Ray backend of ``spacy biobert annotate`` (``--backend ray``): the same pipeline and the same records as the
local backend (:mod:`spacy_biobert.batch.local`), on a Ray cluster with Ray Data.

Input rows (:mod:`spacy_biobert.batch.ray_sources`: JSONL and Parquet read by the cluster, other formats by the
driver) go through ``map_batches`` with :class:`PipelineActor`, a callable class run by an actor pool
(``concurrency=actors``): each actor loads the pipeline once in ``__init__`` (on its own GPU with
``gpus_per_actor``) and turns rows into records with the local backend's :func:`pipe_records`, so the records
are identical. Records travel as JSON strings (Arrow cannot hold the record's nulls and nesting without a
schema). Order is preserved (``DataContext.execution_options.preserve_order``).

Outputs:

* a **file** (``.jsonl``, ``.pubtator``, ``.xml``): the driver consumes the rows in input order and writes them
  with the local writers -- the same file as the local backend, byte for byte, with the same rules: bad records
  stop the run or are skipped (``skip_bad``), a repeated id is a bad record, a partial JSONL/PubTator output
  is resumed (its ids are not annotated again) and a complete one appears only at the end (see
  :mod:`spacy_biobert.batch.resume`).
* a **folder of shards** (``jsonl-shards``, ``parquet``; :mod:`spacy_biobert.batch.ray_sinks`): written by the
  cluster, one shard per write task. Bad records stop the run or are skipped as above; a folder is not
  resumed (pass ``overwrite``), and an id repeated in the input -- only found once both are written -- fails the
  run after the write, naming both places.

Records in = written + resumed + skipped, checked by the caller through :class:`Summary`.
"""
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, Optional, Set, Tuple

from ..pipeline.loading import load_pipeline
from ..pipeline.memory_zones import MemoryZones
from ..corpus.documents import BadInput, Skipped
from .local import Summary, pipe_records
from .ray_sinks import SHARD_FORMATS, shard_sink
from .ray_sources import IO_CPUS, cluster_dataset, driver_datasets, input_doc

RAY_MISSING = "the Ray backend needs Ray Data: pip install 'spacy-biobert[ray]' (or 'ray[data]')"
#: Input rows per ``map_batches`` call (an actor runs ``nlp.pipe`` over them in ``batch_size`` batches). Small, so
#: that work spreads evenly over the actors: Ray Data hands a call's rows to one actor.
ROWS_PER_CALL = 64
CLUSTER_FORMATS = ("jsonl", "parquet")


@dataclass
class RayOptions:
    """How to run on Ray.

    address: None starts a local cluster in this process (``num_cpus`` CPUs, default all); ``"auto"`` joins the
        cluster started on this machine by ``ray start --head``; ``"ray://host:10001"`` joins a remote one.
    actors: size of the actor pool (pipeline copies).
    cpus_per_actor / gpus_per_actor: resources Ray reserves per actor (``gpus_per_actor`` > 0: the pipeline
        runs on the GPU Ray assigns).
    torch_threads: torch threads per actor.
    """

    address: Optional[str] = None
    actors: int = 2
    cpus_per_actor: float = 1.0
    gpus_per_actor: float = 0.0
    torch_threads: int = 1
    num_cpus: Optional[int] = None


def require_ray() -> Any:
    """``import ray`` (and Ray Data), with a clear error when the optional extra is missing."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as err:
        raise ImportError(RAY_MISSING) from err
    return ray


class PipelineActor:
    """The ``map_batches`` callable class: one pipeline per actor, rows in, rows with JSON records out."""

    def __init__(self, model: str, batch_size: int, torch_threads: int, use_gpu: bool, done: Any = None,
                 relation_threshold: Optional[float] = None):
        import spacy
        import torch

        if torch_threads > 0:
            torch.set_num_threads(torch_threads)
        if use_gpu:
            spacy.require_gpu(0)  # the GPU Ray assigned to this actor (CUDA_VISIBLE_DEVICES)
        self.nlp = load_pipeline(model, relation_threshold, annotate_only=True)
        self.zones = MemoryZones(self.nlp)  # one count of the strings the zones added, over all batches
        self.batch_size = batch_size
        if done is not None and not isinstance(done, (set, frozenset)):
            import ray

            done = ray.get(done)
        self.done: Set[str] = set(done or ())

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        rows = batch.to_pylist()
        todo = [input_doc(r) for r in rows if r["problem"] is None and r["id"] not in self.done]
        records = pipe_records(self.nlp, todo, self.batch_size, zones=self.zones)
        out = []
        for r in rows:
            status, record = "bad", None
            if r["problem"] is None:
                status = "done" if r["id"] in self.done else "ok"
                if status == "ok":
                    record = json.dumps(next(records), ensure_ascii=False)
            out.append({"id": r["id"], "where": r["where"], "problem": r["problem"], "status": status,
                        "record": record})
        return pa.Table.from_pylist(out, schema=output_schema())


def output_schema() -> Any:
    """The Arrow schema of annotated rows."""
    import pyarrow as pa

    return pa.schema([(name, pa.string()) for name in ("id", "where", "problem", "status", "record")])


def connect(options: RayOptions) -> bool:
    """Start or join a cluster unless Ray is initialised already; return whether this call initialised it."""
    ray = require_ray()
    if ray.is_initialized():
        return False
    if options.address is None:
        ray.init(num_cpus=options.num_cpus, include_dashboard=False, log_to_driver=False)
    else:
        ray.init(address=options.address, log_to_driver=False)
    return True


def annotated(ds: Any, model: str, batch_size: int, options: RayOptions, done: Any = None,
              relation_threshold: Optional[float] = None) -> Any:
    """``ds`` (input rows) through the actor pool."""
    return ds.map_batches(
        PipelineActor, batch_format="pyarrow", batch_size=ROWS_PER_CALL, concurrency=options.actors,
        num_cpus=options.cpus_per_actor, num_gpus=options.gpus_per_actor or None,
        fn_constructor_kwargs={"model": model, "batch_size": batch_size, "torch_threads": options.torch_threads,
                               "use_gpu": options.gpus_per_actor > 0, "done": done,
                               "relation_threshold": relation_threshold},
    )


def input_datasets(path: Path, fmt: str) -> Iterator[Any]:
    """The input as one Dataset (JSONL, Parquet) or several (driver-read formats)."""
    if fmt in CLUSTER_FORMATS:
        yield cluster_dataset(path, fmt)
    else:
        yield from driver_datasets(path, fmt)


def consume(rows: Iterable[Dict[str, Any]], write: Callable[[Dict], None], summary: Summary, skip_bad: bool,
            tick: Callable[[], None], seen: Dict[str, str],
            refuse: Optional[Callable[[str, str], Optional[str]]] = None) -> None:
    """The local rules over annotated rows in input order: bad records, repeated ids (``seen``: id -> where) and
    records the output cannot hold (``refuse``: ``(id, text) -> why``) skipped or fatal, resumed ids counted,
    records written."""
    for r in rows:
        summary.read += 1
        record = json.loads(r["record"]) if r["problem"] is None and r["status"] != "done" else None
        problem = r["problem"]
        if problem is None and r["id"] in seen:
            problem = f"document id {r['id']!r} repeats the one at {seen[r['id']]}"
        if problem is None and record is not None and refuse is not None:
            problem = refuse(str(record["id"]), record["text"])
        if problem is not None:
            if not skip_bad:
                raise BadInput(r["where"], problem)
            summary.skipped.append(Skipped(r["where"], problem))
        else:
            seen[r["id"]] = r["where"]
            if record is None:
                summary.resumed += 1
            else:
                write(record)
                summary.written += 1
        tick()


def _write_shards(datasets: Iterable[Any], folder: Path, fmt: str, skip_bad: bool, model: str, batch_size: int,
                  options: RayOptions, summary: Summary, relation_threshold: Optional[float]) -> None:
    seen: Dict[str, str] = {}
    for number, ds in enumerate(datasets):
        chunk_folder = folder if number == 0 else folder / f"chunk-{number:05d}"
        chunk_folder.mkdir(parents=True, exist_ok=True)
        sink = shard_sink(chunk_folder, fmt, skip_bad)
        annotated(ds, model, batch_size, options, relation_threshold=relation_threshold).write_datasink(
            sink, ray_remote_args={"num_cpus": IO_CPUS})
        for result in sink.results:
            summary.read += result["read"]
            summary.written += result["written"]
            summary.skipped += [Skipped(where, problem) for where, problem in result["skipped"]]
            for doc_id, where in result["ids"]:
                if doc_id in seen:
                    raise ValueError(f"{where}: document id {doc_id!r} repeats the one at {seen[doc_id]}; both "
                                     f"are in {folder} (sharded output checks ids after writing: make them unique)")
                seen[doc_id] = where


def run_ray(
    model: str,
    input_path: Path,
    output_path: Path,
    input_format: str,
    output_format: str,
    options: Optional[RayOptions] = None,
    batch_size: int = 32,
    skip_bad: bool = False,
    overwrite: bool = False,
    on_record: Optional[Callable[[], None]] = None,
    relation_threshold: Optional[float] = None,
) -> Tuple[Summary, Dict[str, int]]:
    """Annotate ``input_path`` into ``output_path`` on Ray (see the module docstring).

    Args:
        model: pipeline package name or folder (a folder must be readable by every node).
        input_format: ``text``, ``jsonl``, ``pubtator``, ``bioc`` or ``parquet``.
        output_format: ``jsonl``, ``pubtator``, ``bioc`` (a file) or ``jsonl-shards``, ``parquet`` (a folder).
        options: cluster and actor settings (default :class:`RayOptions`).
        on_record: called once per input record handled (file outputs only: shards report at the end).
        relation_threshold: every relation component's threshold (default: the pipeline's).
    Returns:
        The :class:`Summary` and what the output format could not hold (reason -> count).
    """
    from .resume import resumable_writer

    options = options or RayOptions()
    ray = require_ray()
    model = str(Path(model).resolve()) if Path(model).exists() else model
    summary, lossy = Summary(), {}
    started = connect(options)
    try:
        ray.data.DataContext.get_current().execution_options.preserve_order = True
        datasets = input_datasets(Path(input_path), input_format)
        if output_format in SHARD_FORMATS:
            if overwrite and output_path.exists():
                shutil.rmtree(output_path)
            if output_path.exists() and any(output_path.iterdir()):
                raise ValueError(f"{output_path} is not empty and a sharded output cannot be resumed: pass --overwrite")
            _write_shards(datasets, output_path, output_format, skip_bad, model, batch_size, options, summary,
                          relation_threshold)
            return summary, lossy
        seen: Dict[str, str] = {}
        with resumable_writer(output_path, output_format, overwrite) as (writer, done):
            done_ref = ray.put(done) if done else None
            for ds in datasets:
                rows = annotated(ds, model, batch_size, options, done_ref, relation_threshold).iter_rows()
                consume(rows, writer.write, summary, skip_bad, on_record or (lambda: None), seen,
                        writer.refusal)
        return summary, dict(writer.lossy)
    finally:
        if started:
            ray.shutdown()
