"""The ``biobert_ner`` component: per-token BILUO tagging with constrained Viterbi decoding.

The model scores every token for the tags ``O`` and ``B/I/L/U-<label>``; training minimises the per-token
softmax cross-entropy against the gold BILUO tags; prediction decodes the tag probabilities with a
Viterbi search restricted to valid BILUO sequences (:mod:`.biluo`), so an ill-formed entity can never be
produced. ``outside_weight`` (default 1.0: no change) multiplies the ``O`` tag's probability before decoding;
below 1 it favours entities (recall over precision), and is tuned on dev data by
:func:`spacy_biobert.scoring.ner_calibration.tune_outside_weight`.
"""
from itertools import islice
from typing import Any, Callable, Iterable, List, Optional, Tuple

import numpy
from spacy.language import Language
from spacy.tokens import Doc, Span, SpanGroup
from spacy.training import Example, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model
from thinc.types import Floats2d

from ..models.encoder import INLINE_TOK2VEC
from ..models.types import TaggerModel
from ._base import BioBertPipe, TrainingBatch
from .settings import Setting
from .biluo import LOG_FLOOR, biluo_constraints, biluo_tags, decode_entities

#: Default span group for the predictions, confidences in ``.attrs["scores"]``.
NER_SPANS_KEY = "biobert_ner"

#: The head of configs/ner.cfg: transformer vectors and lexical feature embeddings.
DEFAULT_NER_MODEL = """
[model]
@architectures = "spacy_biobert.NERTagger.v2"
nO = null

[model.features]
@architectures = "spacy.MultiHashEmbed.v2"
width = 64
attrs = ["NORM","PREFIX","SUFFIX","SHAPE"]
rows = [5000,1000,2500,2500]
include_static_vectors = false
"""


@Language.factory(
    "biobert_ner",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type", "doc.spans"],
    default_config={
        "model": {**Config().from_str(DEFAULT_NER_MODEL)["model"], **Config().from_str(INLINE_TOK2VEC)},
        "span_key": NER_SPANS_KEY,
        "scorer": {"@scorers": "spacy_biobert.ner_scorer.v1"},
        "head_lr_scale": 20.0,
        "outside_weight": 1.0,
    },
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_biobert_ner(
    nlp: Language,
    name: str,
    model: TaggerModel,
    span_key: str,
    scorer: Optional[Callable],
    head_lr_scale: float,
    outside_weight: float = 1.0,
) -> "BioBertNER":
    """Build the ``biobert_ner`` component (see :class:`BioBertNER`).

    ``head_lr_scale`` multiplies the optimizer's learning rate for the head's own layers only: the output
    layer and its feature embeddings (not a shared transformer).
    ``outside_weight`` (> 0) multiplies the ``O`` tag's probability before decoding: 1.0 leaves the decoding as
    trained, below 1 favours entities (more recall, less precision).
    """
    return BioBertNER(nlp.vocab, model, name, span_key=span_key, scorer=scorer, head_lr_scale=head_lr_scale,
                      outside_weight=outside_weight)


def check_outside_weight(weight: float) -> float:
    """``weight`` as a float.

    Raises:
        ValueError: naming the value, unless it is a finite number > 0.
    """
    value = float(weight)
    if not (numpy.isfinite(value) and value > 0):
        raise ValueError(f"biobert_ner: outside_weight must be a finite number > 0, got {weight!r}")
    return value


def _check_span_key(key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise ValueError("expected a non-empty string")
    return key


def weight_outside(probs: numpy.ndarray, weight: float) -> numpy.ndarray:
    """``probs`` with its column 0 (the ``O`` tag) multiplied by ``weight``; ``probs`` itself when 1.0, else a copy."""
    if weight == 1.0:
        return probs
    weighted = numpy.array(probs, copy=True)
    weighted[:, 0] *= weight
    return weighted


class BioBertNER(BioBertPipe):
    """Named-entity recogniser tagging tokens with BILUO tags over labels learned from the training data.

    ``set_annotations`` writes ``doc.ents`` (``kb_id_`` left empty for an entity linker) and the span
    group ``doc.spans[span_key]`` with the same entities and their confidences in
    ``group.attrs["scores"]`` (a tuple of floats; each the geometric mean of the entity's tag probabilities).
    ``outside_weight`` multiplies the ``O`` tag's probability before decoding (see :func:`make_biobert_ner`);
    it is read at every ``set_annotations``, so a calibration may change it in place.

    Settings (attributes, saved in the pipeline config; see :mod:`.settings`): ``span_key``, ``outside_weight``.
    """

    span_key = Setting(_check_span_key)
    outside_weight = Setting(check_outside_weight)

    def __init__(
        self,
        vocab: Vocab,
        model: TaggerModel,
        name: str = "biobert_ner",
        *,
        span_key: str = NER_SPANS_KEY,
        scorer: Optional[Callable] = None,
        head_lr_scale: float = 20.0,
        outside_weight: float = 1.0,
    ) -> None:
        cfg = {"span_key": span_key, "outside_weight": check_outside_weight(outside_weight)}
        super().__init__(vocab, model, name, head_lr_scale=head_lr_scale, scorer=scorer, cfg=cfg)

    @property
    def tags(self) -> List[str]:
        """The BILUO tag set of :attr:`labels`."""
        return biluo_tags(self.labels)

    def output_layer(self) -> Model:
        """The linear layer producing the tag scores."""
        return self.model.get_ref("output_layer")

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[Iterable[str]] = None,
    ) -> None:
        """Add the labels of the gold entities of ``get_examples()`` (or ``labels``) and build the model.

        Pretrained encoder weights are loaded here (by the encoder's own initialization), not before.
        """
        validate_get_examples(get_examples, "BioBertNER.initialize")
        if labels is None:
            labels = sorted({ent.label_ for eg in get_examples() for ent in eg.reference.ents})
        self.set_labels([*self.labels, *(label for label in labels if label not in self.labels)])
        self.output_layer().set_dim("nO", len(self.tags))
        doc_sample = [eg.predicted for eg in islice(get_examples(), 10)]
        self.model.initialize(X=doc_sample)

    def predict(self, docs: Iterable[Doc]) -> List[numpy.ndarray]:
        """Per-doc ``(n_tokens, n_tags)`` tag probabilities (numpy).

        Raises:
            ValueError: (E109) if the component was not initialized.
        """
        self.check_initialized()
        docs = list(docs)
        ops = self.model.ops
        if not any(len(doc) for doc in docs):
            return [numpy.zeros((len(doc), len(self.tags)), dtype="f") for doc in docs]
        scores = self.model.predict(docs)
        return [ops.to_numpy(ops.softmax(s, axis=-1)) for s in scores]

    def set_annotations(self, docs: Iterable[Doc], probs: List[numpy.ndarray]) -> None:
        """Decode ``probs`` and write ``doc.ents`` and ``doc.spans[span_key]`` (scores in its attrs).

        The ``O`` column of a copy of each doc's probabilities is multiplied by ``cfg["outside_weight"]`` first;
        ``probs`` is never modified.

        Raises:
            ValueError: if ``cfg["outside_weight"]`` is not > 0.
        """
        constraints = biluo_constraints(len(self.labels))
        key = self.span_key
        weight = check_outside_weight(self.outside_weight)
        for doc, doc_probs in zip(docs, probs):
            found = decode_entities(weight_outside(doc_probs, weight), constraints)
            spans = [Span(doc, s, e, label=self.labels[label]) for s, e, label, _ in found]
            doc.set_ents(spans, default="outside")
            doc.spans[key] = SpanGroup(doc, name=key, spans=spans, attrs={"scores": tuple(c for *_, c in found)})

    def nothing_to_learn(self, examples: List[Example]) -> bool:
        """``update`` skips a batch in which no document has a token."""
        return not any(len(eg.predicted) for eg in examples)

    def training_batch(self, examples: List[Example]) -> TrainingBatch:
        """The predicted docs, and the gold tag index of each of their tokens."""
        return [eg.predicted for eg in examples], [self._gold_indices(eg) for eg in examples]

    def _gold_indices(self, example: Example) -> numpy.ndarray:
        """Gold tag index per predicted token; -1 where it is missing, misaligned or of an unknown label."""
        index = {tag: i for i, tag in enumerate(self.tags)}
        gold = example.get_aligned_ner()
        return numpy.asarray([index.get(tag, -1) if tag else -1 for tag in gold], dtype="i")

    def loss(self, scores: List[Floats2d], golds: List[numpy.ndarray]) -> Tuple[float, List[Floats2d]]:
        """Mean cross-entropy over the batch's tokens with a known gold tag, and its gradient per doc."""
        ops = self.model.ops
        n_known = max(1, sum(int((g >= 0).sum()) for g in golds))
        loss, d_scores = 0.0, []
        for doc_scores, gold in zip(scores, golds):
            probs = ops.to_numpy(ops.softmax(doc_scores, axis=-1))
            rows = numpy.flatnonzero(gold >= 0)
            d = probs.copy()
            d[rows, gold[rows]] -= 1.0
            d[gold < 0] = 0.0
            loss -= float(numpy.log(numpy.maximum(probs[rows, gold[rows]], LOG_FLOOR)).sum())
            d_scores.append(ops.asarray2f(d / n_known))
        return loss / n_known, d_scores
