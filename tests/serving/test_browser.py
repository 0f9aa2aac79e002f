"""The viewer page in a real headless Chromium: it annotates a text through the server and draws entities and
relation arcs, and user text cannot run as markup.

Needs a Chromium binary (Debian: ``apt-get install chromium``; or set ``CHROMIUM`` to one); skipped otherwise.
The page fills its form from the URL and annotates at once (``/?text=...&threshold=...&run=1``), so Chromium's
own ``--dump-dom`` and ``--screenshot`` are enough: no driver, nothing fetched from the network. Set
``SPACY_BIOBERT_SCREENSHOTS=DIR`` to keep the screenshot.
"""
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import pytest

pytest.importorskip("fastapi", reason="the serve extra (fastapi) is not installed")
from spacy_biobert.serving.app import create_app  # noqa: E402
from spacy_biobert.serving.settings import ServerSettings  # noqa: E402
from tests.serving.helpers import running_server  # noqa: E402
from tests.util import REL_TOY  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def chromium_binary():
    """The Chromium to use: ``$CHROMIUM``, or the first of ``CANDIDATES`` on the PATH."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if shutil.which(explicit) else None
    return next((found for found in map(shutil.which, CANDIDATES) if found), None)


CHROMIUM = chromium_binary()
pytestmark = [pytestmark, pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium binary found (apt-get install chromium, or set CHROMIUM=/path/to/chrome)"
)]
# runs in the page if any user text were inserted as markup: it would change the title
XSS = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'


def chromium(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--virtual-time-budget=30000"]  # virtual time waits for the page's fetches
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def page_url(joint_model):
    with running_server(create_app(joint_model, ServerSettings(torch_threads=1))) as base:
        yield base


def test_the_page_draws_entities_and_arcs(page_url, tmp_path):
    query = urlencode({"text": XSS + " " + REL_TOY[0][0], "threshold": "0", "run": "1"})
    url = f"{page_url}/?{query}"
    dom = chromium("--dump-dom", url).stdout
    assert 'data-state="done"' in dom, dom[-2000:]
    assert dom.count('<mark class="entity"') >= 2 and "Cisplatin" in dom
    assert 'class="displacy-arc"' in dom and "CID " in dom  # at least one labelled arc
    assert "<title>spacy-biobert viewer</title>" in dom and "pwned</title>" not in dom
    assert "<img src" not in dom.split('id="results"', 1)[1]  # shown as text, not made an element

    shot = tmp_path / "viewer.png"
    chromium("--window-size=1300,1000", f"--screenshot={shot}", url)
    assert shot.exists() and shot.stat().st_size > 10_000
    keep = os.environ.get("SPACY_BIOBERT_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "viewer.png")


def test_the_page_shows_a_refusal(page_url):
    query = urlencode({"text": "x" * 100_001, "run": "1"})  # over max_chars: 413, shown as the error
    dom = chromium("--dump-dom", f"{page_url}/?{query}").stdout
    assert 'data-state="error"' in dom and "too long: 100001 characters" in dom


@pytest.mark.parametrize("page, rendered", [("/docs", 'class="opblock-summary-path"'), ("/redoc", "/v1/annotate")])
def test_the_api_pages_render_offline(page_url, page, rendered):
    """Swagger UI and ReDoc draw the API from the server's own copies of their scripts (a CDN is unreachable:
    every address but the loopback goes to a proxy that is not there)."""
    dom = chromium("--dump-dom", "--proxy-server=127.0.0.1:9", f"{page_url}{page}").stdout  # loopback: direct
    assert rendered in dom and "/v1/annotate" in dom, dom[-2000:]
