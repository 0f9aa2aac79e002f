"""The inference engine (:class:`~spacy_biobert.serving.engine.Annotator`) on its own: no FastAPI, no HTTP."""
from pathlib import Path

import pytest

from spacy_biobert.heap import can_release, release_free_memory
from spacy_biobert.serving.engine import Annotator
from spacy_biobert.serving.settings import ServerSettings
from tests.util import REL_TOY, rss_mib

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TEXT = REL_TOY[0][0]


@pytest.fixture(scope="module")
def annotator(joint_model):
    engine = Annotator(joint_model, ServerSettings(torch_threads=1))
    engine.submit(engine.load).result(120)
    assert engine.ready, engine.error
    yield engine
    engine.close()


def fresh_words(n: int, start: int) -> str:
    return " ".join(f"zq{k}xv" for k in range(start, start + n)) + " ."


def test_words_never_seen_do_not_stay_in_the_vocabulary(annotator):
    strings = len(annotator.nlp.vocab.strings)
    for round_ in range(5):
        texts = [f"{TEXT} {fresh_words(40, 1000 * round_ + 100 * i)}" for i in range(3)]
        records = annotator.submit(annotator.annotate, texts, ["a", "b", "c"]).result(60)
        assert [r["text"] for r in records] == texts and [r["id"] for r in records] == ["a", "b", "c"]
    assert len(annotator.nlp.vocab.strings) == strings
    assert "zq1000xv" not in annotator.nlp.vocab.strings and "zq1000xv" not in annotator.nlp.vocab


@pytest.mark.skipif(not can_release() or not Path("/proc/self/status").exists(), reason="needs glibc and /proc")
def test_a_request_leaves_no_freed_heap_memory_behind(annotator):
    # A long request frees tens of MiB (its tensors, arrays, tokens); glibc kept them in the heap, so a server's
    # RSS crept up request after request. The engine gives them back before the request is answered.
    text = f"{TEXT} {fresh_words(2000, 50_000)}"
    (record,) = annotator.submit(annotator.annotate, [text], ["a"]).result(120)
    assert record["text"] == text
    before = rss_mib()
    release_free_memory()
    assert before - rss_mib() < 2.0


def test_records_are_the_same_after_the_vocabulary_is_compacted(annotator, monkeypatch):
    # The engine's zones rebuild the vocabulary's tables once requests added as many strings as it keeps.
    monkeypatch.setattr(annotator.zones, "min_compact_after", 0)
    (before,) = annotator.submit(annotator.annotate, [TEXT], ["x"]).result(60)
    compactions = annotator.zones.compactions
    text = f"{TEXT} {fresh_words(len(annotator.nlp.vocab.strings), 200_000)}"
    (record,) = annotator.submit(annotator.annotate, [text], ["y"]).result(120)
    assert record["text"] == text and annotator.zones.compactions == compactions + 1
    assert annotator.submit(annotator.annotate, [TEXT], ["x"]).result(60) == [before]


def test_records_made_in_the_zone_equal_those_of_the_pipeline_outside_it(annotator):
    from spacy_biobert.output.record import doc_to_record
    from spacy_biobert.serving.engine import annotate_docs

    (inside,) = annotator.submit(annotator.annotate, [TEXT], ["x"]).result(60)
    (doc,) = annotate_docs(annotator.nlp, [TEXT])
    assert inside == doc_to_record(doc, "x")


def test_a_request_threshold_holds_for_its_call_only_and_model_info_keeps_the_loaded_one(annotator, monkeypatch):
    rel = annotator.nlp.get_pipe("biobert_rel")
    seen = []
    write = rel.set_annotations

    def spy(docs, predictions):  # what the relation head and GET /v1/model see while a call runs
        seen.append((rel.threshold, annotator.info()["relation_thresholds"]))
        return write(docs, predictions)

    monkeypatch.setattr(rel, "set_annotations", spy)
    for threshold in (0.0, None):
        annotator.submit(annotator.annotate, [TEXT], ["x"], threshold=threshold).result(60)
    assert seen == [(0.0, {"biobert_rel": 0.5}), (0.5, {"biobert_rel": 0.5})]
    assert rel.threshold == 0.5


def test_a_damaged_model_folder_is_named_in_the_load_error(joint_model, tmp_path):
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(joint_model, folder)
    (folder / "biobert_rel" / "model").write_bytes(b"\x85")  # truncated msgpack
    engine = Annotator(str(folder), ServerSettings(torch_threads=1, warmup=False))
    engine.submit(engine.load).result(120)
    assert not engine.ready
    assert engine.error.startswith(f"DamagedModelError: {folder / 'biobert_rel' / 'model'}: cannot be read")
    engine.close()
