"""Dense name retrieval for the linker: a sentence encoder's cosine between a mention and the KB's names.

The linker's fallback for strings its KB does not hold and TF-IDF finds no close name for: when the best
character TF-IDF similarity of a mention is below the linker's ``dense_trigger``, its candidates are the KB names
nearest by the cosine of mean-pooled encoder vectors instead (:meth:`ConceptMatcher.nearest
<.matcher.ConceptMatcher.nearest>`).

* :class:`NameEncoder` -- a Hugging Face encoder loaded from a local folder, mean-pooled and L2-normalised;
  :meth:`NameEncoder.fine_tune` trains it contrastively on (mention, other name of the same concept) pairs
  with in-batch negatives (the SapBERT recipe; a batch never holds one concept twice);
* :class:`DenseNames` -- the encoder and the vectors of the KB's normalised names (encoded once, saved beside
  the KB in the pipeline folder: ``encoder/``, ``names.json``, ``vectors.npy``);
* :func:`build_dense_names` -- what ``spacy biobert kb dense`` runs: fine-tune on a corpus's gold mentions, encode
  the KB's names.
"""
import json
import random
import tempfile
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy
import srsly

from .base import KnowledgeBase
from .normalize import Normalizer

ENCODER_DIR = "encoder"
NAMES_FILE = "names.json"
VECTORS_FILE = "vectors.npy"
#: The files of every dense-names folder: an output folder holding them may be replaced.
DENSE_FILES = (NAMES_FILE, VECTORS_FILE)
#: (anchor, positive, concept id)
Pair = Tuple[str, str, str]


class NameEncoder:
    """A Hugging Face encoder from a local folder, mean-pooled over its word pieces and L2-normalised."""

    def __init__(self, folder: Union[str, Path], max_length: int = 32) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self.model = AutoModel.from_pretrained(str(folder))
        self.model.eval()
        self.max_length = max_length

    @property
    def width(self) -> int:
        return int(self.model.config.hidden_size)

    def _embed(self, texts: Sequence[str]):
        import torch

        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_length,
                               return_tensors="pt")
        hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def encode(self, texts: Sequence[str], batch_size: int = 256) -> numpy.ndarray:
        """Unit vectors of ``texts`` (float32, one row each, in order; texts batched by length)."""
        import torch

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = numpy.zeros((len(texts), self.width), dtype=numpy.float32)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start:start + batch_size]
                out[rows] = self._embed([texts[i] for i in rows]).float().numpy()
        return out

    def fine_tune(self, pairs: Sequence[Pair], *, epochs: int = 2, batch_size: int = 64, learn_rate: float = 2e-5,
                  per_concept: int = 16, scale: float = 20.0, seed: int = 0,
                  log: Callable[[str], None] = lambda _: None) -> List[float]:
        """Contrastive training on ``pairs``, at most ``per_concept`` of one concept per epoch (drawn afresh each
        epoch): symmetric cross-entropy over the scaled cosine similarities of a batch's anchors and positives
        (the other concepts' positives are the negatives). Returns the mean loss
        of each epoch."""
        import torch

        rng = random.Random(seed)
        torch.manual_seed(seed)
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=learn_rate)
        losses = []
        self.model.train()
        try:
            for epoch in range(epochs):
                batches, total = concept_batches(pairs, batch_size, rng, per_concept), 0.0
                for batch in batches:
                    logits = scale * self._embed([p[0] for p in batch]) @ self._embed([p[1] for p in batch]).T
                    target = torch.arange(len(batch))
                    loss = (torch.nn.functional.cross_entropy(logits, target)
                            + torch.nn.functional.cross_entropy(logits.T, target)) / 2
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    total += loss.item()
                losses.append(total / max(1, len(batches)))
                log(f"epoch {epoch + 1}: {len(batches)} batches, mean loss {losses[-1]:.4f}")
        finally:
            self.model.eval()
        return losses

    def to_disk(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(folder))
        self.tokenizer.save_pretrained(str(folder))


def concept_batches(pairs: Sequence[Pair], batch_size: int, rng: random.Random,
                    per_concept: Optional[int] = None) -> List[List[Pair]]:
    """At most ``per_concept`` pairs of each concept (a random draw; None: all), shuffled into batches of at most
    ``batch_size`` in which no concept id and no string occurs twice (each would be a false negative); batches
    of one pair are dropped."""
    shuffled = list(pairs)
    rng.shuffle(shuffled)
    if per_concept is not None:
        counts: Counter = Counter()
        kept = []
        for pair in shuffled:
            if counts[pair[2]] < per_concept:
                counts[pair[2]] += 1
                kept.append(pair)
        shuffled = kept
    done: List[List[Pair]] = []
    open_: List[Tuple[List[Pair], set]] = []
    for pair in shuffled:
        for batch, seen in open_:
            if not seen.intersection(pair):
                batch.append(pair)
                seen.update(pair)
                if len(batch) == batch_size:
                    done.append(batch)
                    open_.remove((batch, seen))
                break
        else:
            open_.append(([pair], set(pair)))
    done.extend(batch for batch, _ in open_ if len(batch) > 1)
    rng.shuffle(done)
    return done


def training_pairs(annotations: Iterable[Tuple[str, str, str]], kb: KnowledgeBase, normalizer: Normalizer) -> List[Pair]:
    """``(mention key, other name key, id)`` for each gold ``(text, label, id)`` of a plain id (no composite) whose KB
    concept has a name that normalises differently from the mention."""
    pairs = set()
    for text, _, cid in annotations:
        concept = kb.get(cid) if cid and "|" not in cid else None
        key = normalizer(text)
        if concept is None or not key:
            continue
        pairs.update((key, other, cid) for other in map(normalizer, concept.names) if other and other != key)
    return sorted(pairs)


class DenseNames:
    """The encoder and the vectors of normalised names, one row of :attr:`matrix` each (encoded on first need,
    then kept)."""

    def __init__(self, encoder: NameEncoder, keys: Sequence[str] = (), matrix: Optional[numpy.ndarray] = None,
                 cache_size: int = 20_000) -> None:
        self.encoder = encoder
        #: the vectors of the last ``cache_size`` mention keys queried (mentions recur across documents)
        self._cache: "OrderedDict[str, numpy.ndarray]" = OrderedDict()
        self.cache_size = cache_size
        self._rows: Dict[str, int] = {key: row for row, key in enumerate(keys)}
        self.matrix = numpy.zeros((0, encoder.width), dtype=numpy.float32) if matrix is None else matrix
        if self.matrix.shape[0] != len(self._rows):
            raise ValueError(f"{self.matrix.shape[0]} vectors for {len(self._rows)} names")

    def __len__(self) -> int:
        return len(self._rows)

    def rows(self, keys: Sequence[str]) -> numpy.ndarray:
        """The rows of :attr:`matrix` of the name keys ``keys``, encoding the ones not seen before."""
        missing = [key for key in dict.fromkeys(keys) if key not in self._rows]
        if missing:
            start = len(self._rows)
            self.matrix = numpy.concatenate([self.matrix, self.encoder.encode(missing)])
            self._rows.update((key, start + i) for i, key in enumerate(missing))
        return numpy.fromiter((self._rows[key] for key in keys), dtype=numpy.int64, count=len(keys))

    def names(self, keys: Sequence[str]) -> numpy.ndarray:
        """The vectors of the name keys ``keys`` (one row each)."""
        rows = self.rows(keys)  # first: it may grow the matrix
        return self.matrix[rows]

    def queries(self, texts: Sequence[str]) -> numpy.ndarray:
        """The vectors of mention keys, one row each (the last ``cache_size`` distinct keys are kept)."""
        cache = self._cache
        missing = [text for text in dict.fromkeys(texts) if text not in cache]
        if missing:
            cache.update(zip(missing, self.encoder.encode(missing)))
        for text in texts:
            cache.move_to_end(text)
        rows = numpy.stack([cache[text] for text in texts]) if texts else numpy.zeros((0, self.encoder.width),
                                                                                    dtype=numpy.float32)
        while len(cache) > self.cache_size:
            cache.popitem(last=False)
        return rows

    def to_disk(self, folder: Union[str, Path]) -> None:
        """Save the encoder (``encoder/``) and the vectors of the names encoded so far (``names.json``,
        ``vectors.npy``, float16)."""
        folder = Path(folder)
        self.encoder.to_disk(folder / ENCODER_DIR)
        (folder / NAMES_FILE).write_text(json.dumps(list(self._rows), ensure_ascii=False), encoding="utf8")
        numpy.save(folder / VECTORS_FILE, self.matrix.astype(numpy.float16))

    def to_bytes(self) -> bytes:
        """The files of :meth:`to_disk` as bytes."""
        with tempfile.TemporaryDirectory() as tmp:
            self.to_disk(tmp)
            return srsly.msgpack_dumps({str(p.relative_to(tmp)): p.read_bytes()
                                        for p in sorted(Path(tmp).rglob("*")) if p.is_file()})

    @classmethod
    def from_bytes(cls, data: bytes) -> "DenseNames":
        """Restore :meth:`to_bytes` output."""
        with tempfile.TemporaryDirectory() as tmp:
            for name, content in srsly.msgpack_loads(data).items():
                path = Path(tmp, name)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
            return cls.from_disk(tmp)

    @classmethod
    def from_disk(cls, folder: Union[str, Path]) -> "DenseNames":
        """Load a folder written by :meth:`to_disk` (``spacy biobert kb dense``)."""
        folder = Path(folder)
        if not (folder / ENCODER_DIR / "config.json").is_file():
            raise ValueError(f"{folder}: not a dense-names folder (no {ENCODER_DIR}/config.json); build one with "
                             "`spacy biobert kb dense`.")
        keys = json.loads((folder / NAMES_FILE).read_text(encoding="utf8"))
        matrix = numpy.load(folder / VECTORS_FILE).astype(numpy.float32)
        if matrix.shape[0] != len(keys):
            raise ValueError(f"{folder}: {VECTORS_FILE} has {matrix.shape[0]} rows for {len(keys)} names")
        return cls(NameEncoder(folder / ENCODER_DIR), keys, matrix)


def build_dense_names(encoder: Union[str, Path], kb: KnowledgeBase, normalizer: Normalizer,
                      annotations: Iterable[Tuple[str, str, str]] = (), **fine_tuning) -> DenseNames:
    """The encoder folder ``encoder`` fine-tuned on ``annotations``' pairs (none: as it is), with the vectors of every
    name of ``kb``."""
    model = NameEncoder(encoder)
    pairs = training_pairs(annotations, kb, normalizer)
    if pairs:
        model.fine_tune(pairs, **fine_tuning)
    dense = DenseNames(model)
    dense.names(sorted({normalizer(name) for concept in kb for name in concept.names} - {""}))
    return dense
