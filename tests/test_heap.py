"""Giving freed heap memory back (:mod:`spacy_biobert.heap`)."""
import subprocess
import sys
from pathlib import Path

import pytest

from spacy_biobert import heap
from tests.util import rss_mib


@pytest.mark.skipif(not heap.can_release() or not Path("/proc/self/status").exists(), reason="needs glibc and /proc")
def test_freed_memory_between_live_blocks_goes_back_to_the_system():
    blocks = [bytearray(1000) for _ in range(64_000)]  # ~64 MiB of small blocks, in the heap (not mmap-ed)
    kept = blocks[::64]  # one block in 64 stays: the freed runs between them cannot shrink the heap's top
    del blocks
    held = rss_mib()
    assert heap.release_free_memory()
    assert rss_mib() < held - 20
    assert len(kept) == 1000


def test_without_malloc_trim_nothing_is_released(monkeypatch):
    monkeypatch.setattr(heap, "_MALLOC_TRIM", None)
    assert not heap.can_release() and heap.release_free_memory() is False


HEAP_GROWTH = """
import sys
from pathlib import Path
from spacy_biobert import heap

def heap_mib():
    (line,) = [line for line in Path("/proc/self/maps").read_text().splitlines() if line.endswith("[heap]")]
    start, end = (int(x, 16) for x in line.split()[0].split("-"))
    return (end - start) / 2 ** 20

big = bytearray(b"x") * (8 << 20)
del big  # freed: glibc raises its own mmap threshold to 8 MiB
if sys.argv[1] == "bound":
    assert heap.bound_heap(1 << 20)
before = heap_mib()
blocks = [bytearray(b"x") * (2 << 20) for _ in range(16)]
print(heap_mib() - before)
"""


@pytest.mark.skipif(not heap.can_release() or not Path("/proc/self/maps").exists(), reason="needs glibc and /proc")
@pytest.mark.parametrize("bounded", [True, False])
def test_a_bounded_heap_serves_large_blocks_outside_the_heap(bounded):
    """In a fresh process, 16 blocks of 2 MiB after a freed 8 MiB one: glibc puts them in its heap (32 MiB more),
    where what they free would stay; with the heap bounded at 1 MiB each is its own mapping, unmapped when freed."""
    out = subprocess.run([sys.executable, "-c", HEAP_GROWTH, "bound" if bounded else "free"], check=True,
                         capture_output=True, text=True).stdout
    growth = float(out)
    assert growth < 4 if bounded else growth >= 30


def test_bound_heap_refuses_a_threshold_glibc_cannot_take():
    for bad in (0, -1, 64 << 20):
        with pytest.raises(ValueError, match="mmap threshold must be between 1 byte and 32 MiB"):
            heap.bound_heap(bad)


def test_without_glibc_the_heap_is_left_as_it_is(monkeypatch):
    monkeypatch.setattr(heap, "_MALLOPT", None)
    assert heap.bound_heap() is False
