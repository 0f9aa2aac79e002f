"""Giving the operating system back the heap memory a unit of work freed (glibc's ``malloc_trim``).

glibc keeps memory a process frees in its heap for later use instead of returning it, and what a request frees
is scattered among what stays (tensors and arrays sized by the request's length, Python objects), so a server
keeps the peak of its largest requests. Measured on the tiny test pipeline (``bench/bench_soak.py``'s request,
no server): 1,250 requests of fresh words grew RSS by 5.5 MiB, by 1.2 MiB with ``malloc_trim(0)`` every 250
requests; after one request of 2,000 new words a trim gave back 33 MiB (in under a millisecond when little is
freed). :func:`release_free_memory` is called once a unit of work is done (each server request); where the C
library has no ``malloc_trim`` (musl, macOS, Windows) it does nothing.
"""
import ctypes
from typing import Callable, Optional


def _find_malloc_trim() -> Optional[Callable[[int], int]]:
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_MALLOC_TRIM = _find_malloc_trim()


def can_release() -> bool:
    """Whether this process's C library can give freed heap memory back (glibc)."""
    return _MALLOC_TRIM is not None


def release_free_memory() -> bool:
    """Return the free memory of every heap arena to the operating system; whether any was returned."""
    return bool(_MALLOC_TRIM(0)) if _MALLOC_TRIM is not None else False
