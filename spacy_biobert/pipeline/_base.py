"""What the trainable heads share: labels, the initialization check, ``update`` and a scaled ``finish_update``.

Settings (``cfg`` keys the user chooses) are :class:`~.settings.Setting` attributes; loading keeps the config's
(:mod:`.settings`), so a config override at ``spacy.load`` takes effect. Loading checks the head's ``cfg`` and
``model`` files first and names one that is missing or damaged (:mod:`.model_files`).

A head subclasses :class:`BioBertPipe` and provides :meth:`~BioBertPipe.output_layer` (the node whose
``nO`` is the number of outputs), :meth:`~BioBertPipe.training_batch` (model input and targets of a batch)
and :meth:`~BioBertPipe.loss` (loss and gradient of the model's output); it may override
:meth:`~BioBertPipe.nothing_to_learn` (which batches ``update`` skips).
"""
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

from spacy.errors import Errors
from spacy.pipeline import TrainablePipe
from spacy.training import Example, validate_examples
from spacy.vocab import Vocab
from thinc.api import Model, Optimizer, set_dropout_rate

from .model_files import load_component_model, read_component_cfg
from .settings import Configurable

#: (model input, targets) of a training batch.
TrainingBatch = Tuple[Any, Any]


class BioBertPipe(Configurable, TrainablePipe):
    """Base of the spacy-biobert heads.

    ``head_lr_scale`` multiplies the optimizer's learning rate for the head's own (thinc) parameters; a
    transformer inside the model (an inline encoder's shim) keeps the optimizer's rate. The pretrained
    encoder wants a small rate, a freshly initialised output layer would barely move at it within a
    short training budget.
    """

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str,
        *,
        head_lr_scale: float,
        scorer: Optional[Callable],
        cfg: Dict[str, Any],
    ) -> None:
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        self.head_lr_scale = head_lr_scale
        self.cfg: Dict[str, Any] = {"labels": [], **cfg}
        self.init_settings()

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = ()) -> "BioBertPipe":
        """Load ``cfg`` and ``model`` saved by ``to_disk``, checking both first; the settings stay the config's
        (:mod:`.settings`).

        Raises:
            DamagedModelError: naming the file that is missing or damaged.
        """
        path = Path(path)
        with self.keeping_settings():
            if "cfg" not in exclude:
                self.cfg.update(read_component_cfg(path, self.name))
            if "model" not in exclude:
                load_component_model(path, self.model.from_bytes)
        return self

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = ()) -> "BioBertPipe":
        """Load the model and what the head learned; the settings stay the config's (:mod:`.settings`)."""
        with self.keeping_settings():
            return super().from_bytes(bytes_data, exclude=exclude)

    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = ()) -> None:
        """Save the model and ``cfg``; warns about settings the saved config will not hold (:mod:`.settings`)."""
        self.warn_unsaved_settings()
        super().to_disk(path, exclude=exclude)

    @property
    def labels(self) -> Tuple[str, ...]:
        """The labels, in output order."""
        return tuple(self.cfg["labels"])

    def output_layer(self) -> Model:
        """The node whose ``nO`` dimension is the number of outputs; sized at initialization."""
        raise NotImplementedError

    def training_batch(self, examples: List[Example]) -> TrainingBatch:
        """Model input and targets of ``examples``."""
        raise NotImplementedError

    def nothing_to_learn(self, examples: List[Example]) -> bool:
        """Whether ``update`` skips this batch (default: when it is empty)."""
        return not examples

    def loss(self, scores: Any, targets: Any) -> Tuple[float, Any]:
        """Loss and gradient of the model output ``scores`` against ``targets``."""
        raise NotImplementedError

    def add_label(self, label: str) -> int:
        """Add a label before initialization. Returns 1 if it was new, else 0.

        Raises:
            ValueError: (E922) once the output layer is sized.
        """
        if label in self.labels:
            return 0
        if self.output_layer().has_dim("nO"):
            raise ValueError(Errors.E922.format(name=self.name, nO=self.output_layer().get_dim("nO")))
        self.cfg["labels"] = [*self.labels, label]
        self.vocab.strings.add(label)
        return 1

    def set_labels(self, labels: Iterable[str]) -> None:
        """Fix the label set (in this order); the head then sizes its output layer from it.

        Raises:
            ValueError: (E143) if ``labels`` is empty.
        """
        self.cfg["labels"] = list(labels)
        if not self.labels:
            raise ValueError(Errors.E143.format(name=self.name))
        for label in self.labels:
            self.vocab.strings.add(label)

    def check_initialized(self) -> None:
        """Raise spaCy's E109 ("did you forget to call initialize()?") if the head is not initialized."""
        if not self.labels or not self.output_layer().has_dim("nO"):
            raise ValueError(Errors.E109.format(name=self.name))

    def get_loss(self, examples: Iterable[Example], scores: Any) -> Tuple[float, Any]:
        """Loss and gradient of ``scores`` (the model's output for ``examples``)."""
        return self.loss(scores, self.training_batch(list(examples))[1])

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optional[Optimizer] = None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """Learn from a batch of examples.

        Args:
            examples: predicted docs (with the input this head reads) and gold references.
            drop: dropout rate.
            sgd: optimizer; gradients are applied with :meth:`finish_update`.
            losses: updated with this component's loss.
        Returns:
            The losses.
        """
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, f"{type(self).__name__}.update")
        if self.nothing_to_learn(examples):
            return losses
        inputs, targets = self.training_batch(examples)
        set_dropout_rate(self.model, drop)
        scores, backprop = self.model.begin_update(inputs)
        loss, d_scores = self.loss(scores, targets)
        backprop(d_scores)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def finish_update(self, sgd: Optimizer) -> None:
        """Apply the gradients: thinc parameters at ``head_lr_scale`` times the optimizer's rate, shims at it."""
        for node in self.model.walk():
            for shim in node.shims:
                shim.finish_update(sgd)
        for node in self.model.walk():
            for name in node.param_names:
                if node.has_grad(name):
                    key = (node.id, name)
                    param, _ = sgd(key, node.get_param(name), node.get_grad(name), lr_scale=self.head_lr_scale)
                    node.set_param(name, param)
