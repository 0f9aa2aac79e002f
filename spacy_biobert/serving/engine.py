"""The inference engine behind the server: one pipeline, one inference thread, records out.

:class:`Annotator` loads the pipeline and runs every call on a single worker thread, so requests never run
the (not thread-safe) pipeline concurrently and never oversubscribe the cores: torch's intra-op threads are
set once to :meth:`ServerSettings.threads`. It imports neither FastAPI nor uvicorn, so it is usable and
testable on its own.

Work for a client that went away is dropped: the app cancels a call still queued (its future) and sets the
call's ``abandoned`` event, which :func:`annotate_docs` checks before each component, so a call already running
stops at the next component (:class:`Abandoned`).

A per-request relation ``threshold`` holds on the relation components for the length of that call only
(:meth:`~spacy_biobert.pipeline.settings.Configurable.temporarily`, checked as every setting is): every call runs
on the one inference thread, one after the other, so no other call sees it, and ``GET /v1/model`` reports the
thresholds read at load.
"""
import importlib.metadata
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any, Callable, Dict, List, Optional, Sequence

from spacy.language import Language
from spacy.tokens import Doc

from ..heap import release_free_memory
from ..output.record import Record, doc_to_record, pipeline_kb
from ..pipeline.loading import load_pipeline
from ..pipeline.long_docs import pipe_in_pieces
from ..pipeline.memory_zones import MemoryZones
from ..pipeline.rel import relation_components
from .settings import ServerSettings

logger = logging.getLogger("spacy_biobert.serving")
WARMUP_TEXT = "Lithium-induced tremor."


class Abandoned(Exception):
    """Raised on the inference thread when the client of a call went away: the rest of its work is skipped."""


def annotate_docs(
    nlp: Language, texts: Sequence[str], *, relations: bool = True, threshold: Optional[float] = None,
    batch_size: int = 8, abandoned: Optional[threading.Event] = None,
) -> List[Doc]:
    """Run ``nlp`` over ``texts``, component by component in pipeline order, ``batch_size`` documents at a time;
    a text over :data:`~spacy_biobert.pipeline.long_docs.MAX_PIECE_CHARS` characters is annotated in pieces and
    re-joined (:func:`~spacy_biobert.pipeline.long_docs.pipe_in_pieces`).

    Args:
        nlp: the pipeline.
        texts: the documents' texts.
        relations: False skips every relation component.
        threshold: keep relations scoring at least this instead of each relation component's own threshold (for
            this call only: the components hold it while it runs).
        batch_size: documents per batch.
        abandoned: once set (the client went away), stop before the next component.
    Returns:
        The annotated docs, in the order of ``texts``.
    Raises:
        Abandoned: when ``abandoned`` is set before a component.
    """
    rel_names = relation_components(nlp)
    steps = [(name, proc) for name, proc in nlp.pipeline if relations or name not in rel_names]

    def run(docs: List[Doc]) -> List[Doc]:
        for name, proc in steps:
            if abandoned is not None and abandoned.is_set():
                raise Abandoned(f"the client went away; skipped {name} and the components after it")
            if hasattr(proc, "pipe"):
                docs = list(proc.pipe(docs, batch_size=batch_size))
            else:
                docs = [proc(doc) for doc in docs]
        return docs

    with ExitStack() as stack:
        if relations and threshold is not None:
            for name in rel_names:
                stack.enter_context(nlp.get_pipe(name).temporarily(threshold=threshold))
        return list(pipe_in_pieces(nlp, texts, run, batch_size=batch_size))


def package_version() -> Optional[str]:
    """The installed spacy-biobert version (None when run from a source tree that is not installed)."""
    try:
        return importlib.metadata.version("spacy-biobert")
    except importlib.metadata.PackageNotFoundError:
        return None


def component_labels(nlp: Language) -> Dict[str, List[str]]:
    """The labels of each component that has any (NER labels, relation labels, ...)."""
    found = {}
    for name, proc in nlp.pipeline:
        labels = getattr(proc, "labels", None)
        if labels:
            found[name] = [str(label) for label in labels]
    return found


class Annotator:
    """A pipeline loaded from ``model`` behind a single inference thread.

    Args:
        model: a pipeline folder or installed package name (as for ``spacy.load``).
        settings: the server settings (threads, batch size).
    """

    def __init__(self, model: str, settings: ServerSettings) -> None:
        self.model = str(model)
        self.settings = settings
        self.nlp: Optional[Language] = None
        self.zones: Optional[MemoryZones] = None
        self.relation_thresholds: Dict[str, float] = {}
        self.error: Optional[str] = None
        self._loaded = threading.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="biobert-inference")

    @property
    def ready(self) -> bool:
        """Whether the pipeline is loaded and requests can be served."""
        return self._loaded.is_set() and self.nlp is not None

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` on the inference thread (after everything submitted before it)."""
        return self._executor.submit(fn, *args, **kwargs)

    def load(self) -> None:
        """Set torch's threads, load the pipeline and warm it up; on failure keep the error in ``error``.

        Run it on the inference thread (``submit(self.load)``) so loading never blocks the event loop.
        """
        import torch

        try:
            torch.set_num_threads(self.settings.threads())
            logger.info("loading %s (torch threads: %d)", self.model, torch.get_num_threads())
            nlp = load_pipeline(self.model, annotate_only=True)
            if self.settings.warmup:
                annotate_docs(nlp, [WARMUP_TEXT])
            self.relation_thresholds = {name: float(nlp.get_pipe(name).threshold) for name in relation_components(nlp)}
            self.zones = MemoryZones(nlp)
            self.nlp = nlp
            logger.info("ready: %s", " > ".join(nlp.pipe_names))
        except Exception as err:  # the server stays up and says why in /readyz
            self.error = f"{type(err).__name__}: {err}"
            logger.exception("could not load %s", self.model)
        finally:
            self._loaded.set()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Wait until loading finished (well or not); return whether the pipeline is ready."""
        self._loaded.wait(timeout)
        return self.ready

    def annotate(
        self, texts: Sequence[str], ids: Sequence[Optional[str]], *, relations: bool = True,
        threshold: Optional[float] = None, abandoned: Optional[threading.Event] = None,
    ) -> List[Record]:
        """The records of ``texts`` (call it on the inference thread, see :meth:`submit`).

        ``abandoned``: set it when the client went away; the call then stops before its next component
        (:class:`Abandoned`).

        The call runs inside ``nlp.memory_zone()``: the strings and lexemes its texts added to the vocabulary
        (every word the pipeline had not seen) are freed when it returns, and now and then the vocabulary's tables
        are rebuilt (:class:`~spacy_biobert.pipeline.memory_zones.MemoryZones`), so a long-running server's memory
        levels off instead of growing with each new word. Records are plain dicts, built inside the zone. Then the
        heap memory the call freed goes back to the operating system
        (:func:`~spacy_biobert.heap.release_free_memory`): glibc would otherwise keep it, scattered among
        live blocks, and the process would keep the peak of its largest request.
        """
        if self.nlp is None:
            raise RuntimeError("the pipeline is not loaded")
        try:
            return self._records(texts, ids, relations=relations, threshold=threshold, abandoned=abandoned)
        finally:
            release_free_memory()

    def _records(self, texts: Sequence[str], ids: Sequence[Optional[str]], **options: Any) -> List[Record]:
        with self.zones.zone():
            docs = annotate_docs(self.nlp, texts, batch_size=self.settings.batch_size, **options)
            kb = pipeline_kb(self.nlp)
            return [doc_to_record(doc, doc_id, kb=kb) for doc, doc_id in zip(docs, ids)]

    def info(self) -> Dict[str, Any]:
        """What ``GET /v1/model`` reports: pipeline, labels, thresholds, model meta, versions and limits."""
        if self.nlp is None:
            raise RuntimeError("the pipeline is not loaded")
        meta = self.nlp.meta
        return {
            "pipeline": list(self.nlp.pipe_names),
            "labels": component_labels(self.nlp),
            "relation_thresholds": dict(self.relation_thresholds),
            "model": {"name": meta.get("name"), "version": meta.get("version"), "lang": self.nlp.lang,
                      "spacy_version": meta.get("spacy_version"), "path": self.model},
            "spacy_biobert_version": package_version(),
            "limits": self.settings.limits(),
        }

    def close(self) -> None:
        """Stop the inference thread (queued calls are cancelled)."""
        self._executor.shutdown(wait=False, cancel_futures=True)
