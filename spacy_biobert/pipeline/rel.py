"""The relation-extraction head ``biobert_rel``: scores entity pairs and writes the relation store.

The component reads mentions from ``doc.ents`` -- gold ones (see the reader
``spacy_biobert.GoldEntsCorpus.v1``) or those predicted by an NER component earlier in the pipeline --
proposes candidate pairs (``spacy_biobert.candidates.v1``), scores every relation label of every
candidate with the shared transformer's token vectors (sigmoid per label: multi-label) and writes the
pairs scoring at least ``threshold``, with their scores:

* ``level="concept"`` (document level): one decision per pair of concepts (mentions sharing a concept
  id, see :func:`spacy_biobert.concepts.concept_ids`) -> ``doc._.biobert_concept_relations``. With
  ``aggregate="entity"`` a concept's embedding pools all its mentions (ATLOP); with ``aggregate="max"``
  each mention pair is scored and a concept pair takes the maximum over its mention pairs (the spaCy
  ``rel_component`` baseline).
* ``level="mention"``: one decision per mention pair -> ``doc._.biobert_relations``.

Training labels (``update``): a predicted mention gets the concept ids of the gold mention with exactly
the same character span, otherwise it is its own new concept (text fallback) -- see
:mod:`spacy_biobert.concepts`. A candidate is positive for a label when the reference doc has that
concept relation between any of their ids (at mention level, when the reference has mention-level
relations, when it has that relation between the two gold mentions). So a pipeline trained end to end
(entities from NER, ``annotating_components``) learns from, and is scored on, its own entities: missed
or mis-bounded entities cost relations. Labels and allowed (head label, tail label) pairs are learned
from the training data in ``initialize``.
"""
from itertools import islice
from typing import Callable, Iterable, List, Optional, Sequence, Set, Tuple

import numpy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model
from thinc.types import Floats2d

from ..concepts import ConceptsOf, concept_ids, gold_concept_mapper
from ..models.encoder import INLINE_TOK2VEC
from ..models.types import RelModel
from ..relations import install_relation_extensions, set_concept_relations, set_relations
from ._base import BioBertPipe, TrainingBatch
from .settings import Setting, check_choice, check_probability, set_setting
from .rel_candidates import CandidateGenerator, Candidates, build_candidates, concept_hits
from .rel_gold import gold_labels, labels_and_type_pairs
from .rel_title import add_title_bonus

LEVELS = ("concept", "mention")
AGGREGATES = ("entity", "max")
LOSS_REDUCTIONS = ("doc", "pair")
DocPrediction = Tuple[Candidates, Floats2d]

#: The head of configs/rel.cfg.
DEFAULT_REL_MODEL = """
[model]
@architectures = "spacy_biobert.RelationModel.v2"
pooling = "logsumexp"
hidden_width = 256
dropout = 0.1
local_evidence = true
"""


@Language.factory(
    "biobert_rel",
    assigns=["doc._.biobert_relations", "doc._.biobert_concept_relations"],
    requires=["doc.ents"],
    default_config={
        "model": {**Config().from_str(DEFAULT_REL_MODEL)["model"], **Config().from_str(INLINE_TOK2VEC)},
        "candidates": {"@misc": "spacy_biobert.candidates.v1", "scope": "document", "window": 0},
        "level": "concept",
        "aggregate": "entity",
        "threshold": 0.5,
        "title_bonus": 0.0,
        "head_lr_scale": 1.0,
        "loss_reduction": "doc",
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
    model: RelModel,
    candidates: CandidateGenerator,
    level: str,
    aggregate: str,
    threshold: float,
    title_bonus: float,
    head_lr_scale: float,
    loss_reduction: str,
    scorer: Optional[Callable],
) -> "BioBertRel":
    """Create a :class:`BioBertRel` (see the module docstring for the options).

    ``head_lr_scale`` multiplies the optimizer's learning rate for the relation head's own parameters (the
    shared transformer keeps the optimizer's rate). ``loss_reduction``: ``"doc"`` (default) sums the binary
    cross-entropy over candidates and averages it over docs; ``"pair"`` averages it over the batch's candidate
    pairs (so its scale does not grow with the number of entities, which matters beside other losses on a shared
    transformer).
    """
    return BioBertRel(
        nlp.vocab, model, name, candidates=candidates, level=level, aggregate=aggregate,
        threshold=threshold, title_bonus=title_bonus, head_lr_scale=head_lr_scale, loss_reduction=loss_reduction,
        scorer=scorer,
    )


class BioBertRel(BioBertPipe):
    """Document- or mention-level multi-label relation extraction over ``doc.ents``.

    Settings (attributes, saved in the pipeline config; see :mod:`.settings`): ``threshold``, ``title_bonus``
    (added to the probability of a pair of concepts both named in the title before the threshold: see
    :mod:`.rel_title`; ``spacy biobert calibrate`` tunes it with the threshold), ``level``, ``aggregate``,
    ``loss_reduction``.
    """

    threshold = Setting(check_probability)
    title_bonus = Setting(check_probability)
    level = Setting(check_choice(*LEVELS))
    aggregate = Setting(check_choice(*AGGREGATES))
    loss_reduction = Setting(check_choice(*LOSS_REDUCTIONS))

    def __init__(
        self,
        vocab: Vocab,
        model: RelModel,
        name: str = "biobert_rel",
        *,
        candidates: CandidateGenerator,
        level: str = "concept",
        aggregate: str = "entity",
        threshold: float = 0.5,
        title_bonus: float = 0.0,
        head_lr_scale: float = 1.0,
        loss_reduction: str = "doc",
        scorer: Optional[Callable] = None,
    ) -> None:
        install_relation_extensions()
        cfg = {"type_pairs": [], "level": level, "aggregate": aggregate, "threshold": threshold,
               "title_bonus": title_bonus, "loss_reduction": loss_reduction}
        super().__init__(vocab, model, name, head_lr_scale=head_lr_scale, scorer=scorer, cfg=cfg)
        self.candidates = candidates

    def output_layer(self) -> Model:
        """The relation model (its ``nO`` is the number of relation labels)."""
        return self.model

    @property
    def type_pairs(self) -> Set[Tuple[str, str]]:
        """The allowed (head entity label, tail entity label) pairs."""
        return {tuple(pair) for pair in self.cfg["type_pairs"]}

    @property
    def by_concept(self) -> bool:
        """Whether instances are concept pairs (ATLOP pooling) rather than mention pairs."""
        return self.level == "concept" and self.aggregate == "entity"

    def _candidates(self, doc: Doc, concepts_of: ConceptsOf = concept_ids) -> Candidates:
        return build_candidates(doc, self.candidates, self.type_pairs, concepts_of, self.by_concept)

    def predict(self, docs: Iterable[Doc]) -> List[DocPrediction]:
        """Score every candidate of every doc.

        Args:
            docs: documents with ``ents`` (and transformer output when the model listens to one).
        Returns:
            Per doc: its :class:`Candidates` (a sequence of ``PairInfo``) and an ``(n_candidates, n_labels)``
            probability array.
        """
        self.check_initialized()
        docs = list(docs)
        batch = [self._candidates(doc) for doc in docs]
        n_labels = len(self.labels)
        if not n_labels or not any(len(cands) for cands in batch):
            return [(cands, numpy.zeros((len(cands), n_labels), dtype="f")) for cands in batch]
        logits = self.model.predict((docs, [cands.instances for cands in batch]))
        probs = self.model.ops.to_numpy(self.model.ops.sigmoid(logits))
        offsets = numpy.cumsum([0] + [len(cands) for cands in batch])
        return [(cands, probs[offsets[i]:offsets[i + 1]]) for i, cands in enumerate(batch)]

    def set_annotations(self, docs: Iterable[Doc], predictions: List[DocPrediction]) -> None:
        """Write the pairs scoring at least ``threshold`` (title pairs: with ``title_bonus`` added) into the relation
        store (replacing it)."""
        threshold, bonus = self.threshold, self.title_bonus
        for doc, (cands, probs) in zip(docs, predictions):
            probs = add_title_bonus(doc, cands, probs, bonus, self.level == "mention")
            if self.level == "mention":
                rows, cols = numpy.nonzero(probs >= threshold)  # only the hits become Python objects
                hits = [(cands[int(i)], self.labels[int(k)], float(probs[i, k])) for i, k in zip(rows, cols)]
                set_relations(doc, [(info.head, info.tail, label, p) for info, label, p in hits])
            else:
                set_concept_relations(doc, concept_hits(cands, probs, self.labels, threshold))

    def training_batch(self, examples: List[Example]) -> TrainingBatch:
        """Docs and candidates of ``examples``, and the 0/1 target of every candidate and label.

        Predicted mentions take gold concept ids by the exact-character-span rule
        (:func:`spacy_biobert.concepts.gold_concept_mapper`).
        """
        instances, truths = [], []
        for eg in examples:
            cands = self._candidates(eg.predicted, gold_concept_mapper(eg.reference))
            instances.append(cands.instances)
            truths.append(gold_labels(eg.reference, cands, self.labels, self.level == "mention"))
        docs = [eg.predicted for eg in examples]
        return (docs, instances), (numpy.concatenate(truths, axis=0), len(examples))

    def loss(self, scores: Floats2d, targets: Tuple[numpy.ndarray, int]) -> Tuple[float, Floats2d]:
        """Binary cross-entropy per label, averaged over candidate pairs (``loss_reduction="pair"``) or summed
        over candidates and averaged over docs (``"doc"``), and its gradient."""
        truths, n_docs = targets
        ops = self.model.ops
        probs = ops.to_numpy(ops.sigmoid(scores))
        denominator = max(1, len(truths) if self.loss_reduction == "pair" else n_docs)
        eps = 1e-7
        loss = -(truths * numpy.log(probs + eps) + (1 - truths) * numpy.log(1 - probs + eps)).sum() / denominator
        return float(loss), ops.asarray2f((probs - truths) / denominator)

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
            ValueError: (E143) if no relation label is known; naming ``type_pairs`` if no entity-label pair is.
        """
        validate_get_examples(get_examples, "BioBertRel.initialize")
        found_labels, found_pairs = labels_and_type_pairs(eg.reference for eg in get_examples())
        self.set_labels(sorted(labels if labels is not None else set(self.labels) | found_labels))
        pairs = type_pairs if type_pairs is not None else found_pairs
        self.cfg["type_pairs"] = sorted([list(pair) for pair in pairs])
        if not self.cfg["type_pairs"]:
            raise ValueError(
                f"{self.name}: no (head label, tail label) entity pair found: the training data has no relation "
                "between two entities of doc.ents; pass type_pairs to initialize"
            )
        self.model.set_dim("nO", len(self.labels))
        sample = [eg.predicted for eg in islice(get_examples(), 10)]
        self.model.initialize(X=(sample, [self._candidates(doc).instances for doc in sample]))


def relation_components(nlp: Language) -> List[str]:
    """Names of the relation components (``biobert_rel`` and any other :class:`BioBertRel`) of ``nlp``."""
    return [name for name, proc in nlp.pipeline if isinstance(proc, BioBertRel)]


def set_relation_threshold(nlp: Language, threshold: float) -> None:
    """Set the ``threshold`` of every relation component of ``nlp`` (:func:`~.settings.set_setting`).

    Raises:
        ValueError: if ``nlp`` has no relation component, or the threshold is not in [0, 1].
    """
    names = relation_components(nlp)
    if not names:
        raise ValueError(f"a relation threshold was given but the pipeline has no relation component "
                         f"(its components: {', '.join(nlp.pipe_names)})")
    for name in names:
        set_setting(nlp, name, "threshold", threshold)
