"""The server's settings: request limits, batching and threads, with defaults.

They travel to ``uvicorn --workers N`` processes through the environment (:func:`settings_to_env`,
:func:`settings_from_env`), because each worker process builds its own app.
"""
import json
import os
from dataclasses import asdict, dataclass, fields
from typing import Dict, Optional

#: Environment variables read by :func:`spacy_biobert.serving.app.app_from_env` (worker processes).
MODEL_ENV = "SPACY_BIOBERT_SERVE_MODEL"
SETTINGS_ENV = "SPACY_BIOBERT_SERVE_SETTINGS"


@dataclass(frozen=True)
class ServerSettings:
    """Limits and resources of one server process.

    Attributes:
        max_documents: documents per request (more: 413).
        max_chars: characters per document text (more: 413).
        max_body_bytes: bytes of a request body (more: 413, checked before the JSON is parsed).
        batch_size: documents per ``pipe`` batch inside one request.
        max_pending: requests queued for or running inference at once in this process (more: 503 + Retry-After).
        workers: server processes; only used to share the cores between them (see :meth:`threads`).
        torch_threads: torch intra-op threads of this process; ``None``: the usable cores divided by ``workers``.
        warmup: annotate a short text once after loading, so the first request is not the slow one.
    """

    max_documents: int = 64
    max_chars: int = 100_000
    max_body_bytes: int = 10 * 1024 * 1024
    batch_size: int = 8
    max_pending: int = 64
    workers: int = 1
    torch_threads: Optional[int] = None
    warmup: bool = True

    def __post_init__(self) -> None:
        for name in ("max_documents", "max_chars", "max_body_bytes", "batch_size", "max_pending", "workers"):
            if getattr(self, name) < 1:
                raise ValueError(f"ServerSettings.{name} must be at least 1, got {getattr(self, name)}")
        if self.torch_threads is not None and self.torch_threads < 1:
            raise ValueError(f"ServerSettings.torch_threads must be at least 1 or None, got {self.torch_threads}")

    def threads(self) -> int:
        """Torch threads for this process: ``torch_threads``, or the usable cores shared among the workers."""
        if self.torch_threads is not None:
            return self.torch_threads
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            cores = os.cpu_count() or 1
        return max(1, cores // self.workers)

    def limits(self) -> Dict[str, int]:
        """The request limits, as ``GET /v1/model`` reports them."""
        return {"max_documents": self.max_documents, "max_chars": self.max_chars, "max_body_bytes": self.max_body_bytes}


def settings_to_env(model: str, settings: ServerSettings) -> Dict[str, str]:
    """The environment variables that let a worker process rebuild the app (see :func:`settings_from_env`)."""
    return {MODEL_ENV: str(model), SETTINGS_ENV: json.dumps(asdict(settings))}


def settings_from_env(environ: Optional[Dict[str, str]] = None) -> "tuple[str, ServerSettings]":
    """The model path and settings written by :func:`settings_to_env`.

    Raises:
        RuntimeError: if the model variable is not set.
    """
    environ = os.environ if environ is None else environ
    if MODEL_ENV not in environ:
        raise RuntimeError(f"{MODEL_ENV} is not set: start the server with `spacy biobert serve MODEL`")
    known = {f.name for f in fields(ServerSettings)}
    values = json.loads(environ.get(SETTINGS_ENV) or "{}")
    return environ[MODEL_ENV], ServerSettings(**{k: v for k, v in values.items() if k in known})
