"""``spacy_biobert.KBMatchFeatures.v1``: a dictionary-match feature per token, embedded, for the NER head.

Each token gets the BILU position and the label of the longest dictionary name that matches the tokens around
it (greedy, left to right; ``O`` outside any match), as TaggerOne and tmChem feed lexicon matches to their
taggers. A name matches a token sequence when both are equal lower-cased with all whitespace removed, so the
dictionary needs no tokenizer. Each (BILU, label) value has a learned vector of ``width``.

The dictionary comes at initialization from a ``lexicon`` callable (``spacy_biobert.kb_lexicon.v1``:
MeSH-lite's names and a training corpus's gold mentions) and is saved with the model (its ``attrs``), so a
loaded pipeline reads nothing else. Names come in groups: a vocabulary's (no source text: always visible) and
each training document's mentions (keyed by the document's text). To keep the head from learning that every
training mention matches, a training document (``is_train``) sees only the mentions of the documents of the
other fold (two folds, by a hash of the text) besides the vocabulary; at prediction every name is visible.
"""
import zlib
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model, uniform_init
from thinc.types import Floats2d, Ints1d

from .types import Tok2VecModel

#: (source text, [(name, label or None)]): a document's gold mentions, or (source None) a vocabulary's names.
LexiconGroup = Tuple[Optional[str], Sequence[Tuple[str, Optional[str]]]]
Lexicon = Callable[[], Iterable[LexiconGroup]]

FOLDS = 2
BILU = "BILU"


def doc_fold(text: str) -> int:
    """The fold of a training document, by a stable hash of its text."""
    return zlib.crc32(text.encode("utf8")) % FOLDS


def name_key(text: str) -> str:
    """What a name and a token sequence are compared by: lower case, whitespace removed."""
    return "".join(text.lower().split())


@registry.architectures("spacy_biobert.KBMatchFeatures.v1")
def build_kb_match_features(lexicon: Lexicon, width: int = 16, max_tokens: int = 12) -> Tok2VecModel:
    """Docs -> one ``(n_tokens, width)`` array per doc: the learned vector of each token's dictionary match.

    Args:
        lexicon: called once, at initialization, for the dictionary's names (see the module docstring).
        width: width of the vectors.
        max_tokens: longest match considered, in tokens.
    """
    return Model("kb_match_features", _forward, init=_init, dims={"nO": width, "nV": None}, params={"E": None},
                 attrs={"lexicon": lexicon, "max_tokens": max_tokens, "labels": [], "entries": {}})


def _init(model: Model, X: Optional[List[Doc]] = None, Y=None) -> None:
    """Read the lexicon into ``attrs`` and allocate one vector per (BILU, label) value and ``O``."""
    labels: Dict[str, int] = {}
    entries: Dict[str, List[int]] = {}  # key -> [label slot seen in fold 0, in fold 1, in a vocabulary]
    for text, names in model.attrs["lexicon"]():
        column = FOLDS if text is None else doc_fold(text)
        for name, label in names:
            key = name_key(name)
            if not key:
                continue
            slot = labels.setdefault(label, len(labels) + 1) if label else 0
            entry = entries.setdefault(key, [-1] * (FOLDS + 1))
            if entry[column] <= 0:
                entry[column] = slot
    model.attrs["labels"] = sorted(labels, key=labels.__getitem__)
    model.attrs["entries"] = entries
    model.set_dim("nV", 1 + len(BILU) * (len(labels) + 1), force=True)
    model.set_param("E", uniform_init(model.ops, (model.get_dim("nV"), model.get_dim("nO"))))


def _forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[List[Floats2d], Callable]:
    table = model.get_param("E")
    ids = [model.ops.asarray1i(match_ids(model, doc, is_train)) for doc in docs]
    vectors = [table[i] for i in ids]

    def backprop(d_vectors: List[Floats2d]) -> List:
        d_table = model.ops.alloc2f(*table.shape)
        for i, d in zip(ids, d_vectors):
            model.ops.scatter_add(d_table, i, d)
        model.inc_grad("E", d_table)
        return []

    return vectors, backprop


def _visible_slot(entry: Sequence[int], fold: Optional[int]) -> Optional[int]:
    """The label slot (0: no label) of a name for a doc of ``fold`` (None: every group visible); None if hidden."""
    columns = range(FOLDS + 1) if fold is None else [c for c in range(FOLDS + 1) if c != fold]
    seen = [entry[c] for c in columns if entry[c] >= 0]
    if not seen:
        return None
    return next((slot for slot in seen if slot > 0), 0)


def match_ids(model: Model, doc: Doc, is_train: bool = False) -> Ints1d:
    """The feature value of each token of ``doc``: 0 outside a match, else ``1 + 4 * label slot + BILU index``."""
    entries, max_tokens = model.attrs["entries"], model.attrs["max_tokens"]
    fold = doc_fold(doc.text) if is_train else None
    words = [name_key(token.text) for token in doc]
    ids = [0] * len(words)
    start = 0
    while start < len(words):
        best: Optional[Tuple[int, int]] = None
        key = ""
        for end in range(start + 1, min(len(words), start + max_tokens) + 1):
            key += words[end - 1]
            entry = entries.get(key)
            slot = None if entry is None else _visible_slot(entry, fold)
            if slot is not None:
                best = (end, slot)
        if best is None:
            start += 1
            continue
        end, slot = best
        base = 1 + len(BILU) * slot
        if end - start == 1:
            ids[start] = base + BILU.index("U")
        else:
            ids[start] = base + BILU.index("B")
            ids[start + 1:end - 1] = [base + BILU.index("I")] * (end - start - 2)
            ids[end - 1] = base + BILU.index("L")
        start = end
    return ids
