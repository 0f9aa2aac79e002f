"""Train a relation head on its frozen encoder's outputs, computed once.

A ``biobert_rel`` head that listens to a shared transformer (``grad_factor`` 0, as in ``configs/quick.cfg``)
moves nothing upstream: its training needs the encoder's output, not its gradient. The encoder is the expensive
part, so :func:`pair_table` runs it (and the components before it) once over the training documents and keeps
the head's **pair features** -- everything up to its MLP, which has no parameters -- with the 0/1 target of
every candidate pair. :func:`fit_head` then trains the MLP for many cheap epochs on that table. The trained head
scores exactly as if it had been trained in the pipeline: at inference it computes the same features from the
same (unchanged) encoder.

Entities: ``entities="gold"`` gives the head the gold entities with their gold ids (components that write
``doc.ents`` or entity ids are not run); ``"predicted"`` runs every component before the head, and a predicted
mention takes the gold ids of the gold mention with the same character span (as in ``BioBertRel.update``).
"""
from typing import Iterable, List, NamedTuple, Optional, Sequence

import numpy
from spacy.language import Language
from spacy.training import Example
from spacy.util import minibatch
from thinc.api import Adam, Model, set_dropout_rate

from .rel import BioBertRel

ENTITY_SOURCES = ("gold", "predicted")
#: What a component assigns when it writes the entities or their ids (not run with gold entities).
ENTITY_ASSIGNS = ("doc.ents", "token.ent_kb_id")


class PairTable(NamedTuple):
    """Pair features and targets of a set of documents.

    Attributes:
        features: ``(pairs, width)`` input rows of the head's MLP, documents one after another.
        truths: ``(pairs, labels)`` 0/1 targets.
        offsets: ``(documents + 1,)`` row offsets: document ``i`` owns rows ``offsets[i]:offsets[i + 1]``.
    """

    features: numpy.ndarray
    truths: numpy.ndarray
    offsets: numpy.ndarray

    @property
    def n_docs(self) -> int:
        return len(self.offsets) - 1

    def rows(self, docs: Sequence[int]) -> numpy.ndarray:
        """Row indices of the documents ``docs``."""
        parts = [numpy.arange(self.offsets[i], self.offsets[i + 1]) for i in docs]
        return numpy.concatenate([numpy.zeros(0, dtype="int64")] + parts)


def upstream_components(nlp: Language, component: str, entities: str) -> List[str]:
    """The components that run before ``component`` to give it its input (``entities`` as in the module doc)."""
    if entities not in ENTITY_SOURCES:
        raise ValueError(f"entities must be one of {ENTITY_SOURCES}, got {entities!r}")
    before = nlp.pipe_names[:nlp.pipe_names.index(component)]
    if entities == "predicted":
        return before
    return [name for name in before if not set(nlp.get_pipe_meta(name).assigns) & set(ENTITY_ASSIGNS)]


def mlp_of(pipe: BioBertRel) -> Model:
    """The head's trainable part: the layers after the parameter-free pair features."""
    return pipe.model.layers[2]


def pair_table(
    nlp: Language,
    examples: Iterable[Example],
    *,
    component: str = "biobert_rel",
    entities: str = "gold",
    batch_size: Optional[int] = None,
) -> PairTable:
    """Run the upstream components over ``examples``' predicted docs once and tabulate the head's pair features.

    Args:
        nlp: a pipeline whose relation head ``component`` is initialized (labels, type pairs).
        examples: gold references with relations; their predicted docs carry the gold entities for
            ``entities="gold"`` (``spacy_biobert.GoldEntsCorpus.v1``).
        component: the relation head.
        entities: ``"gold"`` or ``"predicted"`` (see the module doc).
        batch_size: documents per encoder batch (default: the pipeline's).
    Returns:
        The features, targets and document offsets.
    """
    pipe = nlp.get_pipe(component)
    if not isinstance(pipe, BioBertRel):
        raise ValueError(f"component {component!r} is a {type(pipe).__name__}, not a biobert_rel relation head")
    pipe.check_initialized()
    tok2vec, features, _ = pipe.model.layers
    names = upstream_components(nlp, component, entities)
    width = pipe.model.get_ref("hidden").get_dim("nI")
    rows, truths, counts = [], [], []
    for batch in minibatch(examples, size=batch_size or nlp.batch_size):
        docs = [eg.predicted for eg in batch]
        for name in names:
            docs = list(nlp.get_pipe(name).pipe(docs))
        batch = [Example(doc, eg.reference) for doc, eg in zip(docs, batch)]
        (_, instances), (targets, _) = pipe.training_batch(batch)
        counts += [len(inst.pairs) for inst in instances]
        truths.append(targets)
        if sum(counts[-len(batch):]):
            rows.append(pipe.model.ops.to_numpy(features.predict((tok2vec.predict(docs), instances))))
    n_labels = len(pipe.labels)
    return PairTable(
        numpy.concatenate([numpy.zeros((0, width), dtype="f")] + rows, axis=0),
        numpy.concatenate([numpy.zeros((0, n_labels), dtype="f")] + truths, axis=0),
        numpy.cumsum([0] + counts),
    )


def fit_head(
    pipe: BioBertRel,
    table: PairTable,
    *,
    epochs: int,
    learn_rate: float = 0.001,
    batch_docs: int = 16,
    dropout: float = 0.1,
    seed: int = 0,
) -> List[float]:
    """Train the head's MLP on ``table`` with Adam: ``epochs`` passes over its documents in shuffled batches of
    ``batch_docs``, the head's own loss (``pipe.loss``). Returns the loss of each epoch."""
    mlp = mlp_of(pipe)
    optimizer = Adam(learn_rate)
    rng = numpy.random.default_rng(seed)
    set_dropout_rate(mlp, dropout)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for docs in minibatch(rng.permutation(table.n_docs).tolist(), size=batch_docs):
            rows = table.rows(docs)
            if not len(rows):
                continue
            scores, backprop = mlp.begin_update(mlp.ops.asarray2f(table.features[rows]))
            loss, d_scores = pipe.loss(scores, (table.truths[rows], len(docs)))
            backprop(d_scores)
            mlp.finish_update(optimizer)
            total += loss
        losses.append(total)
    return losses


def table_probabilities(pipe: BioBertRel, table: PairTable) -> numpy.ndarray:
    """The head's probabilities for every row of ``table``."""
    mlp = mlp_of(pipe)
    return mlp.ops.to_numpy(mlp.ops.sigmoid(mlp.predict(mlp.ops.asarray2f(table.features))))
