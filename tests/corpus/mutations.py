"""Mutants of corpus files and the oracle they are judged by (used by ``test_mutations*.py``).

The oracle: a reader given a mutant either raises :class:`CorpusFormatError` naming the file and a line (or,
for BioC, a record), or returns documents that can be explained by the mutant. No checksum protects free
text, labels or ids, so a changed byte there is a *different but well-formed* file; such a result is accepted
only when it is confined and literal (:func:`check_free_change`): the same number of documents, mentions and
relations, every mention at the same offsets with the same text, and every changed value spelled out in the
mutant. Everything else -- a lost or invented mention, relation or document, a moved span, a value the file
does not say -- is silent corruption and fails the test.
"""
import random
import re
from pathlib import Path
from typing import Callable, Iterator, List, Sequence, Tuple, Union

from spacy_biobert.corpus import CorpusFormatError, SourceDoc

Outcome = Union[List[SourceDoc], CorpusFormatError]
Mutant = Tuple[str, bytes]  # (description, bytes)

#: bytes a flip may write / an insertion may add: separators, line endings, digits, encodings, controls
PALETTE = [b"\n", b"\t", b"\r", b"\r\n", b"|", b" ", b"0", b"7", b"-", b"x", b"<", b"&", b"\x00", b"\xef\xbb\xbf",
           "é".encode("utf8"), b"\xe9", b"\xff"]


def read(reader: Callable, path: Path) -> Outcome:
    """The documents ``reader`` returns for ``path``, or the CorpusFormatError it raises (others propagate)."""
    try:
        return list(reader(path))
    except CorpusFormatError as err:
        return err


def canon(doc: SourceDoc, ordered: bool = True) -> tuple:
    """Everything a reader says about ``doc``; with ``ordered=False`` the order of annotations is ignored."""
    mentions = [(m.start, m.end, m.text, m.label, m.kb_id, m.key, tuple(m.extra)) for m in doc.mentions]
    parts = [mentions, list(doc.concept_relations), list(doc.mention_relations)]
    if not ordered:
        parts = [sorted(p) for p in parts]
    return (doc.doc_id, doc.text, *map(tuple, parts), tuple(sorted(doc.skipped.items())))


def assert_names_place(err: CorpusFormatError, path: Path, n_lines: int, record_ok: bool = False) -> None:
    """``err`` names ``path`` and a line in ``1..n_lines + 1`` (or, with ``record_ok``, a BioC record)."""
    message = str(err)
    assert message.startswith(str(path)), message
    match = re.match(re.escape(str(path)) + r":(\d+): ", message)
    if match:
        assert 1 <= int(match.group(1)) <= n_lines + 1, message
    elif not message.endswith(": file is empty"):  # an empty file has no line to name
        assert record_ok and re.match(re.escape(str(path)) + r": (document|malformed|no <document>)", message), message


def check_exact(outcome: Outcome, originals: Sequence[SourceDoc], what: str, ordered: bool = True) -> None:
    """The mutant must give back exactly ``originals`` (in this order)."""
    assert not isinstance(outcome, CorpusFormatError), f"{what}: refused a content-keeping change: {outcome}"
    assert [canon(d, ordered) for d in outcome] == [canon(d, ordered) for d in originals], what


def check_free_change(
    outcome: List[SourceDoc], originals: Sequence[SourceDoc], says: Callable[[str], bool], text_of: Callable,
    what: str, free_id: bool = False,
) -> None:
    """Accept ``outcome`` only as the originals with one document changed in unverifiable fields, literally.

    Args:
        says: whether a changed value (label, id...) is spelled out in the mutant.
        text_of: ``doc -> bool``, whether the mutant says exactly this document text.
        free_id: whether a document id is unverifiable (BioC: the id is written once).
    """
    assert len(outcome) == len(originals), f"{what}: {len(outcome)} documents instead of {len(originals)}"
    changed = [(o, r) for o, r in zip(originals, outcome) if canon(o) != canon(r)]
    assert len(changed) <= 1, f"{what}: {len(changed)} documents changed by one mutation"
    for old, new in changed:
        assert new.doc_id == old.doc_id or (free_id and says(new.doc_id)), f"{what}: id {new.doc_id!r}"
        assert new.text == old.text or text_of(new), f"{what}: text is not what the mutant says"
        assert len(new.mentions) == len(old.mentions), f"{what}: mentions lost or invented"
        for a, b in zip(old.mentions, new.mentions):
            same = (a.start, a.end) == (b.start, b.end) and _annotated(old, a) == _annotated(new, b)
            assert same, f"{what}: mention moved or its text changed: {a} -> {b}"
            for value, was in ((b.label, a.label), (b.kb_id, a.kb_id), (b.key, a.key)):
                assert value == was or says(value), f"{what}: {value!r} not in the mutant"
            # an extra value may be "key=value", written as two fields
            extra = [part for value in b.extra if value not in a.extra for part in value.split("=", 1)]
            assert all(says(part) for part in extra), f"{what}: extra {b.extra} not in the mutant"
        for rels in ("concept_relations", "mention_relations"):
            old_rels, new_rels = getattr(old, rels), getattr(new, rels)
            assert len(old_rels) == len(new_rels), f"{what}: {rels} lost or invented"
            for a, b in zip(old_rels, new_rels):
                assert a == b or all(says(v) for v in b), f"{what}: relation {b} not in the mutant"


def _annotated(doc: SourceDoc, mention) -> List[str]:
    """The annotated text of ``mention``: its fragments' texts when discontinuous (the gaps are free text)."""
    fragments = [v.split("=", 1)[1] for v in mention.extra if v.startswith("fragments=")]
    if not fragments:
        return [mention.text]
    bounds = [tuple(map(int, part.split("-"))) for part in fragments[0].split(",")]
    return [doc.text[s:e] for s, e in bounds]


# --- mutants ------------------------------------------------------------------------------------------------

def truncations(data: bytes, rng: random.Random, n: int) -> Iterator[Tuple[int, bytes]]:
    """Cuts at every line boundary and at ``n`` random positions (deterministic for a seeded ``rng``)."""
    bounds = {i + 1 for i, byte in enumerate(data) if byte == 10} | {0}
    cuts = sorted(bounds | {rng.randrange(len(data)) for _ in range(n)}) + [len(data) - 1]
    for cut in sorted(set(cuts) - {len(data)}):
        yield cut, data[:cut]


def flips(data: bytes, rng: random.Random, n: int, lo: int = 0) -> Iterator[Mutant]:
    """``n`` one-byte changes at positions ``>= lo``: a bit flipped or a byte from :data:`PALETTE` written."""
    for _ in range(n):
        at = rng.randrange(lo, len(data))
        if rng.random() < 0.3:
            new = bytes([data[at] ^ (1 << rng.randrange(8))])
        else:
            new = rng.choice(PALETTE)
        yield f"flip {at} {data[at:at + 1]!r}->{new!r}", data[:at] + new + data[at + 1:]


def insertions(data: bytes, rng: random.Random, n: int, lo: int = 0) -> Iterator[Mutant]:
    """``n`` insertions of a :data:`PALETTE` item or a random byte at positions ``>= lo``."""
    for _ in range(n):
        at = rng.randrange(lo, len(data) + 1)
        new = rng.choice(PALETTE + [bytes([rng.randrange(256)])])
        yield f"insert {new!r} at {at}", data[:at] + new + data[at:]
