"""The numerical thread pools of processes diogel runs side by side share the cores (thread_policy)."""

from __future__ import annotations

import json
import multiprocessing as mp
import subprocess
import sys

import pytest

from diogel.report.thread_policy import cores, limited_pools, threads_each


def _pools() -> list[int]:
    from threadpoolctl import threadpool_info

    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def test_each_process_gets_its_share_of_the_cores() -> None:
    assert threads_each(1) == cores()
    assert threads_each(cores()) == 1
    assert threads_each(4 * cores()) == 1  # never none


def test_a_worker_sized_before_numpy_loads_every_blas_it_loads_later_at_its_share() -> None:
    """What a spawned worker of ``diogel assess --area all-wales`` does first: numpy and scipy's
    own OpenBLAS, loaded after, start with the worker's share, and so would its children."""
    probe = (
        "import json, os\n"
        "from diogel.report.thread_policy import share_cores\n"
        "n = share_cores(2)\n"
        "import numpy, scipy.linalg\n"
        "from threadpoolctl import threadpool_info\n"
        "print(json.dumps([n, [p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas'],"
        " os.environ['OPENBLAS_NUM_THREADS']]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    n, pools, env = json.loads(out.stdout)
    assert n == max(1, cores() // 2)
    assert len(pools) >= 1 and set(pools) == {n}
    assert env == str(n)


def _child_pools(conn) -> None:  # noqa: ANN001
    conn.send(_pools())
    conn.close()


@pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="the section helper is forked")
def test_a_helper_forked_inside_the_block_keeps_the_size_and_the_block_restores_it() -> None:
    import numpy  # noqa: F401  (its OpenBLAS loaded, as in an assessment)

    before = _pools()
    with limited_pools(2) as n:
        assert set(_pools()) == {n}
        here, there = mp.get_context("fork").Pipe(duplex=False)
        child = mp.get_context("fork").Process(target=_child_pools, args=(there,))
        child.start()
        in_child = here.recv()
        child.join(timeout=60)
    assert set(in_child) == {n}
    assert _pools() == before
