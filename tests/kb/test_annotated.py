"""KB from annotated corpora: PubTator directly, and .spacy DocBins from the converter."""
import pytest

from spacy_biobert.corpus import CorpusFormatError
from spacy_biobert.kb import kb_from_corpus
from tests.util import TOY_PUBTATOR, convert_with, entity_doc, write_docbin, write_text
from spacy_biobert.corpus import read_pubtator

COMPOSITE = TOY_PUBTATOR.replace("1\tCID", "1\t22\t30\tdelirium\tDisease\tD1|D2\n1\tCID") + \
    "\n2|t|Nothing.\n2|a|Unknown thing.\n2\t0\t7\tNothing\tChemical\t-1\n"


def test_pubtator_counts_names_and_keeps_composites_whole(tmp_path):
    kb = kb_from_corpus(write_text(tmp_path / "toy.pubtator", COMPOSITE))
    assert dict(kb.get("D015738").names) == {"Famotidine": 2}
    assert kb.get("D015738").labels == {"Chemical"}
    assert kb.get("D1|D2").names == {"delirium": 1} and kb.get("D1|D2").labels == {"Disease"}
    assert "D1" not in kb and "-1" not in kb and len(kb) == 3


def test_docbin_uses_original_offsets(tmp_path):
    docs, _ = convert_with(read_pubtator, write_text(tmp_path / "toy.pubtator", TOY_PUBTATOR))
    kb = kb_from_corpus(write_docbin(tmp_path / "toy.spacy", docs))
    assert dict(kb.get("D015738").names) == {"Famotidine": 2} and set(kb.get("D003693").names) == {"delirium"}


def test_docbin_without_mention_group_uses_ents(tmp_path, nlp):
    kb = kb_from_corpus(write_docbin(tmp_path / "ents.spacy", [entity_doc(nlp)]))
    assert set(kb.get("D058186|D007674").names) == {"acute renal failure"}


def test_malformed_pubtator_raises_corpus_error(tmp_path):
    with pytest.raises(CorpusFormatError, match="bad.pubtator:3"):
        kb_from_corpus(write_text(tmp_path / "bad.pubtator", "1|t|T\n1|a|A\n1\t0\t1\tX\tChemical\tD1\n"))
