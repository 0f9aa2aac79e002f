"""Type aliases shared by the architectures and the components that use them."""
from typing import List, NamedTuple, Sequence, Tuple

from spacy.tokens import Doc
from thinc.api import Model
from thinc.types import Floats2d, Ragged

#: Token vectors for a batch of docs: one ``(n_tokens, width)`` array per doc.
Tok2VecModel = Model[List[Doc], List[Floats2d]]
#: Tag scores for a batch of docs: one ``(n_tokens, n_tags)`` array per doc.
TaggerModel = Model[List[Doc], List[Floats2d]]
#: Pools the wordpiece vectors of each token into one vector.
PoolingModel = Model[Ragged, Floats2d]


class RelInstances(NamedTuple):
    """The candidate pairs of one document, in token coordinates.

    Attributes:
        spans: ``(start, end)`` token offsets of the mentions.
        groups: for each entity, the indices (into ``spans``) of its mentions.
        pairs: ``(head entity, tail entity)`` indices into ``groups``; one model output row each.
        sentences: ``(start, end)`` token offsets of the document's sentences, in order and covering it; empty
            when the document has no sentence boundaries (then it is one sentence). Used by
            ``spacy_biobert.RelationModel.v2`` (local evidence); v1 ignores it.
    """

    spans: Sequence[Tuple[int, int]]
    groups: Sequence[Sequence[int]]
    pairs: Sequence[Tuple[int, int]]
    sentences: Sequence[Tuple[int, int]] = ()


#: Input of the relation model: the docs and their candidate pairs.
RelInput = Tuple[List[Doc], List[RelInstances]]
#: One row of label logits per candidate pair.
RelModel = Model[RelInput, Floats2d]
