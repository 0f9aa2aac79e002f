"""Memory zones that leave the vocabulary's tables as small as they found them
(:mod:`spacy_biobert.pipeline.memory_zones`)."""
import tracemalloc

import spacy

from spacy_biobert.pipeline.memory_zones import MemoryZones

TEXT = "Cisplatin-induced nephrotoxicity was seen in 2 of 10 patients ."


def fresh_words(i: int, n: int = 20) -> str:
    return " ".join(f"zq{i * n + k}xv" for k in range(n))


def kept_bytes(nlp, zone, units: int) -> int:
    """Bytes of Python heap (where spaCy's tables live) kept after ``units`` zones of fresh words, past a warm-up."""
    for i in range(200):
        with zone():
            nlp.make_doc(fresh_words(i))
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for i in range(200, units):
            with zone():
                nlp.make_doc(fresh_words(i))
        return tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()


def test_fresh_words_do_not_grow_the_vocabulary_tables():
    # spaCy's own zone frees the words but its hash tables keep a deleted cell per word and double as they fill:
    # 4,000 zones of 20 fresh words kept over 1 MiB. With the compactions the tables stay at their size for
    # the words between two compactions.
    plain = spacy.blank("en")
    nlp = spacy.blank("en")
    zones = MemoryZones(nlp, min_compact_after=2_000)
    kept = kept_bytes(nlp, zones.zone, 4_000)
    assert zones.compactions >= 30
    assert kept < 400_000, (kept, kept_bytes(plain, plain.memory_zone, 4_000))


def test_a_compaction_keeps_the_vocabulary_and_its_lexemes():
    nlp = spacy.blank("en")
    nlp.vocab.strings.add("kept-for-good")
    getters = nlp.vocab.lex_attr_getters

    def tokens():
        return [(t.text, t.orth, t.norm_, t.lower_, t.shape_, t.is_alpha, t.like_num) for t in nlp.make_doc(TEXT)]

    before, strings = tokens(), set(nlp.vocab.strings)
    zones = MemoryZones(nlp, min_compact_after=0)
    with zones.zone():
        doc = nlp.make_doc(fresh_words(0, n=len(strings) + 10))
        assert doc[0].text == "zq0xv"
    assert zones.compactions == 1 and zones.added == 0
    assert set(nlp.vocab.strings) == strings and "kept-for-good" in nlp.vocab.strings
    assert "zq0xv" not in nlp.vocab.strings and "zq0xv" not in nlp.vocab
    assert tokens() == before
    assert nlp.vocab.lex_attr_getters is getters


def test_a_zone_counts_the_strings_it_added_and_compacts_only_past_the_kept_ones():
    nlp = spacy.blank("en")
    zones, kept = MemoryZones(nlp, min_compact_after=0), len(nlp.vocab.strings)
    with zones.zone():
        nlp.make_doc(fresh_words(0, n=5))  # each word, its shape, prefix, suffix... as strings
        inside = len(nlp.vocab.strings)
    assert zones.added == inside - kept > 5 and zones.compactions == 0
    assert len(nlp.vocab.strings) == kept
