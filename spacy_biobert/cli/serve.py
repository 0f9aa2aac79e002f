"""``spacy biobert serve MODEL``: the REST server and viewer page (:mod:`spacy_biobert.serving.app`).

FastAPI and uvicorn are imported only when the command runs; without them it says which extra to install.
With ``--workers N`` uvicorn starts N processes, each loading the pipeline and using ``cores / N`` torch
threads; they rebuild the app from the environment (:func:`~spacy_biobert.serving.settings.settings_to_env`).
"""
import os
from typing import Optional

import typer
from wasabi import msg

from ..serving.settings import ServerSettings, settings_to_env
from ._checks import check_pipeline

MISSING_EXTRA = 'spacy biobert serve needs FastAPI and uvicorn: pip install "spacy-biobert[serve]"'


def require_server_packages() -> None:
    """Exit with a clear message if FastAPI or uvicorn is missing."""
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as err:
        msg.fail(MISSING_EXTRA, f"({err})", exits=1)


def serve_command(
    model: str = typer.Argument(..., help="Pipeline folder or installed package name."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, help="Server processes, each with its own copy of the model."),
    max_documents: int = typer.Option(ServerSettings.max_documents, "--max-documents", min=1,
                                      help="Documents per request (more: 413)."),
    max_chars: int = typer.Option(ServerSettings.max_chars, "--max-chars", min=1,
                                  help="Characters per document (more: 413); one over 20,000 "
                                       "characters is annotated in pieces and re-joined."),
    max_body_bytes: int = typer.Option(ServerSettings.max_body_bytes, "--max-body-bytes", min=1,
                                       help="Bytes per request body (more: 413)."),
    batch_size: int = typer.Option(ServerSettings.batch_size, "--batch-size", min=1,
                                   help="Documents per batch inside a request."),
    torch_threads: Optional[int] = typer.Option(None, "--torch-threads", min=1,
                                                help="Torch threads per worker (default: cores / workers)."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
) -> None:
    """Serve a pipeline over HTTP: POST /v1/annotate, /v1/render, GET /v1/model, /healthz, /readyz, the viewer
    page at / and the API docs at /docs.

    Long runs: each request's new words leave the vocabulary when it is answered (memory levels off); a request
    whose client disconnects is dropped from the queue (or stopped at its next component). A damaged model folder
    fails at load time and /readyz names the missing or damaged file."""
    require_server_packages()
    import uvicorn

    check_pipeline(model)
    settings = ServerSettings(max_documents=max_documents, max_chars=max_chars, max_body_bytes=max_body_bytes,
                              batch_size=batch_size, workers=workers, torch_threads=torch_threads)
    os.environ.update(settings_to_env(model, settings))
    msg.info(f"serving {model} on http://{host}:{port}/ (API docs: /docs; {workers} worker(s), "
             f"{settings.threads()} torch thread(s) each)")
    uvicorn.run("spacy_biobert.serving.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level=log_level)
