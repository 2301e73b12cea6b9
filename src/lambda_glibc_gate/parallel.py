"""Collect many artifacts at once, one worker process per core.

Reading an artifact is CPU-bound (inflate + parse) and holds the GIL, so threads do not help;
processes do. Each worker reads whole artifacts, one at a time, so its memory is bounded by one
member, as in a single-process scan. A single artifact, or a single core, is read in this
process: starting workers costs more than it saves there.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from lambda_glibc_gate.scan import Collected, collect

# Below this many artifacts per worker the start-up of the pool outweighs the gain.
_MIN_ARTIFACTS_PER_WORKER = 2


def default_workers() -> int:
    """The cores this process may run on (the CI container's CPU set, not the host's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def collect_many(paths: Sequence[str], mount: str, workers: int | None = None) -> list[Collected]:
    """`collect(path, mount)` for every path, in the order given.

    `workers`: processes to use (None: one per available core). Errors are the same as from
    `collect` (a UsageError for a path that vanished is raised here, for the first such path).
    """
    paths = list(paths)
    count = default_workers() if workers is None else max(1, workers)
    count = min(count, len(paths) // _MIN_ARTIFACTS_PER_WORKER)
    if count <= 1:
        return [collect(path, mount) for path in paths]
    # Larger chunks mean fewer round trips; small ones keep cores busy when sizes differ.
    chunksize = max(1, len(paths) // (count * 8))
    with ProcessPoolExecutor(max_workers=count, mp_context=_context()) as pool:
        return list(pool.map(collect, paths, [mount] * len(paths), chunksize=chunksize))


def _context():
    """fork where it is safe: workers start in milliseconds with the modules already imported
    (spawn re-imports them in every worker). A process with threads must not fork."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()
