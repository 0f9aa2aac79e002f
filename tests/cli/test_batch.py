"""``spacy biobert annotate MODEL INPUT OUTPUT``: corpus in, records out -- formats, resume, bad input, accounting."""
import json

import pytest
import spacy

from spacy_biobert.batch.local import CHUNK
from spacy_biobert.corpus.bioc import read_bioc
from spacy_biobert.corpus.pubtator import read_pubtator
from spacy_biobert.output.record import doc_to_record
from tests.util import REL_TOY, invoke, write_text

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TEXTS = {"d1": "Famotidine induced delirium in rats .", "d2": "", "d3": "Patients with cocaine were treated ."}


@pytest.fixture(scope="module")
def model(saved_ner_model):
    return saved_ner_model


def said(*args, exit_code=0):
    """The command's output with wasabi's line wrapping undone."""
    return " ".join(invoke(*args, exit_code=exit_code).output.split())


def jsonl_input(path, texts=TEXTS, extra=""):
    lines = [json.dumps({"id": i, "text": t}) for i, t in texts.items()]
    return write_text(path, "\n".join(lines) + "\n" + extra)


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_jsonl_records_equal_the_pipeline_called_directly(model, tmp_path):
    assert "3 records written" in said("annotate", model, jsonl_input(tmp_path / "in.jsonl"), tmp_path / "out.jsonl")
    nlp = spacy.load(model)
    assert read_jsonl(tmp_path / "out.jsonl") == [doc_to_record(nlp(t), i) for i, t in TEXTS.items()]
    assert any(r["entities"] for r in read_jsonl(tmp_path / "out.jsonl"))


def test_a_partial_output_is_resumed(model, tmp_path):
    source = jsonl_input(tmp_path / "in.jsonl")
    invoke("annotate", model, source, tmp_path / "full.jsonl")
    full = (tmp_path / "full.jsonl").read_text().splitlines()
    out = write_text(tmp_path / "out.jsonl", full[0] + "\n" + full[1][:10])  # a crash in the second record
    result = said("annotate", model, source, out)
    assert "2 records written" in result and "1 already there" in result
    assert out.read_text().splitlines() == full
    invoke("annotate", model, source, out, "--overwrite")
    assert out.read_text().splitlines() == full


def test_bad_records_stop_the_run_or_are_skipped_and_listed(model, tmp_path):
    source = jsonl_input(tmp_path / "in.jsonl", extra='{"id": "d4", "text": 5}\nnot json\n')
    result = said("annotate", model, source, tmp_path / "out.jsonl", exit_code=1)
    assert f"{source}:4: 'text' must be a string" in result
    result = said("annotate", model, source, tmp_path / "skip.jsonl", "--skip-bad")
    assert "3 records written" in result and "2 skipped, 5 read" in result
    assert f"skipped {source}:5: malformed JSON" in result


def test_pubtator_and_bioc_outputs_read_back(model, tmp_path):
    source = jsonl_input(tmp_path / "in.jsonl")
    invoke("annotate", model, source, tmp_path / "out.pubtator")
    invoke("annotate", model, source, tmp_path / "out.xml")
    records = read_jsonl(invoke_to(model, source, tmp_path / "out.jsonl"))
    for docs in (list(read_pubtator(tmp_path / "out.pubtator")), list(read_bioc(tmp_path / "out.xml"))):
        assert [d.doc_id for d in docs] == list(TEXTS)
        assert [[(m.start, m.end, m.label) for m in d.mentions] for d in docs] == [
            [(e["start"], e["end"], e["label"]) for e in r["entities"]] for r in records]
    assert "cannot be resumed" in said("annotate", model, source, tmp_path / "out.xml", exit_code=1)


def invoke_to(model, source, out):
    invoke("annotate", model, source, out)
    return out


def test_text_folder_and_more_documents_than_a_memory_zone(model, tmp_path, monkeypatch):
    folder = tmp_path / "texts"
    folder.mkdir()
    for i in range(5):
        write_text(folder / f"doc{i}.txt", f"Famotidine induced delirium {i} .")
    monkeypatch.setattr("spacy_biobert.batch.local.CHUNK", 2)
    assert CHUNK == 1000
    from spacy_biobert.batch.annotate import annotate_corpus

    summary = annotate_corpus(str(model), folder, tmp_path / "out.jsonl")
    assert summary.accounted() and summary.written == 5
    assert [r["id"] for r in read_jsonl(tmp_path / "out.jsonl")] == [f"doc{i}" for i in range(5)]


def test_the_zones_passed_count_strings_over_calls_and_compact_the_vocabulary(model):
    # The Ray backend calls pipe_records once per batch of rows with one pipeline: its zones carry the count.
    from spacy_biobert.batch.local import pipe_records
    from spacy_biobert.corpus.documents import InputDoc
    from spacy_biobert.pipeline.loading import load_pipeline
    from spacy_biobert.pipeline.memory_zones import MemoryZones

    nlp = load_pipeline(str(model))
    strings, zones = set(nlp.vocab.strings), MemoryZones(nlp, min_compact_after=0)
    words = len(strings) // 3
    texts = [" ".join(f"zq{i * words + k}xv" for k in range(words)) for i in range(6)]
    (first,) = pipe_records(nlp, [InputDoc("0", texts[0], "test")], zones=zones)
    assert zones.compactions == 0 and zones.added > 0
    rest = [r for i, t in enumerate(texts[1:], 1) for r in pipe_records(nlp, [InputDoc(str(i), t, "test")], zones=zones)]
    assert [r["text"] for r in [first, *rest]] == texts
    assert zones.compactions >= 1 and set(nlp.vocab.strings) == strings


@pytest.mark.parametrize("link", ["same", "symlink", "hardlink"])
@pytest.mark.parametrize("overwrite", [False, True])
def test_an_output_that_is_the_input_is_refused_and_the_input_kept(model, tmp_path, link, overwrite):
    source = jsonl_input(tmp_path / "in.jsonl")
    before = source.read_bytes()
    out = source if link == "same" else tmp_path / "out.jsonl"
    if link == "symlink":
        out.symlink_to(source)
    elif link == "hardlink":
        out.hardlink_to(source)
    result = said("annotate", model, source, out, *(["--overwrite"] if overwrite else []), exit_code=1)
    assert f"{out} is the input file {source}" in result
    assert source.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"in.jsonl", out.name})


def test_the_model_folder_is_never_an_output(model, tmp_path):
    source = jsonl_input(tmp_path / "in.jsonl")
    assert "is the input file" in said("annotate", model, source, model / "meta.json", "--output-format", "jsonl",
                                       exit_code=1)


def test_a_crash_while_writing_leaves_no_output_and_the_rerun_completes_it(model, tmp_path, monkeypatch):
    from spacy_biobert.batch.annotate import annotate_corpus
    from spacy_biobert.output.writers import JsonlWriter

    source = jsonl_input(tmp_path / "in.jsonl")
    invoke("annotate", model, source, tmp_path / "full.jsonl")
    write = JsonlWriter._write

    def crash_on_the_second(self, record):
        if self.written == 1:
            raise KeyboardInterrupt
        write(self, record)

    monkeypatch.setattr(JsonlWriter, "_write", crash_on_the_second)
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        annotate_corpus(str(model), source, out)
    assert not out.exists() and len(read_jsonl(tmp_path / "out.jsonl.partial")) == 1
    monkeypatch.setattr(JsonlWriter, "_write", write)
    summary = annotate_corpus(str(model), source, out)
    assert (summary.resumed, summary.written) == (1, 2)
    assert out.read_bytes() == (tmp_path / "full.jsonl").read_bytes()
    assert not (tmp_path / "out.jsonl.partial").exists()


def test_a_lone_surrogate_is_a_bad_record_not_a_crash(model, tmp_path):
    source = jsonl_input(tmp_path / "in.jsonl", extra='{"id": "d4", "text": "bad \\ud83d here"}\n')
    result = said("annotate", model, source, tmp_path / "out.jsonl", exit_code=1)
    assert f"{source}:4: 'text' holds a lone surrogate" in result
    result = said("annotate", model, source, tmp_path / "skip.jsonl", "--skip-bad")
    assert "3 records written" in result and "1 skipped, 4 read" in result
    assert f"skipped {source}:4: 'text' holds a lone surrogate" in result


def test_an_id_pubtator_cannot_hold_is_refused_and_resume_never_duplicates(model, tmp_path):
    source = jsonl_input(tmp_path / "in.jsonl", {"a|b": "Famotidine induced delirium .", "c": "Cocaine ."})
    out = tmp_path / "out.pubtator"
    result = said("annotate", model, source, out, exit_code=1)
    assert f"{source}:1: PubTator cannot hold it: the id 'a|b' holds '|'" in result
    for run in range(2):
        result = said("annotate", model, source, out, "--skip-bad")
        assert f"{1 - run} records written to {out} ({run} already there, 1 skipped" in result
    assert [doc.doc_id for doc in read_pubtator(out)] == ["c"]


def test_titles_and_sections_of_the_input_are_kept(model, cdr_dir, tmp_path):
    """PubTator in, PubTator out: the same title and abstract lines; BioC out: one passage per section."""
    import gzip

    import bioc

    blocks = gzip.decompress((cdr_dir / "test.pubtator.gz").read_bytes()).decode("utf8").split("\n\n")[:2]
    heads = [line for block in blocks for line in block.split("\n")[:2]]
    source = write_text(tmp_path / "in.pubtator", "\n\n".join(blocks) + "\n\n")
    invoke("annotate", model, source, tmp_path / "out.pubtator")
    written = (tmp_path / "out.pubtator").read_text(encoding="utf8").split("\n\n")
    assert [line for block in written[:2] for line in block.split("\n")[:2]] == heads
    invoke("annotate", model, source, tmp_path / "out.xml")
    with (tmp_path / "out.xml").open(encoding="utf8") as handle:
        documents = bioc.load(handle).documents
    assert [[(p.infons["type"], p.text) for p in d.passages] for d in documents] == [
        [("title", heads[i].split("|", 2)[2]), ("abstract", heads[i + 1].split("|", 2)[2])] for i in (0, 2)]


def test_threshold_option_sets_every_relation_threshold(joint_model, tmp_path):
    source = jsonl_input(tmp_path / "in.jsonl", {str(i): row[0] for i, row in enumerate(REL_TOY)})
    def relations(*options):
        invoke("annotate", joint_model, source, tmp_path / "out.jsonl", "--overwrite", *options)
        return sum(len(r["concept_relations"]) for r in read_jsonl(tmp_path / "out.jsonl"))

    assert relations("--threshold", "0") > relations("--threshold", "1")
    assert relations("--threshold", "0.5") == relations()  # the pipeline's own threshold
    text = said("annotate", joint_model, "--text", "Lithium caused tremor .", "--relations-threshold", "0.25")
    assert "Candidate relations scored by biobert_rel (threshold 0.25):" in text


def test_threshold_without_a_relation_component_is_refused(model, tmp_path):
    result = said("annotate", model, jsonl_input(tmp_path / "in.jsonl"), tmp_path / "out.jsonl", "--threshold", "0.5",
                  exit_code=1)
    assert "a relation threshold was given but the pipeline has no relation component" in result


@pytest.mark.parametrize("size", ["0", "-3"])
def test_a_batch_size_below_one_is_refused_before_anything_is_written(model, tmp_path, size):
    out = tmp_path / "out.jsonl"
    result = said("annotate", model, jsonl_input(tmp_path / "in.jsonl"), out, "--batch-size", size, exit_code=1)
    assert f"--batch-size must be at least 1 (documents per nlp.pipe batch), got {size}" in result
    assert not out.exists() and not (tmp_path / "out.jsonl.partial").exists()


def test_resuming_into_an_output_with_a_damaged_line_names_file_and_line(model, tmp_path):
    source = jsonl_input(tmp_path / "in.jsonl")
    invoke("annotate", model, source, tmp_path / "full.jsonl")
    full = (tmp_path / "full.jsonl").read_text().splitlines()
    out = write_text(tmp_path / "out.jsonl", full[0] + "\n{oops\n")
    result = said("annotate", model, source, out, exit_code=1)
    assert f"{tmp_path / 'out.jsonl.partial'}:2: not a JSON record" in result


def test_a_record_over_spacys_length_limit_is_annotated_in_pieces_between_the_good_ones(model, tmp_path):
    sentence = TEXTS["d1"]
    huge = sentence + "\n" + " " * 1_000_001 + "\n" + sentence  # cheap to encode, but over nlp.max_length
    texts = {"d1": sentence, "huge": huge, "d3": TEXTS["d3"]}
    result = said("annotate", model, jsonl_input(tmp_path / "in.jsonl", texts), tmp_path / "out.jsonl", "--skip-bad")
    assert "3 records written" in result and "0 skipped" in result
    records = read_jsonl(tmp_path / "out.jsonl")
    assert [r["id"] for r in records] == ["d1", "huge", "d3"] and records[1]["text"] == huge
    nlp = spacy.load(model)
    first = doc_to_record(nlp(sentence))["entities"]
    assert first and records[1]["entities"][: len(first)] == first  # the first piece, offsets unchanged
    tail = [e for e in records[1]["entities"] if e["start"] > len(huge) - len(sentence) - 1]
    assert [huge[e["start"]:e["end"]] for e in tail] == [e["text"] for e in first]  # the last piece, moved
