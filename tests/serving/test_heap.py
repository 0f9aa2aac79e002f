"""Giving freed heap memory back (:mod:`spacy_biobert.serving.heap`)."""
from pathlib import Path

import pytest

from spacy_biobert.serving import heap
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
