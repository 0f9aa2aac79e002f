"""The Ray backend (``annotate --backend ray``) on a local 2-CPU cluster: its records equal the local backend's.

One module-scoped cluster (``ray.init(num_cpus=2)``) serves every test and is shut down at the end; four runs
of a few documents through a tiny trained pipeline (each run starts its actor pool: most of the time here).
The rules over annotated rows (bad records, repeated ids, resumed ids) are tested without the cluster.
"""
import json

import pytest

from spacy_biobert.corpus.documents import BadInput
from spacy_biobert.batch.local import Summary
from tests.util import invoke, write_text

ray = pytest.importorskip("ray", reason="the Ray extra is not installed")
pytest.importorskip("ray.data")
from spacy_biobert.batch.ray_backend import RayOptions, consume, run_ray  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TEXTS = {f"d{i}": t for i, t in enumerate([
    "Famotidine induced delirium in rats .", "", "Patients with cocaine were treated .",
    "Lithium induced tremor and polyuria .", "Cisplatin induced nephrotoxicity in patients .",
    "The rats were treated with famotidine .",
])}
ONE_ACTOR = RayOptions(actors=1, torch_threads=1)


@pytest.fixture(scope="module")
def model(saved_ner_model):
    return saved_ner_model


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def jsonl_input(path, texts=TEXTS, extra=""):
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"id": i, "text": t}) for i, t in texts.items()]
    return write_text(path, "\n".join(lines) + "\n" + extra)


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def local_output(model, tmp_path_factory):
    """The local backend's JSONL output for TEXTS."""
    folder = tmp_path_factory.mktemp("local")
    invoke("annotate", model, jsonl_input(folder / "in.jsonl"), folder / "out.jsonl")
    return folder / "out.jsonl"


@pytest.fixture(scope="module")
def local_records(local_output):
    return {r["id"]: r for r in read_jsonl(local_output)}


def test_cli_jsonl_file_equals_the_local_backend_byte_for_byte(cluster, model, local_output, tmp_path):
    result = invoke("annotate", model, jsonl_input(tmp_path / "in.jsonl"), tmp_path / "out.jsonl",
                    "--backend", "ray", "--actors", "2")
    assert f"{len(TEXTS)} records written" in " ".join(result.output.split())
    assert (tmp_path / "out.jsonl").read_text() == local_output.read_text()  # same records, input order
    assert any(r["entities"] for r in read_jsonl(tmp_path / "out.jsonl"))


def test_jsonl_shards_in_parquet_out(cluster, model, local_records, tmp_path):
    import pyarrow.parquet as pq

    items = list(TEXTS.items())
    jsonl_input(tmp_path / "in" / "a.jsonl", dict(items[:3]))
    source = jsonl_input(tmp_path / "in" / "b.jsonl", dict(items[3:]), extra="not json\n")
    summary, _ = run_ray(str(model), tmp_path / "in", tmp_path / "out.parquet", "jsonl", "parquet", ONE_ACTOR,
                         skip_bad=True)
    assert (summary.read, summary.written, summary.accounted()) == (7, 6, True)
    assert [(s.where, s.problem[:14]) for s in summary.skipped] == [(f"{source}:4", "malformed JSON")]
    shards = sorted((tmp_path / "out.parquet").glob("part-*.parquet"))
    rows = [r for shard in shards for r in pq.read_table(shard).to_pylist()]
    assert {r["id"]: r for r in rows} == local_records


def test_text_folder_in_jsonl_shards_out(cluster, model, local_records, tmp_path):
    (tmp_path / "texts").mkdir()
    for doc_id, text in TEXTS.items():
        write_text(tmp_path / "texts" / f"{doc_id}.txt", text)
    (tmp_path / "texts" / "bad.txt").write_bytes(b"caf\xe9")
    summary, _ = run_ray(str(model), tmp_path / "texts", tmp_path / "out", "text", "jsonl-shards", ONE_ACTOR,
                         skip_bad=True)
    assert (summary.read, summary.written, len(summary.skipped)) == (7, 6, 1) and summary.accounted()
    lines = [r for shard in sorted((tmp_path / "out").glob("part-*.jsonl")) for r in read_jsonl(shard)]
    assert {r["id"]: r for r in lines} == local_records
    with pytest.raises(ValueError, match="cannot be resumed"):
        run_ray(str(model), tmp_path / "texts", tmp_path / "out", "text", "jsonl-shards", ONE_ACTOR)


def test_bad_records_skipped_and_a_partial_output_resumed(cluster, model, local_output, tmp_path):
    source = jsonl_input(tmp_path / "in.jsonl", extra='{"id": "d7", "text": 5}\nnot json\n{"id": "d0", "text": "x"}\n')
    full = local_output.read_text().splitlines()
    out = write_text(tmp_path / "out.jsonl", "\n".join(full[:2]) + "\n" + full[2][:10])  # a crash in the third
    summary, _ = run_ray(str(model), source, out, "jsonl", "jsonl", ONE_ACTOR, skip_bad=True)
    assert (summary.read, summary.resumed, summary.written, len(summary.skipped)) == (9, 2, 4, 3)
    assert summary.accounted()
    assert [s.problem.split(" (")[0] for s in summary.skipped] == [
        "'text' must be a string, got int", "malformed JSON", f"document id 'd0' repeats the one at {source}:1"]
    assert out.read_text().splitlines() == full


def rows(*specs):
    return [{"id": i, "where": f"in:{n}", "problem": p, "status": s, "record": json.dumps({"id": i, "text": ""})}
            for n, (i, p, s) in enumerate(specs, start=1)]


def test_consume_applies_the_local_rules():
    written, summary = [], Summary()
    specs = [("a", None, "ok"), (None, "malformed JSON", "bad"), ("a", None, "ok"), ("b", None, "done")]
    consume(rows(*specs), written.append, summary, True, lambda: None, {})
    assert written == [{"id": "a", "text": ""}] and (summary.read, summary.resumed) == (4, 1) and summary.accounted()
    assert [(s.where, s.problem) for s in summary.skipped] == [
        ("in:2", "malformed JSON"), ("in:3", "document id 'a' repeats the one at in:1")]
    with pytest.raises(BadInput, match="in:2: malformed JSON"):
        consume(rows(*specs), [].append, Summary(), False, lambda: None, {})


def test_consume_skips_a_record_the_output_cannot_hold():
    written, summary = [], Summary()
    refuse = lambda doc_id, text: "no '|' here" if "|" in doc_id else None  # noqa: E731
    specs = [("a|b", None, "ok"), ("c", None, "ok")]
    consume(rows(*specs), written.append, summary, True, lambda: None, {}, refuse)
    assert written == [{"id": "c", "text": ""}]
    assert [(s.where, s.problem) for s in summary.skipped] == [("in:1", "no '|' here")]
