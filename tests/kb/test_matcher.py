"""Candidates: exact normalised lookup ranked by counts, TF-IDF fallback, label restriction."""
import pytest

from spacy_biobert.kb import BASELINE, ConceptMatcher, KnowledgeBase, Normalizer


@pytest.fixture(scope="module")
def kb():
    kb = KnowledgeBase()
    kb.add("C1", {"doxorubicin": 5, "adriamycin": 1}, label="Chemical")
    kb.add("C2", {"cold": 1}, label="Chemical")
    kb.add("D1", {"cold": 3, "common cold": 2}, label="Disease")
    kb.add("D2", {"acute renal failure": 2, "renal failure": 1}, label="Disease")
    kb.add("M1", ["Calcimycin"])  # no label: may link to any label
    return kb


def test_exact_ranked_by_count(kb):
    matcher = ConceptMatcher(kb)
    assert matcher.candidates([("Cold", "Gene")]) == [[("D1", 1.0), ("C2", 1.0)]]


def test_label_restriction(kb):
    matcher = ConceptMatcher(kb)
    assert matcher.candidates([("cold", "Chemical")]) == [[("C2", 1.0)]]
    assert matcher.candidates([("calcimycin", "Disease")]) == [[("M1", 1.0)]]
    fuzzy = matcher.candidates([("doxorubicine", "Disease")])[0]
    assert "C1" not in [cid for cid, _ in fuzzy]


def test_fuzzy_fallback(kb):
    matcher = ConceptMatcher(kb, top_k=2)
    ((best, score), *rest), = matcher.candidates([("Doxorubicine", "Chemical")])
    assert best == "C1" and 0.5 < score < 1.0 and len(rest) <= 1
    assert ConceptMatcher(kb, fuzzy=False).candidates([("Doxorubicine", "Chemical")]) == [[]]


def test_normaliser_decides_exact_hits(kb):
    assert ConceptMatcher(kb, fuzzy=False).candidates([("Acute-Renal  failure", "Disease")]) == [[("D2", 1.0)]]
    assert ConceptMatcher(kb, BASELINE, fuzzy=False).candidates([("Acute-Renal failure", "Disease")]) == [[]]
    assert ConceptMatcher(kb, Normalizer(plurals=True), fuzzy=False).candidates([("colds", "Disease")])[0][0][0] == "D1"


@pytest.mark.parametrize("text", ["", "---", "ü" * 3, "x" * 5000, "α-ΤΝΦ"])
def test_odd_strings_do_not_fail(kb, text):
    (found,) = ConceptMatcher(kb).candidates([(text, "Chemical")])
    assert all(0.0 < score <= 1.0 for _, score in found)


def test_empty_kb_gives_nothing():
    assert ConceptMatcher(KnowledgeBase()).candidates([("x", "Chemical")]) == [[]]


def test_fuzzy_scores_are_the_cosine_similarities_best_first(kb):
    from sklearn.metrics.pairwise import cosine_similarity

    matcher = ConceptMatcher(kb, top_k=10).prepare()
    queries = ["doxorubicine", "renal failures", "comon cold", "zzzz"]
    names = sorted(matcher.index)
    vectorizer = matcher._vectorizer
    expected = cosine_similarity(vectorizer.transform(queries), vectorizer.transform(names))
    for query, row, found in zip(queries, expected, matcher.nearest(queries, "Unknown label")):
        best = {}  # best similarity per id over its names, as nearest() scores them
        for name, similarity in zip(names, row):
            for cid in matcher.index[name]:
                if similarity > 0:
                    best[cid] = max(best.get(cid, 0.0), similarity)
        assert [cid for cid, _ in found] == sorted(best, key=lambda cid: (-best[cid], cid))[:10], query
        assert [score for _, score in found] == pytest.approx(sorted(best.values(), reverse=True)[:10], abs=1e-5)
