"""The dense-linking bench's candidate generators beside the linker's own (TF-IDF, with the name encoder as its
fallback below ``dense_trigger``): a :class:`~spacy_biobert.kb.ConceptMatcher` whose non-exact candidates come
from the name encoder (:mod:`spacy_biobert.kb.dense`) alone, or from a weighted sum of the two similarities.
"""
from typing import Dict, List, Sequence, Tuple

import numpy

from spacy_biobert.kb import ConceptMatcher, KnowledgeBase, Normalizer
from spacy_biobert.kb.dense import DenseNames

Candidate = Tuple[str, float]


class DenseMatcher(ConceptMatcher):
    """A :class:`ConceptMatcher` whose non-exact candidates are scored by ``mode``:

    * ``dense`` -- the encoder's cosine instead of TF-IDF's;
    * ``fused`` -- ``weight * TF-IDF + (1 - weight) * encoder`` over every name.
    """

    def __init__(self, kb: KnowledgeBase, normalizer: Normalizer, dense: DenseNames, *, mode: str = "fused",
                 weight: float = 0.5, top_k: int = 5) -> None:
        super().__init__(kb, normalizer, fuzzy=True, ngram_range=(3, 3), top_k=top_k)
        self.dense, self.mode, self.weight = dense, mode, weight
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
