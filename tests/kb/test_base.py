"""KnowledgeBase: merge rules (duplicate and conflicting ids), folder round trip, malformed files."""
import pytest
import srsly

from spacy_biobert.kb import KBFormatError, KnowledgeBase
from spacy_biobert.kb.base import DATA_FILE, META_FILE


def small_kb() -> KnowledgeBase:
    kb = KnowledgeBase()
    kb.add("D1", ["Lithium", "lithium"], label="Chemical")
    kb.add("D2", {"tremor": 3}, label="Disease")
    return kb


def test_duplicate_ids_merge_names_and_counts():
    kb = small_kb()
    kb.add("D2", {"tremor": 2, "tremors": 1}, label="Disease")
    assert len(kb) == 2
    assert kb.get("D2").names == {"tremor": 5, "tremors": 1}
    assert kb.conflicts() == {}


def test_conflicting_labels_are_kept_and_reported():
    kb = small_kb()
    kb.add("D1", ["lithium carbonate"], label="Disease")
    assert kb.get("D1").labels == {"Chemical", "Disease"}
    assert kb.conflicts() == {"D1": {"Chemical", "Disease"}}
    assert kb.meta()["conflicting_ids"] == 1


@pytest.mark.parametrize("bad", ["", "  ", "D1|", "D1|D1", "D1|-1", "D1| D2", None])
def test_bad_ids_are_refused(bad):
    with pytest.raises(ValueError):
        KnowledgeBase().add(bad, ["x"])


def test_composite_ids_are_one_concept():
    kb = KnowledgeBase()
    kb.add("D1|D2", ["renal and hepatic injury"], label="Disease")
    assert "D1|D2" in kb and "D1" not in kb and kb.get("D1|D2").labels == {"Disease"}


def test_merge_unites_two_kbs():
    other = KnowledgeBase()
    other.add("D1", ["Li"])
    other.add("D3", ["seizure"], label="Disease")
    merged = small_kb().merge(other)
    assert set(merged.get("D1").names) == {"Lithium", "lithium", "Li"}
    assert merged.get("D1").labels == {"Chemical"} and len(merged) == 3


def test_folder_round_trip(tmp_path):
    kb = small_kb()
    kb.add("C5", ["ß-Alanine ünïcode"])
    kb.sources.append("test")
    loaded = KnowledgeBase.from_disk(kb.to_disk(tmp_path / "kb"))
    assert {c.id: (c.labels, dict(c.names)) for c in loaded} == {c.id: (c.labels, dict(c.names)) for c in kb}
    assert loaded.sources == ["test"]
    assert srsly.read_json(tmp_path / "kb" / META_FILE)["concepts"] == 3


def test_name_is_the_most_frequent_then_the_preferred_and_survives_saving(tmp_path):
    kb = KnowledgeBase()
    kb.add("D014202", ["Tremor", "Tremors", "Trembling"])  # a vocabulary: preferred name first
    kb.add("D008094", ["lithium", "Li"])
    kb.add("D008094", {"Lithium": 1, "Li": 2}, label="Chemical")  # a corpus: "Li" seen most
    assert (kb.get("D014202").name, kb.get("D014202").aliases) == ("Tremor", ["Tremors", "Trembling"])
    assert kb.get("D008094").name == "Li" and kb.get("D008094").aliases == ["lithium", "Lithium"]
    loaded = KnowledgeBase.from_bytes(kb.to_bytes())
    assert [(c.name, c.aliases, c.labels) for c in loaded] == [(c.name, c.aliases, c.labels) for c in kb]
    assert KnowledgeBase().add("X1").name is None


def test_missing_folder_says_how_to_build(tmp_path):
    with pytest.raises(KBFormatError, match="kb build"):
        KnowledgeBase.from_disk(tmp_path)


def test_malformed_record_is_named(tmp_path):
    good = [["D1", ["Chemical"], [["lithium", 1]]]]
    bad = good + [["D2", ["Disease"], [["tremor", "many"]]]]
    srsly.write_msgpack(tmp_path / DATA_FILE, {"version": 1, "concepts": bad})
    with pytest.raises(KBFormatError, match=r"kb\.msgpack:record 1: malformed"):
        KnowledgeBase.from_disk(tmp_path)


@pytest.mark.parametrize("content", [b"not msgpack \xff\xfe", srsly.msgpack_dumps({"version": 99})])
def test_not_a_kb_file(tmp_path, content):
    (tmp_path / DATA_FILE).write_bytes(content)
    with pytest.raises(KBFormatError, match=str(tmp_path / DATA_FILE)):
        KnowledgeBase.from_disk(tmp_path)
