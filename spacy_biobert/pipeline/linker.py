"""The ``biobert_linker`` component: links each entity of ``doc.ents`` to a concept id of a knowledge base.

Place it after the NER (it reads ``doc.ents``, with their labels). For each document it resolves the
abbreviations the document defines, looks every mention up in the KB (exact normalised string, then
character n-gram TF-IDF neighbours restricted to the mention's label, and for a mention whose best TF-IDF
similarity is below ``dense_trigger`` the KB names nearest by a name encoder instead;
:mod:`spacy_biobert.kb.matcher`, :mod:`spacy_biobert.kb.dense`) and gives all mentions of one string the same id
(:mod:`spacy_biobert.kb.resolve`). It writes:

* ``ent.kb_id_`` -- the best concept id when its score reaches ``threshold``; otherwise ``""`` (empty, which
  :func:`spacy_biobert.concepts.concept_ids` treats as "no id", so the relation head falls back to the text);
* ``doc._.biobert_link_candidates`` -- the top ``top_k`` candidates with scores of every entity, by
  character span, also below the threshold (:mod:`spacy_biobert.kb.link_candidates`).

The KB comes from ``initialize()``: ``kb_path`` (a folder from ``spacy biobert kb build``; in a config,
``[initialize.components.biobert_linker] kb_path = ...``), or else the gold entities of the training
examples. The name encoder and the vectors of the KB's names come from ``dense_path`` (a folder from ``spacy
biobert kb dense``), or else the embedded encoder as it is (names encoded when the KB is indexed). Both are saved
inside the pipeline folder (``to_disk``: ``kb/``, ``dense/``) and read from there (``from_disk``); nothing is ever
fetched from the network.
"""
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple, Union

import srsly

from spacy.errors import Errors
from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import ensure_path, minibatch
from spacy.vocab import Vocab

from ..corpus import MENTIONS_KEY
from ..kb import ConceptMatcher, KnowledgeBase, Normalizer, install_candidate_extension, set_link_candidates
from ..kb.abbreviations import abbreviation_map
from ..kb.annotated import add_annotations
from ..kb.dense import DenseNames, NameEncoder
from ..kb.resolve import link_mentions
from ..models.encoder import EMBEDDED_ENCODER, resolve_encoder_name
from .settings import Configurable, Setting, check_bool, check_probability

KB_DIR = "kb"
DENSE_DIR = "dense"
#: The linker's settings as the factory and the shipped ``configs/e2e.cfg`` set them.
DEFAULTS = {"threshold": 0.9, "top_k": 5, "abbreviations": True, "fuzzy": True, "consistent": True,
            "ngram_range": [3, 3], "unicode": True, "punctuation": True, "plurals": True, "dense_trigger": 1.0}


@Language.factory(
    "biobert_linker",
    requires=["doc.ents"],
    assigns=["token.ent_kb_id", "doc._.biobert_link_candidates"],
    default_config={**DEFAULTS, "scorer": {"@scorers": "spacy_biobert.linker_scorer.v1"}},
    default_score_weights={"linker_doc_f": 1.0, "linker_doc_p": 0.0, "linker_doc_r": 0.0,
                           "linker_mention_acc": 0.0, "linker_doc_per_type": None},
)
def make_biobert_linker(
    nlp: Language, name: str, threshold: float, top_k: int, abbreviations: bool, fuzzy: bool, consistent: bool,
    ngram_range: List[int], unicode: bool, punctuation: bool, plurals: bool, dense_trigger: float,
    scorer: Optional[Callable],
) -> "BioBertLinker":
    """Build the ``biobert_linker`` component (see :class:`BioBertLinker` for the settings)."""
    settings = {"threshold": threshold, "top_k": top_k, "abbreviations": abbreviations, "fuzzy": fuzzy,
                "consistent": consistent, "ngram_range": list(ngram_range), "unicode": unicode,
                "punctuation": punctuation, "plurals": plurals, "dense_trigger": dense_trigger}
    return BioBertLinker(nlp.vocab, name, scorer=scorer, **settings)


def _check_top_k(value: Any) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError("expected a whole number >= 1")
    return int(value)


def _check_ngram_range(value: Any) -> List[int]:
    low, high = (int(v) for v in value)
    if not 1 <= low <= high:
        raise ValueError("expected [low, high] with 1 <= low <= high")
    return [low, high]


class BioBertLinker(Configurable, Pipe):
    """Dictionary-based entity linker with a dense fallback (no weights trained in ``spacy train``).

    Settings: ``threshold`` (minimum score of the best candidate for ``kb_id_``), ``top_k`` (candidates kept),
    ``abbreviations`` (resolve short forms defined in the document), ``fuzzy`` (TF-IDF fallback, character
    n-grams in ``ngram_range``), ``dense_trigger`` (with ``fuzzy``: a mention whose best TF-IDF similarity is below
    it gets the name encoder's candidates instead; 0 turns the encoder off), ``consistent`` (one id per string per
    document), and the normalisation steps ``unicode``, ``punctuation``, ``plurals``
    (:class:`spacy_biobert.kb.Normalizer`). The defaults are the settings of the shipped ``configs/e2e.cfg``,
    chosen on CDR dev: the steps and n-grams on gold mentions by ``bench/linker.py`` (plural stripping on,
    3-grams), the threshold end to end by ``bench/bench_e2e.py`` (0.9), the name encoder for every non-exact
    match (``dense_trigger`` 1.0: the embedded encoder as it is) by ``bench/bench_dense_linker.py``. Each is an
    attribute (``linker.threshold = 0.7``; see :mod:`.settings`); ``linker.kb.get(id)`` gives a concept's
    ``name``, ``aliases`` and ``labels``.
    """

    threshold = Setting(check_probability)
    top_k = Setting(_check_top_k)
    abbreviations = Setting(check_bool)
    fuzzy = Setting(check_bool)
    consistent = Setting(check_bool)
    ngram_range = Setting(_check_ngram_range)
    unicode = Setting(check_bool)
    punctuation = Setting(check_bool)
    plurals = Setting(check_bool)
    dense_trigger = Setting(check_probability)

    def __init__(self, vocab: Vocab, name: str = "biobert_linker", *, scorer: Optional[Callable] = None,
                 **settings: Any) -> None:
        install_candidate_extension()
        self.vocab, self.name, self.scorer = vocab, name, scorer
        self.cfg: Dict[str, Any] = {**DEFAULTS, **settings}
        self.kb: Optional[KnowledgeBase] = None
        self.dense: Optional[DenseNames] = None
        self._matcher: Optional[ConceptMatcher] = None
        self.init_settings()

    def setting_changed(self, name: str) -> None:
        """Drop the candidate generator: it is rebuilt from the new settings on first use."""
        self._matcher = None

    @property
    def normalizer(self) -> Normalizer:
        """The normaliser of the settings."""
        return Normalizer(self.cfg["unicode"], self.cfg["punctuation"], self.cfg["plurals"])

    @property
    def matcher(self) -> ConceptMatcher:
        """The candidate generator over :attr:`kb`, with its TF-IDF indexes (built on first use).

        Raises:
            ValueError: (E109) if no KB was given (``initialize()`` not called, not loaded from disk).
        """
        if self.kb is None:
            raise ValueError(Errors.E109.format(name=self.name) + " The linker needs a knowledge base: "
                             "nlp.initialize() with [initialize.components.biobert_linker] kb_path, or set_kb().")
        trigger = self.cfg["dense_trigger"] if self.cfg["fuzzy"] else 0.0
        if trigger > 0 and self.dense is None:  # no encoder given: the embedded one as it is
            self.set_dense(DenseNames(NameEncoder(resolve_encoder_name(EMBEDDED_ENCODER))))
        if self._matcher is None:
            self._matcher = ConceptMatcher(self.kb, self.normalizer, fuzzy=self.cfg["fuzzy"],
                                           ngram_range=tuple(self.cfg["ngram_range"]), top_k=self.cfg["top_k"],
                                           dense=self.dense if trigger > 0 else None, dense_trigger=trigger).prepare()
        return self._matcher

    def set_kb(self, kb: KnowledgeBase) -> None:
        """Use ``kb`` from now on."""
        self.kb, self._matcher = kb, None

    def set_dense(self, dense: Optional[DenseNames]) -> None:
        """Use the name encoder and vectors ``dense`` from now on (``None``: none)."""
        self.dense, self._matcher = dense, None

    def initialize(self, get_examples: Optional[Callable[[], Iterable[Example]]] = None, *,
                   nlp: Optional[Language] = None, kb_path: Optional[Union[str, Path]] = None,
                   dense_path: Optional[Union[str, Path]] = None) -> None:
        """Load the KB from ``kb_path``, or else build it from the gold entities of ``get_examples()``; with
        ``dense_trigger`` above 0, load the name encoder from ``dense_path`` (``spacy biobert kb dense``), or else
        use the embedded encoder as it is.

        Raises:
            ValueError: if neither gives a concept, or ``dense_path`` is no folder of ``spacy biobert kb dense``.
        """
        if dense_path is not None:
            self.set_dense(DenseNames.from_disk(dense_path))
        if kb_path is not None:
            kb = KnowledgeBase.from_disk(kb_path)
        else:
            kb = add_annotations(KnowledgeBase(), _gold_annotations(get_examples() if get_examples else []))
        if not len(kb):
            raise ValueError(f"{self.name}: empty knowledge base; pass kb_path to initialize() or gold kb_ids.")
        self.set_kb(kb)
        self.matcher  # noqa: B018 -- build the lookup index now rather than on the first document

    def __call__(self, doc: Doc) -> Doc:
        """Link the entities of ``doc`` (see the module docstring)."""
        matcher = self.matcher
        ents = list(doc.ents)
        found = self.link(doc, ents, matcher) if ents else []
        linked, store = [], {}
        for ent, candidates in zip(ents, found):
            best = candidates[0][0] if candidates and candidates[0][1] >= self.cfg["threshold"] else ""
            linked.append(Span(doc, ent.start, ent.end, label=ent.label, kb_id=best))
            store[(ent.start_char, ent.end_char)] = candidates
        if linked:
            doc.set_ents(linked, default="unmodified")
        set_link_candidates(doc, store)
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        """Link the documents of ``stream`` as :meth:`__call__` does, the name encoder's mentions of each batch of
        ``batch_size`` documents encoded together."""
        error_handler = self.get_error_handler()
        for docs in minibatch(stream, size=batch_size):
            try:
                self.matcher.prefetch([(ent.text, ent.label_) for doc in docs for ent in doc.ents])
            except Exception as err:  # noqa: BLE001 -- spaCy's error handler decides
                error_handler(self.name, self, docs, err)
            for doc in docs:
                try:
                    yield self(doc)
                except Exception as err:  # noqa: BLE001
                    error_handler(self.name, self, [doc], err)

    def link(self, doc: Doc, ents: List[Span], matcher: ConceptMatcher) -> List[List[Tuple[str, float]]]:
        """Candidates (best first) for ``ents`` of ``doc``."""
        abbreviations = abbreviation_map(doc) if self.cfg["abbreviations"] else {}
        queries = [(ent.text, ent.label_) for ent in ents]
        return link_mentions(matcher, queries, abbreviations, self.cfg["consistent"])

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        """The KB and the name encoder's folder as bytes (settings live in the pipeline config)."""
        return srsly.msgpack_dumps({"kb": self.kb.to_bytes() if self.kb is not None else b"",
                                    "dense": self.dense.to_bytes() if self.dense is not None else b""})

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = ()) -> "BioBertLinker":
        """Restore the KB and the name encoder from :meth:`to_bytes` output."""
        data = srsly.msgpack_loads(bytes_data)
        if data["dense"]:
            self.set_dense(DenseNames.from_bytes(data["dense"]))
        if data["kb"]:
            self.set_kb(KnowledgeBase.from_bytes(data["kb"]))
        return self

    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = ()) -> None:
        """Save the KB into ``path/kb`` and the name encoder with the names' vectors into ``path/dense``."""
        self.warn_unsaved_settings()
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self.kb is not None:
            self.kb.to_disk(path / KB_DIR)
        if self.dense is not None:
            self.dense.to_disk(path / DENSE_DIR)

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = ()) -> "BioBertLinker":
        """Load the KB and the name encoder saved by :meth:`to_disk`, if any."""
        folder = ensure_path(path)
        if (folder / DENSE_DIR).exists():
            self.set_dense(DenseNames.from_disk(folder / DENSE_DIR))
        if (folder / KB_DIR).exists():
            self.set_kb(KnowledgeBase.from_disk(folder / KB_DIR))
        return self


def _gold_annotations(examples: Iterable[Example]) -> Iterable[Tuple[str, str, str]]:
    """(text, label, kb_id) of the gold mentions of ``examples`` (span group, else ``doc.ents``)."""
    for eg in examples:
        spans = eg.reference.spans.get(MENTIONS_KEY) or eg.reference.ents
        yield from ((span.text, span.label_, span.kb_id_) for span in spans)
