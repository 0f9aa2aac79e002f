"""Candidate generation: exact lookup of the normalised string, then character n-gram TF-IDF nearest neighbours,
then (optionally) dense retrieval for the strings TF-IDF finds no close name for.

A candidate is ``(concept id, score)``; the score is the similarity between the mention and the candidate's
closest name: ``1.0`` for an exact match of the normalised strings (several ids of one name are ranked by how
often the name was seen with each), else the cosine similarity of TF-IDF vectors of character n-grams
(scikit-learn ``TfidfVectorizer(analyzer="char_wb")``, exhaustive search by one sparse product). With
``dense`` names (:class:`~.dense.DenseNames`), a mention whose best TF-IDF similarity is below ``dense_trigger``
is scored by the cosine of the name encoder's vectors instead, over the same names.

Both steps are restricted to the mention's label where the KB knows the label (some concept carries it):
then only concepts with that label, or with no label at all, are candidates. A label the KB does not know
restricts nothing.
"""
from collections import Counter, defaultdict
from typing import Dict, List, Optional, Sequence, Set, Tuple

import numpy

from .base import KnowledgeBase
from .dense import DenseNames
from .normalize import Normalizer

Candidate = Tuple[str, float]
#: (text, label) of a mention to link.
Query = Tuple[str, str]


class _FuzzyIndex:
    """Nearest-neighbour search over some normalised names, in a shared TF-IDF space.

    The vectorizer's rows are L2-normalised, so the cosine similarity of a query and a name is the dot product of
    their rows: one sparse product per call and a partial sort, with no per-call cost that grows with the index
    beyond that product (scikit-learn's brute-force ``NearestNeighbors`` re-normalised the whole index on every
    call, which made linking one document at a time slow).
    """

    def __init__(self, keys: List[str], vectorizer, dense_rows: Optional[numpy.ndarray] = None) -> None:
        self.keys = keys
        self.names_t = vectorizer.transform(keys).T.tocsr() if keys else None
        #: the rows of the name encoder's matrix of ``keys`` (with dense names)
        self.dense_rows = dense_rows

    def similarities(self, vectors) -> numpy.ndarray:
        """The similarity of each row of ``vectors`` to each name (one row per vector, one column per name)."""
        return (vectors @ self.names_t).toarray()

    def top(self, similarities: numpy.ndarray, n: int) -> List[List[Tuple[str, float]]]:
        """The ``n`` names of each row of ``similarities`` (similarity > 0), most similar first; ties in index
        order."""
        if not self.keys:
            return [[] for _ in range(similarities.shape[0])]
        n = min(n, len(self.keys))
        results = []
        for row in similarities:
            top = numpy.argpartition(-row, n - 1)[:n]
            top = top[numpy.lexsort((top, -row[top]))]
            results.append([(self.keys[i], float(row[i])) for i in top if row[i] > 0.0])
        return results


class ConceptMatcher:
    """Candidates for mention strings from a :class:`~.base.KnowledgeBase` (see the module docstring)."""

    def __init__(
        self,
        kb: KnowledgeBase,
        normalizer: Normalizer = Normalizer(),
        *,
        fuzzy: bool = True,
        ngram_range: Tuple[int, int] = (3, 3),
        top_k: int = 5,
        dense: Optional[DenseNames] = None,
        dense_trigger: float = 0.0,
    ) -> None:
        self.normalizer, self.fuzzy, self.ngram_range, self.top_k = normalizer, fuzzy, tuple(ngram_range), top_k
        self.dense, self.dense_trigger = dense, dense_trigger
        self.index: Dict[str, Counter] = defaultdict(Counter)
        self.concept_labels: Dict[str, Set[str]] = {}
        for concept in kb:
            self.concept_labels[concept.id] = set(concept.labels)
            for name, count in concept.names.items():
                key = normalizer(name)
                if key:
                    self.index[key][concept.id] += count
        self.known_labels = kb.labels
        self._vectorizer = None
        self._fuzzy: Dict[Optional[str], _FuzzyIndex] = {}

    def allowed(self, cid: str, label: str) -> bool:
        """Whether concept ``cid`` may link to a mention labelled ``label``."""
        labels = self.concept_labels.get(cid, set())
        return label not in self.known_labels or not labels or label in labels

    def _ranked_ids(self, key: str, label: str) -> List[str]:
        counts = self.index.get(key, {})
        return [cid for cid, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])) if self.allowed(cid, label)]

    def exact(self, key: str, label: str) -> List[Candidate]:
        """Candidates whose names normalise to ``key`` (score 1.0), most frequent first."""
        return [(cid, 1.0) for cid in self._ranked_ids(key, label)[: self.top_k]]

    def _fuzzy_index(self, label: str) -> _FuzzyIndex:
        scope = label if label in self.known_labels else None
        if scope not in self._fuzzy:
            if self._vectorizer is None:
                from sklearn.feature_extraction.text import TfidfVectorizer

                self._vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=self.ngram_range, dtype=numpy.float32)
                self._vectorizer.fit(list(self.index))
            keys = [key for key in self.index if scope is None or self._ranked_ids(key, scope)]
            dense_rows = self.dense.rows(keys) if self.dense is not None else None
            self._fuzzy[scope] = _FuzzyIndex(keys, self._vectorizer, dense_rows)
        return self._fuzzy[scope]

    def prepare(self) -> "ConceptMatcher":
        """Build the TF-IDF indexes (and name vectors) of the KB's labels now rather than at the first fuzzy lookup
        of each label."""
        if self.fuzzy and self.index:
            for label in self.known_labels:
                self._fuzzy_index(label)
        return self

    def nearest(self, keys: Sequence[str], label: str) -> List[List[Candidate]]:
        """TF-IDF candidates for normalised strings ``keys`` of one label -- dense ones for the strings whose best
        TF-IDF similarity is below ``dense_trigger`` -- best similarity per id, top k."""
        if not keys or not self.index:
            return [[] for _ in keys]
        index = self._fuzzy_index(label)
        similarities = index.similarities(self._vectorizer.transform(list(keys)))
        if self.dense is not None and index.keys:
            low = numpy.flatnonzero(similarities.max(axis=1) < self.dense_trigger)
            if low.size:
                dense = self.dense.queries([keys[i] for i in low]) @ self.dense.matrix.T
                similarities[low] = dense[:, index.dense_rows]
        results = []
        for neighbours in index.top(similarities, self.top_k * 3):
            best: Dict[str, float] = {}
            for name, similarity in neighbours:
                for cid in self._ranked_ids(name, label):
                    best.setdefault(cid, similarity)
            results.append(sorted(best.items(), key=lambda item: -item[1])[: self.top_k])
        return results

    def prefetch(self, queries: Sequence[Query]) -> None:
        """Encode the name encoder's vectors of the ``(text, label)`` queries with no exact match in one batch, so
        that :meth:`nearest` finds them cached (a no-op without ``dense``)."""
        if self.dense is None or not self.fuzzy:
            return
        keys = [self.normalizer(text) for text, _ in queries]
        self.dense.queries([key for key, (_, label) in zip(keys, queries) if key and not self.exact(key, label)])

    def candidates(self, queries: Sequence[Query]) -> List[List[Candidate]]:
        """Candidates for each ``(text, label)``: exact matches, else (if ``fuzzy``) TF-IDF neighbours."""
        keys = [self.normalizer(text) for text, _ in queries]
        results = [self.exact(key, label) if key else [] for key, (_, label) in zip(keys, queries)]
        if self.fuzzy:
            pending: Dict[str, List[int]] = defaultdict(list)
            for i, (key, (_, label)) in enumerate(zip(keys, queries)):
                if key and not results[i]:
                    pending[label].append(i)
            for label, rows in pending.items():
                for i, found in zip(rows, self.nearest([keys[i] for i in rows], label)):
                    results[i] = found
        return results
