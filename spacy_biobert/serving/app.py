"""The REST server (FastAPI): ``create_app(model_path, settings)``; ``spacy biobert serve MODEL`` runs it.

Endpoints (OpenAPI at ``/docs`` with Swagger UI and ``/redoc`` with ReDoc, both served from the package
``fastapi-offline``'s own copies of their scripts, so they work without network; schema at ``/openapi.json``):

* ``POST /v1/annotate`` -- ``{"documents": [{"id", "text"}], "options": {"relations", "threshold"}}`` ->
  ``{"records": [...]}``: one :mod:`output record <spacy_biobert.output.record>` per document, in order.
  A document without an id gets its index in ``documents`` ("0", "1", ...); duplicate ids are refused (422).
* ``POST /v1/render`` -- the same request -> HTML (entities highlighted, relations as arcs; all text escaped).
* ``GET /v1/model`` -- pipeline, labels per component, relation thresholds, model meta, versions, limits.
* ``GET /healthz`` (the process answers), ``GET /readyz`` (503 until the pipeline is loaded, or if it failed).
* ``GET /`` -- the viewer page (static HTML + JS, nothing fetched from elsewhere).

Errors answer JSON ``{"detail": ...}``: 413 for a body, a document count or a text over the limits
(:class:`~spacy_biobert.serving.settings.ServerSettings`), 422 for a body that is not UTF-8, malformed JSON, a
wrong shape, a text or id that is not valid Unicode (a lone surrogate escape) or duplicate ids, 503 while
loading or when ``max_pending`` requests are already waiting. A request whose client disconnects while it waits
for the inference thread is dropped (never run) and one already running stops at its next pipeline component
(:data:`DISCONNECT_POLL_S`), so abandoned requests do not delay the next ones. The pipeline is loaded in the lifespan on the
inference thread (:class:`~spacy_biobert.serving.engine.Annotator`), which runs every request in turn, so the
event loop keeps answering ``/healthz`` and ``/readyz`` during inference.

FastAPI, fastapi-offline and uvicorn are an optional extra: ``pip install "spacy-biobert[serve]"``.
"""
import asyncio
import threading
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any, AsyncIterator, Dict, List, Optional

try:
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.exception_handlers import http_exception_handler
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse, Response
    from fastapi_offline import FastAPIOffline
    from starlette.exceptions import HTTPException as StarletteHTTPException
except ImportError as err:  # pragma: no cover - exercised by a test that hides fastapi
    raise ImportError(
        'the server needs FastAPI, fastapi-offline and uvicorn: pip install "spacy-biobert[serve]"'
    ) from err

from ..output.record import Record
from ..output.render import render_record
from .engine import Abandoned, Annotator
from .limits import BodySizeLimit
from .schemas import AnnotateRequest, AnnotateResponse, ModelInfo, Status
from .settings import ServerSettings, settings_from_env

#: Seconds between two checks whether the client of a waiting request is still connected.
DISCONNECT_POLL_S = 0.1
#: The status logged for a request whose client went away (nginx's "client closed request"; nobody reads it).
CLIENT_GONE = 499
TITLE = "spacy-biobert"
DESCRIPTION = (
    "Biomedical NER and relation extraction with a spaCy pipeline. Documents without an `id` get their index "
    "in `documents` as id (\"0\", \"1\", ...); ids must be unique within a request."
)


def viewer_html() -> str:
    """The viewer page (``static/index.html`` of this package)."""
    return resources.files(__package__).joinpath("static", "index.html").read_text(encoding="utf8")


def document_ids(request: AnnotateRequest) -> List[str]:
    """The id of each document (its index when it has none).

    Raises:
        HTTPException: 422 naming the ids given more than once.
    """
    ids = [str(doc.id) if doc.id is not None else str(i) for i, doc in enumerate(request.documents)]
    seen, dupes = set(), []
    for doc_id in ids:
        if doc_id in seen and doc_id not in dupes:
            dupes.append(doc_id)
        seen.add(doc_id)
    if dupes:
        raise HTTPException(422, f"duplicate document ids: {dupes[:10]} (documents without an id take their "
                                 "index as id); give every document a unique id")
    return ids


def check_limits(request: AnnotateRequest, settings: ServerSettings) -> None:
    """Raise 413 if the request has too many documents or a text that is too long."""
    if len(request.documents) > settings.max_documents:
        raise HTTPException(413, f"too many documents: {len(request.documents)}, the limit is "
                                 f"{settings.max_documents} per request (server setting max_documents)")
    for i, doc in enumerate(request.documents):
        if len(doc.text) > settings.max_chars:
            raise HTTPException(413, f"document {i} is too long: {len(doc.text)} characters, the limit is "
                                     f"{settings.max_chars} (server setting max_chars); split it")


def not_utf8(err: UnicodeDecodeError) -> str:
    """The 422 detail of a body that is not UTF-8."""
    return (f"the body is not valid UTF-8: byte {err.object[err.start:err.start + 1]!r} at position {err.start} "
            f"({err.reason}); send JSON encoded as UTF-8")


def validation_errors(errors: Any) -> List[Dict[str, Any]]:
    """Pydantic's errors without the offending input (it may be a whole document, or a NaN that JSON cannot
    hold): type, location and message of each."""
    return [{"type": str(e.get("type")), "loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg"))}
            for e in errors]


def create_app(model_path: str, settings: Optional[ServerSettings] = None) -> FastAPI:
    """The server for the pipeline at ``model_path`` (folder or package name).

    The pipeline is loaded when the app starts (its lifespan), on the inference thread; until then
    ``/readyz`` and the ``/v1`` endpoints answer 503.

    Args:
        model_path: what ``spacy.load`` accepts.
        settings: limits and resources (default: :class:`ServerSettings` defaults).
    Returns:
        The FastAPI app (``app.state.annotator`` is its :class:`Annotator`, ``app.state.pending["n"]`` the
        number of requests waiting for or in inference).
    """
    settings = settings or ServerSettings()
    annotator = Annotator(model_path, settings)
    pending = {"n": 0}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        annotator.submit(annotator.load)
        try:
            yield
        finally:
            annotator.close()

    app = FastAPIOffline(title=TITLE, description=DESCRIPTION, version="1", lifespan=lifespan)
    app.state.annotator = annotator
    app.state.settings = settings
    app.state.pending = pending  # {"n": requests waiting for or in inference}
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_errors(exc.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)  # FastAPI raises Starlette's for a body it cannot parse
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc.__cause__, UnicodeDecodeError):  # FastAPI's 400 "There was an error parsing the body"
            return JSONResponse({"detail": not_utf8(exc.__cause__)}, status_code=422)
        return await http_exception_handler(request, exc)

    def require_ready() -> None:
        if not annotator.ready:
            detail = f"the model failed to load: {annotator.error}" if annotator.error else "the model is loading"
            raise HTTPException(503, detail, headers={"Retry-After": "5"})

    async def until_done_or_gone(future: Any, abandoned: threading.Event, client: Request) -> List[Record]:
        """The result of ``future``; if the client disconnects first, drop its work (cancel it if still queued,
        else stop it at its next component) and answer :data:`CLIENT_GONE`."""
        waiting = asyncio.wrap_future(future)
        while True:
            done, _ = await asyncio.wait({waiting}, timeout=DISCONNECT_POLL_S)
            if done:
                try:
                    return waiting.result()
                except Abandoned as err:
                    raise HTTPException(CLIENT_GONE, str(err)) from None
            if await client.is_disconnected():
                abandoned.set()
                waiting.cancel()  # cancels the queued call; a running one stops at its next component
                raise HTTPException(CLIENT_GONE, "the client went away; its work was dropped")

    async def records(request: AnnotateRequest, client: Request) -> List[Record]:
        require_ready()
        check_limits(request, settings)
        ids = document_ids(request)
        if pending["n"] >= settings.max_pending:
            raise HTTPException(503, f"busy: {pending['n']} requests are waiting; retry later",
                                headers={"Retry-After": "1"})
        texts = [doc.text for doc in request.documents]
        opts = request.options
        pending["n"] += 1
        try:
            abandoned = threading.Event()
            future = annotator.submit(annotator.annotate, texts, ids, relations=opts.relations,
                                      threshold=opts.threshold, abandoned=abandoned)
            return await until_done_or_gone(future, abandoned, client)
        finally:
            pending["n"] -= 1

    @app.post("/v1/annotate", response_model=AnnotateResponse, tags=["annotate"],
              responses={413: {"description": "Over a limit"}, 503: {"description": "Loading or busy"}})
    async def annotate(request: AnnotateRequest, client: Request) -> dict:
        """Annotate documents: one output record per document, in order."""
        return {"records": await records(request, client)}

    @app.post("/v1/render", response_class=HTMLResponse, tags=["annotate"])
    async def render(request: AnnotateRequest, client: Request) -> HTMLResponse:
        """Annotate documents and return them as HTML: entities highlighted, relations as labelled arcs (each
        document headed by its id when there are several)."""
        found = await records(request, client)
        title = None if len(found) > 1 else ""  # one document: no heading
        return HTMLResponse("\n".join(render_record(record, title) for record in found))

    @app.get("/v1/model", response_model=ModelInfo, tags=["model"])
    async def model_info() -> dict:
        """The loaded pipeline: components, labels, relation thresholds, meta, versions and request limits."""
        require_ready()
        return annotator.info()

    @app.get("/healthz", response_model=Status, tags=["health"])
    async def healthz() -> dict:
        """The process is up (the model may still be loading: see /readyz)."""
        return {"status": "ok"}

    @app.get("/readyz", response_model=Status, tags=["health"], responses={503: {"model": Status}})
    async def readyz() -> JSONResponse:
        """200 once the model is loaded; 503 while it loads or if loading failed (detail says why)."""
        if annotator.ready:
            return JSONResponse({"status": "ready", "detail": annotator.model})
        if annotator.error:
            return JSONResponse({"status": "failed", "detail": annotator.error}, status_code=503)
        return JSONResponse({"status": "loading", "detail": annotator.model}, status_code=503)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def viewer() -> HTMLResponse:
        return HTMLResponse(viewer_html())

    return app


def app_from_env() -> FastAPI:
    """The app of a ``uvicorn --workers N`` worker process: model and settings from the environment
    (written by ``spacy biobert serve``, see :func:`~spacy_biobert.serving.settings.settings_to_env`)."""
    model, settings = settings_from_env()
    return create_app(model, settings)
