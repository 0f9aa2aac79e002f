"""Requests whose client went away are dropped: never run when still queued, stopped when running."""
import asyncio
import json
import threading

import pytest
import spacy
from spacy.language import Language

pytest.importorskip("fastapi", reason="the serve extra (fastapi) is not installed")
httpx = pytest.importorskip("httpx", reason="httpx is not installed")

from spacy_biobert.serving.app import create_app  # noqa: E402
from spacy_biobert.serving.engine import Abandoned, annotate_docs  # noqa: E402
from spacy_biobert.serving.settings import ServerSettings  # noqa: E402
from tests.util import REL_TOY  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TEXT = REL_TOY[0][0]


def http_scope(path: str, body: bytes) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"test"), (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 5000), "server": ("test", 80)}


def start_request(app, documents):
    """A request sent straight to the ASGI app whose client disconnects once ``gone`` is set."""
    body = json.dumps({"documents": documents}).encode()
    gone, sent, parts = asyncio.Event(), [], [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        if parts:
            return parts.pop(0)
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    return asyncio.create_task(app(http_scope("/v1/annotate", body), receive, send)), gone, sent


def test_queued_requests_of_clients_that_went_away_are_never_run(joint_model):
    app = create_app(joint_model, ServerSettings(torch_threads=1))
    ran = []

    async def scenario():
        async with app.router.lifespan_context(app):
            annotator = app.state.annotator
            assert await asyncio.to_thread(annotator.wait, 120), annotator.error
            real = annotator.annotate

            def spy(texts, ids, **options):
                ran.append(list(ids))
                return real(texts, ids, **options)

            annotator.annotate = spy
            gate = threading.Event()
            annotator.submit(gate.wait)  # the inference thread is busy: the next requests queue up
            abandoned = [start_request(app, [{"id": f"gone{i}", "text": TEXT * 20}]) for i in range(4)]
            await asyncio.sleep(0.3)
            for _, gone, _ in abandoned:
                gone.set()
            await asyncio.sleep(0.5)  # the server notices (it polls every DISCONNECT_POLL_S)
            assert app.state.pending["n"] == 0  # their places in the queue are free again
            gate.set()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                answer = await client.post("/v1/annotate", json={"documents": [{"id": "here", "text": TEXT}]})
            await asyncio.gather(*(task for task, _, _ in abandoned))
            return answer, [sent for _, _, sent in abandoned]

    answer, abandoned_sent = asyncio.run(scenario())
    assert answer.status_code == 200 and answer.json()["records"][0]["id"] == "here"
    assert ran == [["here"]]
    assert all(sent[0]["status"] == 499 for sent in abandoned_sent)


GOING = threading.Event()


@Language.component("test_client_goes_away")
def client_goes_away(doc):
    """A first component during which the client disconnects."""
    GOING.set()
    return doc


def test_a_running_call_stops_at_the_next_component_once_abandoned(joint_model):
    nlp = spacy.load(joint_model)
    nlp.add_pipe("test_client_goes_away", first=True)
    GOING.clear()
    assert annotate_docs(nlp, [TEXT])[0].has_annotation("SENT_START")  # not abandoned: runs through
    GOING.clear()
    with pytest.raises(Abandoned, match=f"skipped {nlp.pipe_names[1]} and the components after it"):
        annotate_docs(nlp, [TEXT], threshold=0.0, abandoned=GOING)
    assert nlp.get_pipe("biobert_rel").threshold == 0.5  # the call's own threshold ended with it
