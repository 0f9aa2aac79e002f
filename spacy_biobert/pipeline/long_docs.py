"""Documents of any length in bounded memory: a text over a character budget is split, annotated piece by piece
and re-joined into one ``Doc`` with the offsets of the whole text.

spaCy refuses a text over ``nlp.max_length`` (1,000,000 characters), and the transformer and the heads hold
activations for the whole document, so memory grows with its length. :func:`pipe_in_pieces` annotates a text
longer than ``max_chars`` (default :data:`MAX_PIECE_CHARS`) as pieces of at most ``max_chars`` characters, cut
after a paragraph break, else a line break, else a sentence end, else any whitespace (a piece is never shorter
than half the budget unless the text ends; a text without any of these is cut hard). Each piece runs through
the whole pipeline on its own and keeps only its annotations (the transformer's output is dropped), so peak
memory is that of one piece plus the annotations of the whole document.

:func:`join_docs` re-joins the pieces: tokens, entities (labels, concept ids), sentence starts and span groups
come from ``Doc.from_docs`` (the pieces partition the text, so ``joined.text == text`` and every offset is an
offset of the whole text); it also carries our stores: the NER confidences (span group ``attrs``), the linker's
candidates, the mention relations (token offsets moved) and the concept relations (the highest score of a
relation found in several pieces). What splitting changes: a relation between mentions in different pieces is
not found, and each piece is encoded without the context of its neighbours (as at a window edge).
"""
import re
from typing import Callable, Dict, Iterable, Iterator, List, Sequence

from spacy.language import Language
from spacy.tokens import Doc

from ..kb.link_candidates import CANDIDATES_DATA_KEY
from ..relations import CONCEPT_RELATIONS_DATA_KEY, RELATIONS_DATA_KEY

#: Default character budget of one piece (peak memory grows with it: see BENCHMARKS.md "Memory: one huge document").
MAX_PIECE_CHARS = 20_000
#: Places to cut, best first: each matches the separator that ends a piece (kept at the end of that piece).
BREAKS = (re.compile(r"\n[ \t]*\n\s*"), re.compile(r"\n\s*"), re.compile(r"[.!?][\"')\]]*\s+"), re.compile(r"\s+"))
#: ``user_data`` keys :func:`join_docs` carries over (everything else a piece holds, e.g. the transformer's
#: output, is dropped as soon as the piece is annotated).
JOINED_KEYS = (RELATIONS_DATA_KEY, CONCEPT_RELATIONS_DATA_KEY, CANDIDATES_DATA_KEY)
#: Runs the pipeline's components over made docs (``nlp.pipe`` or a server's own loop).
Runner = Callable[[List[Doc]], Iterable[Doc]]


def split_points(text: str, max_chars: int = MAX_PIECE_CHARS) -> List[int]:
    """Where to cut ``text``: ``[0, ..., len(text)]``, consecutive points at most ``max_chars`` apart.

    Raises:
        ValueError: if ``max_chars`` is below 2.
    """
    if max_chars < 2:
        raise ValueError(f"max_chars must be at least 2, got {max_chars}")
    points, start = [0], 0
    while len(text) - start > max_chars:
        low, high = start + max_chars // 2, start + max_chars
        cut = high
        for pattern in BREAKS:
            ends = [m.end() for m in pattern.finditer(text, low, high) if low < m.end() <= high]
            if ends:
                cut = ends[-1]
                break
        points.append(cut)
        start = cut
    points.append(len(text))
    return points


def keep_annotations(doc: Doc) -> Doc:
    """Drop from a piece what :func:`join_docs` does not carry (the transformer's output, the tensor)."""
    kept = {key: doc.user_data[key] for key in JOINED_KEYS if key in doc.user_data}
    doc.user_data.clear()
    doc.user_data.update(kept)
    doc.tensor = doc.tensor[:0]
    return doc


def _span_group_attrs(docs: Sequence[Doc], joined: Doc) -> None:
    """Concatenate the per-span attributes (tuples as long as their group, e.g. NER ``scores``) of each group."""
    for key in joined.spans:
        groups = [doc.spans[key] for doc in docs if key in doc.spans]
        names = set().union(*(group.attrs for group in groups))
        for name in names:
            values = [group.attrs.get(name) for group in groups]
            if all(isinstance(v, (tuple, list)) and len(v) == len(g) for v, g in zip(values, groups)):
                joined.spans[key].attrs[name] = tuple(x for v in values for x in v)


def join_docs(docs: Sequence[Doc]) -> Doc:
    """One ``Doc`` of annotated pieces whose texts, concatenated, are the document's text (see the module)."""
    if len(docs) == 1:
        return docs[0]
    joined = Doc.from_docs(list(docs), ensure_whitespace=False, exclude=["user_data", "tensor"])
    _span_group_attrs(docs, joined)
    relations, concepts, candidates = [], {}, []
    tokens = chars = 0
    for doc in docs:
        for hs, he, ts, te, label, score in doc.user_data.get(RELATIONS_DATA_KEY, ()):
            relations.append((hs + tokens, he + tokens, ts + tokens, te + tokens, label, score))
        for head, tail, label, score in doc.user_data.get(CONCEPT_RELATIONS_DATA_KEY, ()):
            concepts[(head, tail, label)] = max(score, concepts.get((head, tail, label), float("-inf")))
        candidates += [(s + chars, e + chars, cands) for s, e, cands in doc.user_data.get(CANDIDATES_DATA_KEY, ())]
        tokens, chars = tokens + len(doc), chars + len(doc.text)
    stores: Dict[str, tuple] = {
        RELATIONS_DATA_KEY: tuple(relations),
        CONCEPT_RELATIONS_DATA_KEY: tuple((*key, score) for key, score in sorted(concepts.items())),
        CANDIDATES_DATA_KEY: tuple(candidates),
    }
    for key, value in stores.items():
        if any(key in doc.user_data for doc in docs):
            joined.user_data[key] = value
    return joined


def annotate_long(nlp: Language, text: str, run: Runner, max_chars: int = MAX_PIECE_CHARS) -> Doc:
    """``text`` annotated piece by piece (each through ``run`` alone) and re-joined (see the module)."""
    points = split_points(text, max_chars)
    pieces = []
    for start, end in zip(points, points[1:]):
        (doc,) = run([nlp.make_doc(text[start:end])])
        pieces.append(keep_annotations(doc))
    return join_docs(pieces)


def pipe_in_pieces(
    nlp: Language, texts: Iterable[str], run: Runner, batch_size: int = 32, max_chars: int = MAX_PIECE_CHARS
) -> Iterator[Doc]:
    """The annotated docs of ``texts``, in order; texts over ``max_chars`` characters are split and re-joined.

    Args:
        nlp: the pipeline (makes the docs).
        texts: the documents' texts.
        run: runs the pipeline's components over a list of made docs (e.g. ``lambda docs: nlp.pipe(docs)``).
        batch_size: texts that fit the budget go to ``run`` this many at a time.
        max_chars: the character budget of one piece.
    """
    batch: List[Doc] = []
    for text in texts:
        if len(text) <= max_chars:
            batch.append(nlp.make_doc(text))
            if len(batch) >= batch_size:
                yield from run(batch)
                batch = []
            continue
        if batch:
            yield from run(batch)
            batch = []
        yield annotate_long(nlp, text, run, max_chars)
    if batch:
        yield from run(batch)
