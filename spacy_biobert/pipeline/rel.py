"""The relation-extraction head ``biobert_rel``: scores entity pairs and writes the relation store.

The component reads mentions from ``doc.ents`` -- gold ones (see the reader
``spacy_biobert.GoldEntsCorpus.v1``) or those predicted by an NER component earlier in the pipeline --
proposes candidate pairs (``spacy_biobert.candidates.v1``), scores every relation label of every
candidate with the shared transformer's token vectors (sigmoid per label: multi-label) and writes the
pairs scoring at least ``threshold``, with their scores:

* ``level="concept"`` (document level): one decision per pair of concepts (mentions sharing a concept
  id, see :func:`spacy_biobert.relations.concept_ids`) -> ``doc._.biobert_concept_relations``. With
  ``aggregate="entity"`` a concept's embedding pools all its mentions (ATLOP); with ``aggregate="max"``
  each mention pair is scored and a concept pair takes the maximum over its mention pairs (the spaCy
  ``rel_component`` baseline).
* ``level="mention"``: one decision per mention pair -> ``doc._.biobert_relations``.

Training labels (``update``): a predicted mention gets the concept ids of the gold mention with exactly
the same character span, otherwise it is its own new concept (text fallback) -- see
:mod:`spacy_biobert.scoring.rel`. A candidate is positive for a label when the reference doc has that
concept relation between any of their ids (at mention level, when the reference has mention-level
relations, when it has that relation between the two gold mentions). So a pipeline trained end to end
(entities from NER, ``annotating_components``) learns from, and is scored on, its own entities: missed
or mis-bounded entities cost relations. Labels and allowed (head label, tail label) pairs are learned
from the training data in ``initialize``.
"""
from itertools import islice
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy
from spacy.errors import Errors
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model, Optimizer, set_dropout_rate
from thinc.types import Floats2d

from ..corpus import readers as _readers  # noqa: F401  (registers spacy_biobert.GoldEntsCorpus.v1)
from ..models.rel import RelInstances
from ..relations import concept_ids, set_concept_relations, set_relations
from ..scoring.rel import gold_concept_mapper
from .optim import finish_update_scaled
from .rel_candidates import CandidateGenerator, PairInfo, build_candidates, gold_labels, labels_and_type_pairs

LEVELS = ("concept", "mention")
AGGREGATES = ("entity", "max")
DocPrediction = Tuple[List[PairInfo], Floats2d]

DEFAULT_REL_MODEL = """
[model]
@architectures = "spacy_biobert.RelationModel.v1"
pooling = "logsumexp"
hidden_width = 256
dropout = 0.1

[model.tok2vec]
@architectures = "spacy-transformers.TransformerListener.v1"
grad_factor = 1.0
upstream = "*"

[model.tok2vec.pooling]
@layers = "reduce_mean.v1"
"""


@Language.factory(
    "biobert_rel",
    assigns=["doc._.biobert_relations", "doc._.biobert_concept_relations"],
    requires=["doc.ents"],
    default_config={
        "model": Config().from_str(DEFAULT_REL_MODEL)["model"],
        "candidates": {"@misc": "spacy_biobert.candidates.v1", "scope": "document", "window": 0},
        "level": "concept",
        "aggregate": "entity",
        "threshold": 0.5,
        "head_lr_scale": 1.0,
        "scorer": {"@scorers": "spacy_biobert.rel_scorer.v1"},
    },
    default_score_weights={
        "rel_concept_f": 1.0,
        "rel_concept_p": 0.0,
        "rel_concept_r": 0.0,
        "rel_mention_f": 0.0,
        "rel_mention_p": 0.0,
        "rel_mention_r": 0.0,
    },
)
def make_biobert_rel(
    nlp: Language,
    name: str,
    model: Model,
    candidates: CandidateGenerator,
    level: str,
    aggregate: str,
    threshold: float,
    head_lr_scale: float,
    scorer: Optional[Callable],
) -> "RelationExtractor":
    """Create a :class:`RelationExtractor` (see the module docstring for the options).

    ``head_lr_scale`` multiplies the optimizer's learning rate for the relation head's own parameters (the
    shared transformer keeps the optimizer's rate).
    """
    return RelationExtractor(
        nlp.vocab, model, name, candidates=candidates, level=level, aggregate=aggregate,
        threshold=threshold, head_lr_scale=head_lr_scale, scorer=scorer,
    )


class RelationExtractor(TrainablePipe):
    """Document- or mention-level multi-label relation extraction over ``doc.ents``."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "biobert_rel",
        *,
        candidates: CandidateGenerator,
        level: str = "concept",
        aggregate: str = "entity",
        threshold: float = 0.5,
        head_lr_scale: float = 1.0,
        scorer: Optional[Callable] = None,
    ) -> None:
        if level not in LEVELS or aggregate not in AGGREGATES:
            raise ValueError(f"level must be one of {LEVELS} and aggregate one of {AGGREGATES}")
        self.vocab, self.model, self.name, self.scorer = vocab, model, name, scorer
        self.candidates, self.head_lr_scale = candidates, head_lr_scale
        self.cfg = {"labels": [], "type_pairs": [], "level": level, "aggregate": aggregate, "threshold": threshold}

    @property
    def labels(self) -> Tuple[str, ...]:
        """The relation labels, in output order."""
        return tuple(self.cfg["labels"])

    @property
    def type_pairs(self) -> Set[Tuple[str, str]]:
        """The allowed (head entity label, tail entity label) pairs."""
        return {tuple(pair) for pair in self.cfg["type_pairs"]}

    @property
    def by_concept(self) -> bool:
        """Whether instances are concept pairs (ATLOP pooling) rather than mention pairs."""
        return self.cfg["level"] == "concept" and self.cfg["aggregate"] == "entity"

    def _candidates(self, doc: Doc, concepts_of: Callable = concept_ids) -> Tuple[RelInstances, List[PairInfo]]:
        return build_candidates(doc, self.candidates, self.type_pairs, concepts_of, self.by_concept)

    def predict(self, docs: Iterable[Doc]) -> List[DocPrediction]:
        """Score every candidate of every doc.

        Args:
            docs: documents with ``ents`` (and transformer output when the model listens to one).
        Returns:
            Per doc: the candidates' :class:`PairInfo` and an ``(n_candidates, n_labels)`` probability array.
        """
        if not self.model.has_dim("nO"):
            raise ValueError(Errors.E109.format(name=self.name))
        docs = list(docs)
        batch = [self._candidates(doc) for doc in docs]
        n_labels = len(self.labels)
        if not n_labels or not any(infos for _, infos in batch):
            return [(infos, numpy.zeros((len(infos), n_labels), dtype="f")) for _, infos in batch]
        logits = self.model.predict((docs, [inst for inst, _ in batch]))
        probs = self.model.ops.to_numpy(self.model.ops.sigmoid(logits))
        offsets = numpy.cumsum([0] + [len(infos) for _, infos in batch])
        return [(infos, probs[offsets[i]:offsets[i + 1]]) for i, (_, infos) in enumerate(batch)]

    def set_annotations(self, docs: Iterable[Doc], predictions: List[DocPrediction]) -> None:
        """Write the pairs scoring at least ``threshold`` into the relation store (replacing it)."""
        threshold = self.cfg["threshold"]
        for doc, (infos, probs) in zip(docs, predictions):
            hits = [(info, label, float(probs[i, k])) for i, info in enumerate(infos)
                    for k, label in enumerate(self.labels) if probs[i, k] >= threshold]
            if self.cfg["level"] == "mention":
                set_relations(doc, [(info.head, info.tail, label, p) for info, label, p in hits])
                continue
            found: Dict[Tuple[str, str, str], float] = {}
            for info, label, p in hits:
                for key in ((h, t, label) for h in info.head_ids for t in info.tail_ids if h != t):
                    found[key] = max(p, found.get(key, 0.0))
            set_concept_relations(doc, found)

    def _training_batch(self, examples: Sequence[Example]) -> Tuple[List[RelInstances], numpy.ndarray]:
        instances, truths = [], []
        for eg in examples:
            inst, infos = self._candidates(eg.predicted, gold_concept_mapper(eg.reference))
            instances.append(inst)
            truths.append(gold_labels(eg.reference, infos, self.labels, self.cfg["level"] == "mention"))
        return instances, numpy.concatenate(truths, axis=0)

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optional[Optimizer] = None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """Learn from a batch (binary cross-entropy per label, summed over candidates, averaged over docs).

        Args:
            examples: predicted docs with entities, and references with relations.
            drop: dropout rate.
            sgd: optimizer.
            losses: updated with this component's loss.
        Returns:
            The losses.
        """
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, "RelationExtractor.update")
        if not examples:
            return losses
        instances, truths = self._training_batch(examples)
        set_dropout_rate(self.model, drop)
        scores, backprop = self.model.begin_update(([eg.predicted for eg in examples], instances))
        loss, d_scores = self.get_loss(examples, scores, truths)
        backprop(d_scores)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def finish_update(self, sgd: Optimizer) -> None:
        """Apply the gradients, the head's parameters at ``head_lr_scale`` times the optimizer's rate."""
        finish_update_scaled(self.model, sgd, self.head_lr_scale)

    def get_loss(self, examples: Sequence[Example], scores: Floats2d, truths=None) -> Tuple[float, Floats2d]:
        """Binary cross-entropy of the logits ``scores`` against the gold labels, and its gradient."""
        if truths is None:
            truths = self._training_batch(examples)[1]
        ops = self.model.ops
        probs = ops.to_numpy(ops.sigmoid(scores))
        n_docs = max(1, len(examples))
        eps = 1e-7
        loss = -(truths * numpy.log(probs + eps) + (1 - truths) * numpy.log(1 - probs + eps)).sum() / n_docs
        return float(loss), ops.asarray2f((probs - truths) / n_docs)

    def add_label(self, label: str) -> int:
        """Add a relation label before initialization; returns 1 if it was new."""
        if label in self.labels:
            return 0
        self._allow_resize()
        self.cfg["labels"].append(label)
        self.vocab.strings.add(label)
        return 1

    def _allow_resize(self) -> None:
        if self.model.has_dim("nO"):
            raise ValueError(f"Cannot add labels to {self.name} after it was initialized.")

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[Sequence[str]] = None,
        type_pairs: Optional[Sequence[Sequence[str]]] = None,
    ) -> None:
        """Learn the labels and allowed entity-label pairs from the training data, and initialize the model.

        Args:
            get_examples: returns training examples (references with relations and entities).
            nlp: the pipeline.
            labels: relation labels to use instead of those found in the data (and added with ``add_label``).
            type_pairs: allowed ``(head label, tail label)`` pairs instead of those found in the data.
        Raises:
            ValueError: if no relation label or entity-label pair is known.
        """
        validate_get_examples(get_examples, "RelationExtractor.initialize")
        found_labels, found_pairs = labels_and_type_pairs(eg.reference for eg in get_examples())
        self.cfg["labels"] = sorted(labels if labels is not None else set(self.labels) | found_labels)
        pairs = type_pairs if type_pairs is not None else found_pairs
        self.cfg["type_pairs"] = sorted([list(pair) for pair in pairs])
        if not self.labels or not self.cfg["type_pairs"]:
            raise ValueError(f"{self.name}: no relation labels or entity-label pairs found in the training data")
        for label in self.labels:
            self.vocab.strings.add(label)
        self.model.set_dim("nO", len(self.labels))
        sample = [eg.predicted for eg in islice(get_examples(), 10)]
        self.model.initialize(X=(sample, [self._candidates(doc)[0] for doc in sample]))

