"""The format-independent builder: source mentions -> token spans (alignment policy), ents, relations."""
import pytest

from spacy_biobert.corpus import MENTIONS_KEY, CorpusFormatError, Mention, SourceDoc
from tests.util import convert_with


def build(source: SourceDoc):
    return convert_with(lambda _: [source], None)


def test_misaligned_mention_is_expanded_and_counted():
    text = "Serum lithium=0.85 mM x"
    docs, stats = build(SourceDoc("1", text, [Mention(6, 13, "lithium", "Chemical", "D008094")]))
    assert stats.misaligned == 1
    assert docs[0].spans[MENTIONS_KEY].attrs["char_offsets"] == ((6, 13),)
    ent = docs[0].ents[0]
    assert ent.start_char == 6 and ent.end_char > 13 and ent.kb_id_ == "D008094"


def test_mention_covering_no_token_is_an_error():
    with pytest.raises(CorpusFormatError, match=r"^x.txt:1: mention ' ' covers no token"):
        build(SourceDoc("1", "Aspirin harms.", [Mention(7, 8, " ", "Chemical", where="x.txt:1")]))


def test_mention_relation_with_unknown_key_is_an_error():
    source = SourceDoc("1", "Aspirin harms.", [Mention(0, 7, "Aspirin", "Chemical", key="T1")],
                       mention_relations=[("T1", "T2", "Causes")])
    with pytest.raises(CorpusFormatError, match=r"relation Causes names unknown mention\(s\) \['T2'\]"):
        build(source)
