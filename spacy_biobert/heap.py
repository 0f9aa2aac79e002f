"""The C heap of a process that runs a pipeline for long: large blocks straight from the operating system, and
freed memory given back (glibc's ``mallopt`` and ``malloc_trim``).

glibc serves a block of at least its *mmap threshold* with its own ``mmap`` and unmaps it when freed; smaller
blocks come from heap arenas, which keep what is freed for later use. The threshold starts at 128 KiB but rises
to the size of every mmap-ed block freed (up to 32 MiB), so after the first batches the encoder's activations (a
few MiB each) come from the arenas, and what they free is scattered among live blocks and kept: RSS climbs with
the batches. :func:`bound_heap` fixes the threshold (which also stops it rising), at a cost in speed: each large
block is then mapped and zero-filled anew. Measured on the shipped pipeline over 200 CDR test abstracts
(BENCHMARKS.md "The shipped pipeline: encoder paths side by side"): peak RSS 1,281 MB by default, 1,111 MB
bounded, at 29 % fewer words/s (PyTorch fp32; with ONNX Runtime, whose own arena holds the activations, 8 %
fewer and 1,343 MB instead of 1,382). So nothing calls it for you: call it once where memory matters more than speed
(or set ``MALLOC_MMAP_THRESHOLD_=1048576``). :func:`release_free_memory` gives back what the arenas hold free
once a unit of work is done (each server request). Where the C library is not glibc (musl, macOS, Windows) both
do nothing.
"""
import ctypes
from typing import Optional

#: ``mallopt``'s parameter number for the mmap threshold (glibc's ``M_MMAP_THRESHOLD``).
M_MMAP_THRESHOLD = -3
#: The threshold :func:`bound_heap` sets by default: blocks of 1 MiB or more are mmap-ed and unmapped when freed.
DEFAULT_MMAP_THRESHOLD = 1 << 20


def _glibc_function(name: str, argtypes: list) -> Optional[ctypes._CFuncPtr]:
    try:
        function = getattr(ctypes.CDLL(None), name)
    except (AttributeError, OSError):
        return None
    function.argtypes, function.restype = argtypes, ctypes.c_int
    return function


_MALLOC_TRIM = _glibc_function("malloc_trim", [ctypes.c_size_t])
_MALLOPT = _glibc_function("mallopt", [ctypes.c_int, ctypes.c_int])


def can_release() -> bool:
    """Whether this process's C library can give freed heap memory back (glibc)."""
    return _MALLOC_TRIM is not None


def release_free_memory() -> bool:
    """Return the free memory of every heap arena to the operating system; whether any was returned."""
    return bool(_MALLOC_TRIM(0)) if _MALLOC_TRIM is not None else False


def bound_heap(threshold: int = DEFAULT_MMAP_THRESHOLD) -> bool:
    """Serve every block of ``threshold`` bytes or more with its own mmap, for good (the threshold no longer
    rises); whether the C library took the setting.

    Raises:
        ValueError: if ``threshold`` is not a positive number of bytes up to 32 MiB (glibc's limit on 64 bits).
    """
    if not 0 < threshold <= 32 << 20:
        raise ValueError(f"mmap threshold must be between 1 byte and 32 MiB, got {threshold}")
    return bool(_MALLOPT(M_MMAP_THRESHOLD, threshold)) if _MALLOPT is not None else False
