"""MeSH XML builder: descriptors and supplementary records, labels from tree numbers / SCR class, errors."""
import gzip

import pytest

from spacy_biobert.kb import KBFormatError, kb_from_mesh_xml
from spacy_biobert.kb.mesh_xml import tree_labels
from tests.util import write_text

DESC = """<?xml version="1.0"?>
<DescriptorRecordSet LanguageCode="eng">
<DescriptorRecord DescriptorClass="1">
  <DescriptorUI>D008094</DescriptorUI>
  <DescriptorName><String>Lithium</String></DescriptorName>
  <PharmacologicalActionList><PharmacologicalAction><DescriptorReferredTo><DescriptorUI>D000927</DescriptorUI>
    <DescriptorName><String>Antimanic Agents</String></DescriptorName></DescriptorReferredTo></PharmacologicalAction>
  </PharmacologicalActionList>
  <TreeNumberList><TreeNumber>D01.268.556.579</TreeNumber></TreeNumberList>
  <ConceptList><Concept PreferredConceptYN="Y"><ConceptUI>M1</ConceptUI><TermList>
    <Term><TermUI>T1</TermUI><String>Lithium</String></Term><Term><TermUI>T2</TermUI><String>Li</String></Term>
  </TermList></Concept></ConceptList>
</DescriptorRecord>
<DescriptorRecord DescriptorClass="1">
  <DescriptorUI>D014202</DescriptorUI>
  <DescriptorName><String>Tremor</String></DescriptorName>
  <TreeNumberList><TreeNumber>C10.597.350.850</TreeNumber><TreeNumber>C23.888.592.350.850</TreeNumber></TreeNumberList>
  <ConceptList><Concept><TermList><Term><String>Tremors</String></Term></TermList></Concept></ConceptList>
</DescriptorRecord>
</DescriptorRecordSet>
"""
SUPP = """<?xml version="1.0"?>
<SupplementalRecordSet><SupplementalRecord SCRClass="1">
  <SupplementalRecordUI>C000002</SupplementalRecordUI>
  <SupplementalRecordName><String>bevonium</String></SupplementalRecordName>
  <ConceptList><Concept><TermList><Term><String>bevonium methyl sulfate</String></Term></TermList></Concept>
  </ConceptList></SupplementalRecord></SupplementalRecordSet>
"""


def test_descriptors_with_entry_terms_and_tree_labels(tmp_path):
    kb = kb_from_mesh_xml(write_text(tmp_path / "desc.xml", DESC))
    assert len(kb) == 2  # the pharmacological action's nested DescriptorUI is not a record
    assert set(kb.get("D008094").names) == {"Lithium", "Li"} and kb.get("D008094").labels == {"Chemical"}
    assert set(kb.get("D014202").names) == {"Tremor", "Tremors"} and kb.get("D014202").labels == {"Disease"}


def test_supplementary_records_gzipped(tmp_path):
    path = tmp_path / "supp.xml.gz"
    path.write_bytes(gzip.compress(SUPP.encode("utf8")))
    kb = kb_from_mesh_xml(path)
    assert kb.get("C000002").labels == {"Chemical"} and "bevonium methyl sulfate" in kb.get("C000002").names


def test_tree_labels_longest_prefix():
    assert tree_labels(["F03.600"], {"F": "Other", "F03": "Disease"}) == {"Disease"}
    assert tree_labels(["A01.1"]) == set()


def test_malformed_xml_names_the_line(tmp_path):
    path = write_text(tmp_path / "bad.xml", DESC.replace("</DescriptorName>\n  <TreeNumberList>", "\n<TreeNumberList>", 1))
    with pytest.raises(KBFormatError, match=r"bad\.xml:\d+: malformed XML"):
        kb_from_mesh_xml(path)


def test_record_without_id(tmp_path):
    path = write_text(tmp_path / "noid.xml", DESC.replace("<DescriptorUI>D014202</DescriptorUI>", ""))
    with pytest.raises(KBFormatError, match=r"noid\.xml:record 2: DescriptorRecord without DescriptorUI"):
        kb_from_mesh_xml(path)


def test_no_records(tmp_path):
    with pytest.raises(KBFormatError, match="no DescriptorRecord"):
        kb_from_mesh_xml(write_text(tmp_path / "empty.xml", "<DescriptorRecordSet/>"))
