"""Dense retrieval over KB names for the dense-linking bench (issue 20, measured and not shipped): a mean-pooled
sentence encoder, its contrastive fine-tuning on (mention, other name of the same concept) pairs with in-batch
negatives (the SapBERT recipe; a batch never holds one concept twice), the vectors of the KB's names, and a
:class:`~spacy_biobert.kb.ConceptMatcher` whose non-exact candidates come from the encoder alone, from the encoder
below a TF-IDF trigger (fallback), or from a weighted sum of both similarities.
"""
import json
import random
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy

from spacy_biobert.kb import ConceptMatcher, KnowledgeBase, Normalizer

Candidate = Tuple[str, float]

ENCODER_DIR = "encoder"
NAMES_FILE = "names.json"
VECTORS_FILE = "vectors.npy"
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

    def __init__(self, encoder: NameEncoder, keys: Sequence[str] = (), matrix: Optional[numpy.ndarray] = None) -> None:
        self.encoder = encoder
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
        """The vectors of mention keys (not kept)."""
        return self.encoder.encode(list(texts))

    def to_disk(self, folder: Union[str, Path]) -> None:
        """Save the encoder (``encoder/``) and the vectors of the names encoded so far (``names.json``,
        ``vectors.npy``, float16)."""
        folder = Path(folder)
        self.encoder.to_disk(folder / ENCODER_DIR)
        (folder / NAMES_FILE).write_text(json.dumps(list(self._rows), ensure_ascii=False), encoding="utf8")
        numpy.save(folder / VECTORS_FILE, self.matrix.astype(numpy.float16))


class DenseMatcher(ConceptMatcher):
    """A :class:`ConceptMatcher` whose non-exact candidates are scored by ``mode``:

    * ``dense`` -- the encoder's cosine instead of TF-IDF's;
    * ``fallback`` -- TF-IDF, unless its best similarity is below ``trigger``: then the encoder's;
    * ``fused`` -- ``weight * TF-IDF + (1 - weight) * encoder`` over every name.
    """

    def __init__(self, kb: KnowledgeBase, normalizer: Normalizer, dense: DenseNames, *, mode: str = "fused",
                 trigger: float = 0.9, weight: float = 0.5, top_k: int = 5) -> None:
        super().__init__(kb, normalizer, fuzzy=True, ngram_range=(3, 3), top_k=top_k)
        self.dense, self.mode, self.trigger, self.weight = dense, mode, trigger, weight
        dense.names(list(self.index))
        self._scope_matrix: Dict[int, numpy.ndarray] = {}
        self.query_cache: Dict[str, numpy.ndarray] = {}

    def _matrix(self, label: str) -> Tuple[List[str], numpy.ndarray, object]:
        index = self._fuzzy_index(label)
        if id(index) not in self._scope_matrix:
            self._scope_matrix[id(index)] = self.dense.names(index.keys)
        return index.keys, self._scope_matrix[id(index)], index.names_t

    def _query_vectors(self, keys: Sequence[str]) -> numpy.ndarray:
        missing = [k for k in dict.fromkeys(keys) if k not in self.query_cache]
        if missing:
            self.query_cache.update(zip(missing, self.dense.queries(missing)))
        return numpy.stack([self.query_cache[k] for k in keys])

    def nearest(self, keys: Sequence[str], label: str) -> List[List[Candidate]]:
        if not keys or not self.index:
            return super().nearest(keys, label)
        names, matrix, names_t = self._matrix(label)
        tfidf = (self._vectorizer.transform(list(keys)) @ names_t).toarray()
        dense = self._query_vectors(keys) @ matrix.T
        if self.mode == "dense":
            scores = dense
        elif self.mode == "fallback":
            use_dense = tfidf.max(axis=1, initial=0.0) < self.trigger
            scores = numpy.where(use_dense[:, None], dense, tfidf)
        else:
            scores = self.weight * tfidf + (1.0 - self.weight) * dense
        n = min(self.top_k * 3, len(names))
        results = []
        for row in scores:
            top = numpy.argpartition(-row, n - 1)[:n]
            top = top[numpy.argsort(-row[top], kind="stable")]
            best: Dict[str, float] = {}
            for i in top:
                for cid in self._ranked_ids(names[i], label):
                    best.setdefault(cid, float(row[i]))
            results.append(sorted(best.items(), key=lambda item: -item[1])[: self.top_k])
        return results
