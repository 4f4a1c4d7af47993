"""Numerical libraries' thread pools sized for the processes diogel runs side by side.

Why: numpy's and scipy's OpenBLAS (and any OpenMP library) start one thread per core in every
process. When diogel runs processes side by side (the workers of ``diogel assess --area
all-wales``, the section helper of one assessment), every process's pool would use every core, so
``n`` processes keep ``n`` times as many busy threads as there are cores, and OpenBLAS's idle
threads spin before they sleep: the usual oversubscription that joblib and others avoid the same
way. Each process gets ``cores // processes`` threads. A BLAS call computes the same on fewer
threads, up to the order of its floating-point sums (the last bits, as between two machines).

Measured with ``diogel assess --area all-wales --jobs 2`` on the real all-Wales warehouse (2 cores,
runs alternated in one hour): 86.2, 81.7, 80.5, 80.6 and 85.3 s with the default pools; 78.8,
78.0 (``OPENBLAS_NUM_THREADS=1``), 84.8, 76.1, 79.6 and 83.3 s with one thread a worker. The
difference (about 3 s) is inside that machine's spread on 2 cores; with more cores and workers the
oversubscription grows with the square of their number.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["cores", "limited_pools", "share_cores", "threads_each"]

# Read by OpenBLAS, OpenMP, MKL and Apple's Accelerate when each library is loaded.
_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def cores() -> int:
    """The cores this process may run on (its CPU affinity where the system reports it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # (not on every platform)
        return max(1, os.cpu_count() or 1)


def threads_each(processes: int) -> int:
    """Threads a pool of each of ``processes`` processes gets so that together they use each core once."""
    return max(1, cores() // max(1, processes))


def share_cores(processes: int) -> int:
    """Size this process's numerical thread pools for ``processes`` processes side by side; returns the size.

    For a worker process, called first thing: the environment variables reach the libraries this
    process loads later (and its children); the pools already loaded are resized through
    threadpoolctl. The limit stays for the life of the process.
    """
    n = threads_each(processes)
    for name in _VARIABLES:
        os.environ[name] = str(n)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n)
    return n


@contextmanager
def limited_pools(processes: int) -> Iterator[int]:
    """The loaded pools sized for ``processes`` processes inside the block, as before after it.

    For a process that forks helpers (:mod:`diogel.report.section_pool`): a forked child keeps the
    sizes in force when it was forked.
    """
    from threadpoolctl import threadpool_limits

    n = threads_each(processes)
    with threadpool_limits(limits=n):
        yield n
