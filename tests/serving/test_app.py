"""The REST server (``create_app``): every endpoint and every refusal, through FastAPI's TestClient; a real
uvicorn on a free loopback port with concurrent httpx clients."""
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("fastapi", reason="the serve extra (fastapi) is not installed")
httpx = pytest.importorskip("httpx", reason="httpx is not installed")
import spacy  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from spacy_biobert.output.record import SCHEMA, doc_to_record  # noqa: E402
from spacy_biobert.serving.app import create_app  # noqa: E402
from spacy_biobert.serving.settings import ServerSettings  # noqa: E402
from tests.serving.helpers import running_server  # noqa: E402
from tests.util import REL_TOY  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SETTINGS = ServerSettings(max_documents=4, max_chars=300, max_body_bytes=4000, torch_threads=1)
TEXT = REL_TOY[0][0]  # Cisplatin ... nephrotoxicity ... Aspirin ... headache


@pytest.fixture(scope="module")
def client(joint_model):
    """A client of a started app (lifespan run, model loaded)."""
    app = create_app(joint_model, SETTINGS)
    with TestClient(app) as test_client:
        assert app.state.annotator.wait(120), app.state.annotator.error
        yield test_client


def annotate(client, documents, **options):
    return client.post("/v1/annotate", json={"documents": documents, "options": options})


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok", "detail": None}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_readyz_is_503_until_the_model_is_loaded(joint_model):
    app = create_app(joint_model, SETTINGS)
    test_client = TestClient(app)  # no `with`: the lifespan has not run, so nothing is loaded
    assert test_client.get("/healthz").status_code == 200
    ready = test_client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["status"] == "loading"
    refused = annotate(test_client, [{"text": "x"}])
    assert refused.status_code == 503 and "loading" in refused.json()["detail"]
    assert refused.headers["retry-after"] == "5"
    assert test_client.get("/v1/model").status_code == 503


def test_a_model_that_cannot_load_leaves_the_server_up_and_says_why(tmp_path):
    app = create_app(str(tmp_path / "missing"), SETTINGS)
    with TestClient(app) as test_client:
        assert not app.state.annotator.wait(60)
        ready = test_client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "failed"
        assert "missing" in ready.json()["detail"]
        assert "failed to load" in annotate(test_client, [{"text": "x"}]).json()["detail"]
        assert test_client.get("/healthz").status_code == 200


def test_annotate_returns_the_library_record_of_each_document(client, joint_model):
    res = annotate(client, [{"id": "a", "text": TEXT}, {"id": "b", "text": REL_TOY[1][0]}])
    assert res.status_code == 200
    records = res.json()["records"]
    nlp = spacy.load(joint_model)
    assert records == [doc_to_record(nlp(TEXT), "a"), doc_to_record(nlp(REL_TOY[1][0]), "b")]
    assert records[0]["schema"] == SCHEMA and records[0]["entities"] and records[0]["concept_relations"]


def test_records_name_the_concepts_from_the_linker_kb(joint_model, tmp_path):
    from spacy_biobert.kb import KnowledgeBase
    from spacy_biobert.output.record import pipeline_kb

    nlp = spacy.load(joint_model)
    kb = KnowledgeBase()
    for cid, name, label in [("C1", "Cisplatin", "Chemical"), ("D1", "nephrotoxicity", "Disease"),
                             ("C2", "Aspirin", "Chemical"), ("D2", "headache", "Disease")]:
        kb.add(cid, [name], label=label)
    nlp.add_pipe("biobert_linker", after="biobert_ner").set_kb(kb)
    nlp.to_disk(tmp_path / "linked")
    app = create_app(str(tmp_path / "linked"), SETTINGS)
    with TestClient(app) as test_client:
        assert app.state.annotator.wait(120), app.state.annotator.error
        record = annotate(test_client, [{"id": "a", "text": TEXT}]).json()["records"][0]
    assert record == doc_to_record(nlp(TEXT), "a", kb=pipeline_kb(nlp))
    named = {(c["id"], c["name"]) for e in record["entities"] for c in e["concepts"] if c["name"]}
    assert named and all(kb.get(cid).name == name for cid, name in named)


def test_missing_ids_take_the_index_and_numbers_become_strings(client):
    records = annotate(client, [{"text": "Aspirin ."}, {"id": 7, "text": "Aspirin ."}, {"text": "x"}]).json()["records"]
    assert [r["id"] for r in records] == ["0", "7", "2"]


def test_empty_and_whitespace_texts_give_empty_records(client):
    records = annotate(client, [{"id": "e", "text": ""}, {"id": "w", "text": " \n\t "}]).json()["records"]
    assert records[0]["text"] == "" and records[0]["entities"] == [] and records[0]["relations"] == []
    assert records[1]["text"] == " \n\t "
    assert annotate(client, []).json() == {"records": []}


def test_relations_false_skips_the_relation_head(client):
    with_rel, without = (annotate(client, [{"text": TEXT}], relations=flag).json()["records"][0] for flag in (True, False))
    assert with_rel["concept_relations"] and not without["concept_relations"] and not without["relations"]
    assert without["entities"] == with_rel["entities"]


def test_threshold_applies_to_that_request_only(client):
    rel = client.app.state.annotator.nlp.get_pipe("biobert_rel")
    default = annotate(client, [{"text": TEXT}]).json()["records"][0]["concept_relations"]
    everything = annotate(client, [{"text": TEXT}], threshold=0.0).json()["records"][0]["concept_relations"]
    strict = annotate(client, [{"text": TEXT}], threshold=1.0).json()["records"][0]["concept_relations"]
    assert len(everything) > len(default) >= 1 and all(r["score"] >= 1.0 for r in strict)
    assert {(r["head"], r["tail"]) for r in default} <= {(r["head"], r["tail"]) for r in everything}
    assert rel.threshold == 0.5  # the loaded component is untouched
    assert annotate(client, [{"text": TEXT}]).json()["records"][0]["concept_relations"] == default


@pytest.mark.parametrize("threshold", [-0.1, 1.5, "high", None])
def test_a_bad_threshold_is_422(client, threshold):
    body = {"documents": [{"text": "x"}], "options": {"threshold": threshold}}
    status = client.post("/v1/annotate", json=body).status_code
    assert status == (200 if threshold is None else 422)


def test_nan_threshold_is_422(client):
    body = '{"documents": [{"text": "x"}], "options": {"threshold": NaN}}'
    assert client.post("/v1/annotate", content=body, headers={"content-type": "application/json"}).status_code == 422


def test_duplicate_ids_are_422_with_a_message(client):
    res = annotate(client, [{"id": "x", "text": "a"}, {"id": "x", "text": "b"}])
    assert res.status_code == 422 and "duplicate document ids: ['x']" in res.json()["detail"]
    clash = annotate(client, [{"id": "1", "text": "a"}, {"text": "b"}])  # the second takes its index, "1"
    assert clash.status_code == 422 and "index" in clash.json()["detail"]


@pytest.mark.parametrize("body", [
    '{"documents": [{"text": "unterminated}',
    "not json at all",
    "",
    '[{"text": "a list, not an object"}]',
    '{"documents": [{"id": "a"}]}',
    '{"documents": [{"text": 12}]}',
    '{"documents": [{"text": null}]}',
    '{"documents": "text"}',
    '{"documents": [{"text": "a", "extra": 1}]}',
    '{"documents": [], "options": {"relation": false}}',
    '{"documents": [{"id": ["a"], "text": "a"}]}',
    '{"text": "a"}',
])
def test_malformed_requests_are_422(client, body):
    res = client.post("/v1/annotate", content=body.encode("utf8"), headers={"content-type": "application/json"})
    assert res.status_code == 422, res.text
    assert res.json()["detail"]


def test_invalid_utf8_is_422_naming_the_byte(client):
    res = client.post("/v1/annotate", content=b'{"documents": [{"text": "\xff\xfe"}]}',
                      headers={"content-type": "application/json"})
    assert res.status_code == 422
    assert res.json()["detail"].startswith("the body is not valid UTF-8: byte b'\\xff' at position 25")
    assert client.get("/healthz").status_code == 200
    assert client.get("/v1/nothing-here").status_code == 404  # other HTTP errors keep FastAPI's answer


@pytest.mark.parametrize("document", ['{"text": "bad \\ud83d here"}', '{"id": "\\udfff", "text": "a"}'])
def test_a_lone_surrogate_is_422_naming_it(client, document):
    res = client.post("/v1/annotate", content=f'{{"documents": [{document}]}}'.encode("utf8"),
                      headers={"content-type": "application/json"})
    assert res.status_code == 422, res.text
    assert "lone surrogate" in res.json()["detail"][0]["msg"]


def test_too_many_documents_is_413(client):
    res = annotate(client, [{"text": "a"}] * 5)
    assert res.status_code == 413 and "too many documents: 5" in res.json()["detail"]
    assert "limit is 4" in res.json()["detail"]


def test_a_too_long_document_is_413(client):
    res = annotate(client, [{"text": "a"}, {"text": "b" * 301}])
    assert res.status_code == 413 and "document 1 is too long: 301 characters" in res.json()["detail"]


def test_a_too_large_body_is_413_by_length_and_while_streaming(client):
    body = json.dumps({"documents": [{"text": "a" * 5000}]}).encode("utf8")
    res = client.post("/v1/annotate", content=body, headers={"content-type": "application/json"})
    assert res.status_code == 413 and "4000 bytes" in res.json()["detail"]

    def chunks():  # no Content-Length: the limit is checked while reading
        for i in range(0, len(body), 1000):
            yield body[i:i + 1000]

    streamed = client.post("/v1/annotate", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413 and "4000 bytes" in streamed.json()["detail"]
    assert annotate(client, [{"text": "still fine"}]).status_code == 200


def test_model_info(client):
    info = client.get("/v1/model").json()
    assert info["pipeline"] == ["sentencizer", "transformer", "biobert_ner", "biobert_rel"]
    assert info["labels"] == {"biobert_ner": ["Chemical", "Disease"], "biobert_rel": ["CID"]}
    assert info["relation_thresholds"] == {"biobert_rel": 0.5}
    assert info["model"]["name"] == "pipeline" and info["model"]["lang"] == "en"
    assert info["spacy_biobert_version"] == "0.1.0"
    assert info["limits"] == {"max_documents": 4, "max_chars": 300, "max_body_bytes": 4000}


def test_openapi_and_docs(client):
    schema = client.get("/openapi.json").json()
    assert {"/v1/annotate", "/v1/render", "/v1/model", "/healthz", "/readyz"} <= set(schema["paths"])
    assert "index in `documents`" in json.dumps(schema)  # missing ids are documented
    for page in ("/docs", "/redoc"):  # their scripts and styles come from the server itself, not from a CDN
        html = client.get(page).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert assets and not [url for url in assets if "//" in url], assets
        for url in assets:
            assert client.get(url).status_code == 200 and len(client.get(url).content) > 1000, url


def test_render_escapes_user_text(client):
    text = "<script>alert(1)</script> " + TEXT
    documents = [{"id": "<b>id</b>", "text": text}, {"text": "x"}]  # several: each headed by its id
    res = client.post("/v1/render", json={"documents": documents, "options": {"threshold": 0}})
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")
    # the toy model may tag "<", "script" and ">" as entities, so the escaped text can be split among marks
    assert "<script" not in res.text and "alert(1)&lt;/script&gt;" in res.text and "&lt;b&gt;id&lt;/b&gt;" in res.text
    assert "<mark" in res.text and "<svg" in res.text and "CID " in res.text
    assert client.post("/v1/render", json={"documents": [{"text": "x"}] * 5}).status_code == 413
    single = client.post("/v1/render", json={"documents": [{"id": "one", "text": "x"}]}).text
    assert "<h3>" not in single


def test_viewer_page_is_self_contained(client):
    page = client.get("/")
    assert page.status_code == 200 and "<textarea" in page.text and "v1/render" in page.text
    assert "<script src" not in page.text and "<link" not in page.text and "@import" not in page.text


def test_too_many_waiting_requests_are_503(joint_model):
    app = create_app(joint_model, ServerSettings(max_pending=1, torch_threads=1))
    with TestClient(app) as test_client:
        annotator = app.state.annotator
        assert annotator.wait(120)
        gate = threading.Event()
        annotator.submit(gate.wait, 30)  # hold the inference thread
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(annotate, test_client, [{"text": "Aspirin ."}])
            deadline = time.time() + 10
            while app.state.pending["n"] < 1 and time.time() < deadline:  # until the first one is queued
                time.sleep(0.01)
            busy = annotate(test_client, [{"text": "Aspirin ."}])
            gate.set()
            assert busy.status_code == 503 and "busy" in busy.json()["detail"]
            assert first.result(timeout=30).status_code == 200


def test_real_uvicorn_with_concurrent_clients(joint_model):
    with running_server(create_app(joint_model, SETTINGS)) as base:
        texts = [row[0] for row in REL_TOY] * 8

        def call(i: int) -> dict:
            res = httpx.post(f"{base}/v1/annotate", json={"documents": [{"id": str(i), "text": texts[i]}]}, timeout=60)
            assert res.status_code == 200, res.text
            return res.json()["records"][0]

        with ThreadPoolExecutor(8) as pool:
            records = list(pool.map(call, range(len(texts))))
        assert [r["id"] for r in records] == [str(i) for i in range(len(texts))]
        assert all(r["text"] == texts[i] for i, r in enumerate(records))
        same = [{**r, "id": None} for r in records]
        assert all(same[i] == same[i % 2] for i in range(len(texts)))  # same text, same answer under load
        assert httpx.post(f"{base}/v1/annotate", content=b"{", timeout=10).status_code == 422
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200


def test_the_documented_curl_example_is_a_valid_request(client):
    from tests.test_readme import ROOT

    section = (ROOT / "docs" / "serving.md").read_text(encoding="utf8").split("## Serving", 1)[1]
    body = re.search(r"-d '(\{.*?\})'", section).group(1)
    res = client.post("/v1/annotate", content=body, headers={"content-type": "application/json"})
    assert res.status_code == 200 and res.json()["records"][0]["id"] == "1"
