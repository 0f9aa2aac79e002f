"""Units of work in ``nlp.memory_zone()`` after which the vocabulary's tables are as small as after loading.

``nlp.memory_zone()`` frees the strings and lexemes a unit of work added to the vocabulary, but the two hash
tables that index them (the string store's and the lexemes', preshed maps) only mark those cells deleted. A new
word reuses a deleted cell only when its probe crosses one, and a table doubles when its used cells, live or
deleted, reach 60 %; so every word never seen before keeps its share of a table for good, in steps as the tables
double (a word seen again reuses its own deleted cell). The server on the tiny test pipeline crept up by 6.9 MiB
over 8,000 requests of 20 fresh words (``bench/bench_soak.py``).

:class:`MemoryZones` counts the strings its zones added; once they reach the number the vocabulary keeps (and at
least ``min_compact_after``), it rebuilds both tables from the kept strings (:func:`compact_vocab`), so the cost,
linear in the kept strings, is spread over at least as many new strings.
"""
from contextlib import contextmanager
from typing import Iterator

from spacy.language import Language
from spacy.vocab import Vocab

#: The vocabulary's parts a compaction leaves as they are (neither is indexed by those tables).
UNTOUCHED = ("vectors", "lookups")
#: Strings added by zones before a compaction, at the least.
MIN_COMPACT_AFTER = 100_000


def compact_vocab(vocab: Vocab) -> None:
    """Rebuild ``vocab``'s string table and lexeme index from the strings it keeps (call it outside any memory
    zone). Lexemes are made again when next looked up, as after loading; the lexeme attribute getters stay."""
    getters = vocab.lex_attr_getters
    vocab.from_bytes(vocab.to_bytes(exclude=UNTOUCHED), exclude=UNTOUCHED)
    vocab.lex_attr_getters = getters  # from_bytes would wrap the norm getter in the lookups once more


class MemoryZones:
    """``nlp.memory_zone()`` for one unit of work after another, compacting the vocabulary now and then.

    Args:
        nlp: the pipeline.
        min_compact_after: compact once the zones added at least this many strings (and as many as the
            vocabulary keeps).
    """

    def __init__(self, nlp: Language, min_compact_after: int = MIN_COMPACT_AFTER) -> None:
        self.nlp = nlp
        self.min_compact_after = min_compact_after
        self.added = 0
        self.compactions = 0

    @contextmanager
    def zone(self) -> Iterator[None]:
        """A memory zone; when it is left, the vocabulary is compacted if enough strings came and went."""
        strings = self.nlp.vocab.strings
        with self.nlp.memory_zone():
            before = len(strings)
            try:
                yield
            finally:
                self.added += len(strings) - before
        if self.added >= max(self.min_compact_after, len(strings)):
            compact_vocab(self.nlp.vocab)
            self.added = 0
            self.compactions += 1
