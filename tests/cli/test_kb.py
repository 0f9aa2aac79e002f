"""``spacy biobert kb build``: sources merged into one folder, errors reported with file and line."""
from spacy_biobert.kb import KnowledgeBase
from tests.util import TOY_PUBTATOR, invoke, write_text


def test_build_from_corpus_tsv_and_jsonl(tmp_path):
    corpus = write_text(tmp_path / "toy.pubtator", TOY_PUBTATOR)
    tsv = write_text(tmp_path / "v.tsv", "D015738\tPepcid\t\tChemical\nX1\tthing\n")
    jsonl = write_text(tmp_path / "v.jsonl", '{"id": "X2", "name": "other thing"}\n')
    result = invoke("kb", "build", tmp_path / "kb", "--corpus", corpus, "--tsv", tsv, "--jsonl", jsonl)
    assert "Wrote 4 concepts" in result.output
    kb = KnowledgeBase.from_disk(tmp_path / "kb")
    assert set(kb.get("D015738").names) == {"Famotidine", "Pepcid"} and "X2" in kb


def test_mesh_xml_and_mesh_lite(tmp_path):
    from tests.kb.test_mesh_xml import DESC

    xml = write_text(tmp_path / "desc.xml", DESC)
    invoke("kb", "build", tmp_path / "kb", "--mesh-xml", xml)
    assert len(KnowledgeBase.from_disk(tmp_path / "kb")) == 2


def test_no_source_and_malformed_source(tmp_path):
    assert "No source" in invoke("kb", "build", tmp_path / "kb", exit_code=1).output
    bad = write_text(tmp_path / "bad.tsv", "D1\n")
    assert "bad.tsv:1" in invoke("kb", "build", tmp_path / "kb", "--tsv", bad, exit_code=1).output
    assert not (tmp_path / "kb").exists()


def test_a_bom_is_skipped_and_a_source_without_concepts_refused(tmp_path):
    tsv = tmp_path / "bom.tsv"
    tsv.write_bytes("\ufeffid\tname\nD008094\tLithium\n".encode("utf8"))
    invoke("kb", "build", tmp_path / "kb", "--tsv", tsv)
    assert [c.id for c in KnowledgeBase.from_disk(tmp_path / "kb")] == ["D008094"]
    comments = write_text(tmp_path / "comments.tsv", "# nothing here\n")
    no_ids = write_text(tmp_path / "no_ids.pubtator", "1|t|Tremor.\n1|a|x\n1\t0\t6\tTremor\tDisease\t-1\n\n")
    for option, path in (("--tsv", comments), ("--corpus", no_ids)):
        result = invoke("kb", "build", tmp_path / "kb2", "--tsv", tsv, option, path, exit_code=1)
        assert f"{path}: no concept in this source" in " ".join(result.output.split())
        assert not (tmp_path / "kb2").exists()


def test_dense_fine_tunes_on_the_corpus_and_encodes_every_kb_name(tmp_path, tiny_bert):
    from spacy_biobert.kb.dense import DenseNames

    corpus = write_text(tmp_path / "toy.pubtator", TOY_PUBTATOR)
    tsv = write_text(tmp_path / "v.tsv", "D015738\tPepcid\t\tChemical\nD003693\tacute confusion\t\tDisease\n")
    invoke("kb", "build", tmp_path / "kb", "--corpus", corpus, "--tsv", tsv)
    result = invoke("kb", "dense", tmp_path / "dense", tmp_path / "kb", "--corpus", corpus, "--encoder", tiny_bert,
                    "--epochs", "1", "--batch-size", "2")
    assert "epoch 1:" in result.output and "name vectors" in result.output
    dense = DenseNames.from_disk(tmp_path / "dense")
    assert len(dense) == len({name.lower() for c in KnowledgeBase.from_disk(tmp_path / "kb") for name in c.names})
    again = invoke("kb", "dense", tmp_path / "dense", tmp_path / "kb", "--encoder", tiny_bert, "--epochs", "0")
    assert "name vectors" in again.output  # an earlier output is replaced
    failure = invoke("kb", "dense", tmp_path / "d2", tmp_path / "kb", "--encoder", "pkg:no_such_pkg", exit_code=1)
    assert "'no_such_pkg' is not installed" in " ".join(failure.output.split())
    assert not (tmp_path / "d2").exists()
