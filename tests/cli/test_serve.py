"""``spacy biobert serve``: the missing-extra message, settings handed to uvicorn, and a real server process."""
import importlib
import os
import signal
import subprocess
import sys
import time

import pytest

from spacy_biobert.serving.settings import MODEL_ENV, SETTINGS_ENV, ServerSettings, settings_from_env
from tests.serving.helpers import free_port
from tests.util import REL_TOY, ROOT, invoke, write_text


def test_missing_extra_is_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "fastapi", None)  # `import fastapi` now raises ImportError
    result = invoke("serve", tmp_path, exit_code=1)
    assert 'pip install "spacy-biobert[serve]"' in " ".join(result.output.split())


def test_the_app_module_names_the_extra_when_fastapi_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "fastapi", None)
    monkeypatch.delitem(sys.modules, "spacy_biobert.serving.app", raising=False)
    with pytest.raises(ImportError, match=r"spacy-biobert\[serve\]"):
        importlib.import_module("spacy_biobert.serving.app")


def test_options_reach_uvicorn_and_the_worker_settings(monkeypatch, tmp_path):
    pytest.importorskip("uvicorn")
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    for name in (MODEL_ENV, SETTINGS_ENV):
        monkeypatch.delenv(name, raising=False)
    write_text(tmp_path / "config.cfg", "")  # a pipeline folder to the command's check: uvicorn.run is stubbed
    invoke("serve", tmp_path, "--host", "127.0.0.2", "--port", "8123", "--workers", "2", "--max-documents", "5",
           "--max-chars", "99", "--max-body-bytes", "1234", "--torch-threads", "1")
    (args, kwargs), = calls
    assert args == ("spacy_biobert.serving.app:app_from_env",) and kwargs["factory"] is True
    assert (kwargs["host"], kwargs["port"], kwargs["workers"]) == ("127.0.0.2", 8123, 2)
    model, settings = settings_from_env()
    assert model == str(tmp_path)
    assert settings == ServerSettings(max_documents=5, max_chars=99, max_body_bytes=1234, workers=2, torch_threads=1)


def test_settings_share_the_cores_among_workers():
    assert ServerSettings(torch_threads=3).threads() == 3
    assert ServerSettings(workers=10_000).threads() == 1
    with pytest.raises(ValueError, match="max_documents"):
        ServerSettings(max_documents=0)


def test_a_pipeline_path_that_does_not_exist(tmp_path):
    pytest.importorskip("uvicorn")
    result = invoke("serve", tmp_path / "no" / "model", exit_code=1)
    assert "no such pipeline folder, and no installed package of that name" in " ".join(result.output.split())


def test_spacy_biobert_serve_runs_a_server_with_two_workers(joint_model):
    """The README's command, as a real process: `python -m spacy biobert serve MODEL --workers 2`."""
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("uvicorn")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "spacy", "biobert", "serve", joint_model, "--port", str(port), "--workers", "2",
           "--torch-threads", "1", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while time.time() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        assert proc.poll() is None, proc.stdout.read()
        for _ in range(120):  # the worker that answers may not be ready yet (503), as for annotate below
            res = httpx.get(f"{base}/v1/model", timeout=10)
            if res.status_code != 503:
                break
            time.sleep(0.5)
        assert res.status_code == 200, res.text
        info = res.json()
        assert info["pipeline"][-1] == "biobert_rel" and info["model"]["path"] == joint_model
        seen = set()
        for i in range(6):  # both workers answer the same way (each one must be ready, so retry a 503)
            res = httpx.post(f"{base}/v1/annotate", json={"documents": [{"text": REL_TOY[0][0]}]}, timeout=60)
            if res.status_code == 503:
                time.sleep(1)
                continue
            assert res.status_code == 200, res.text
            seen.add(str(res.json()["records"][0]))
        assert len(seen) == 1
        assert httpx.get(f"{base}/", timeout=10).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
