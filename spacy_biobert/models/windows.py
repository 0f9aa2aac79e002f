"""Transformer windows: limited by wordpieces as well as by tokens, so no token is cut off; and windows of whole
sentences, packed without overlap (``spacy_biobert.sentence_windows.v1``).

spacy-transformers' strided span getters cut a document into windows of N *tokens*; the encoder then takes
at most ``model_max_length`` *wordpieces* per window and silently drops the rest, so the tokens after a long
run of wordpieces (an unspaced CJK sentence, a long chemical formula, a URL) got no vector at all. The
getter here wraps any span getter and splits each window whose wordpieces would not fit into consecutive
sub-windows that do. A single token that alone exceeds the limit becomes a window of its own: the encoder
truncates it, but it keeps its first wordpieces and so a vector.
"""
import copy
from typing import Callable, Dict, Iterable, List, Optional, Sequence

from spacy.tokens import Doc, Span
from spacy_transformers.util import registry

SpanGetter = Callable[[List[Doc]], List[List[Span]]]
#: Used when a tokenizer states no real limit (``model_max_length`` is a huge sentinel then).
FALLBACK_MAX_LENGTH = 512


def wordpiece_budget(tokenizer) -> int:
    """The number of wordpieces of one window that fit next to the special tokens."""
    max_length = tokenizer.model_max_length
    if not max_length or max_length > 1_000_000:
        max_length = FALLBACK_MAX_LENGTH
    return max(1, max_length - tokenizer.num_special_tokens_to_add(pair=False))


def count_wordpieces(tokenizer, texts: Iterable[str]) -> Dict[str, int]:
    """Wordpieces of each distinct token text, counted in one batched tokenizer call."""
    unique = sorted(set(texts))
    if not unique:
        return {}
    encoded = tokenizer(unique, add_special_tokens=False, truncation=False)["input_ids"]
    return {text: len(ids) for text, ids in zip(unique, encoded)}


def split_window(span: Span, counts: Sequence[int], budget: int) -> List[Span]:
    """Cut ``span`` into consecutive sub-spans of at most ``budget`` wordpieces (``counts``: per token).

    Returns ``[span]`` itself when it fits.
    """
    if sum(counts) <= budget:
        return [span]
    pieces, start, used = [], span.start, 0
    for i, n in enumerate(counts, span.start):
        if used + n > budget and i > start:
            pieces.append(span.doc[start:i])
            start, used = i, 0
        used += n
    pieces.append(span.doc[start:span.end])
    return pieces


class WordpieceLimitedSpans:
    """A span getter whose windows fit the encoder; the transformer sets :attr:`tokenizer` before each use."""

    def __init__(self, get_spans: SpanGetter):
        self.get_spans = get_spans
        self.tokenizer = None

    def __call__(self, docs: List[Doc]) -> List[List[Span]]:
        nested = self.get_spans(docs)
        if self.tokenizer is None:
            return nested
        budget = wordpiece_budget(self.tokenizer)
        counts = count_wordpieces(self.tokenizer, (token.text for doc in docs for token in doc))
        return [
            [piece for span in spans for piece in split_window(span, [counts[t.text] for t in span], budget)]
            for spans in nested
        ]

    def __deepcopy__(self, memo: Optional[dict] = None) -> "WordpieceLimitedSpans":
        # Model.copy() deep-copies attrs: share the wrapped getter, leave the tokenizer to the copy's forward pass.
        return WordpieceLimitedSpans(copy.copy(self.get_spans))


def sentence_windows(doc: Doc, max_tokens: int) -> List[Span]:
    """``doc`` cut into windows of whole consecutive sentences, each at most ``max_tokens`` tokens, without
    overlap; a sentence longer than that is cut into consecutive windows of ``max_tokens``. A doc without sentence
    boundaries counts as one sentence.
    """
    sentences = doc.sents if doc.has_annotation("SENT_START") else [doc[:]]
    windows, start, end = [], 0, 0
    for sent in sentences:
        for piece_start in range(sent.start, sent.end, max_tokens):
            piece_end = min(piece_start + max_tokens, sent.end)
            if piece_end - start > max_tokens and end > start:
                windows.append(doc[start:end])
                start = piece_start
            end = piece_end
    if end > start:
        windows.append(doc[start:end])
    return windows


@registry.span_getters("spacy_biobert.sentence_windows.v1")
def configure_sentence_windows(max_tokens: int = 96) -> SpanGetter:
    """Windows of whole sentences packed up to ``max_tokens`` tokens, without the overlap of strided windows (each
    token is encoded once). Sentence boundaries come from a component before the transformer (``sentencizer``).
    The default budget is the one chosen on CDR dev among 64 / 96 / 128 / 256 (BENCHMARKS.md, the shipped pipeline's
    encoder paths).

    Raises:
        ValueError: if ``max_tokens`` is below 1.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")

    def get_sentence_windows(docs: Iterable[Doc]) -> List[List[Span]]:
        return [sentence_windows(doc, max_tokens) for doc in docs]

    return get_sentence_windows
