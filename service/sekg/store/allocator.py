"""Choose the memory allocator the query worker processes preload.

The engine allocates and frees large hash tables for every heavy query. Under glibc's malloc a
worker's heap degrades after a few of them and the same query runs up to 1.4 times slower (see
bench/results); jemalloc keeps it steady. The worker processes are started by us, so preloading
it there costs nothing and needs no change to the server process.
"""

from __future__ import annotations

import ctypes.util
import logging
import os

from ..config import ALLOCATOR_AUTO, ALLOCATOR_SYSTEM

log = logging.getLogger(__name__)


def resolve_allocator(setting: str) -> str | None:
    """Return the library to preload in query workers, or None for the C library's own malloc."""
    if setting == ALLOCATOR_SYSTEM:
        return None
    if setting == ALLOCATOR_AUTO:
        found = ctypes.util.find_library("jemalloc")
        if found is None:
            log.warning("jemalloc not found (Debian: apt-get install libjemalloc2); query workers use the "
                        "C library's malloc, which slows heavy queries down")
        return found
    return setting


def worker_environment(library: str | None) -> dict[str, str]:
    """Return the environment of a query worker process that preloads `library`."""
    env = dict(os.environ)
    if library:
        env["LD_PRELOAD"] = " ".join(filter(None, [library, env.get("LD_PRELOAD", "")]))
    return env
