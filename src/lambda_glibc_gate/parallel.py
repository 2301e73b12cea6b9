"""Collect many artifacts at once, in worker processes, within a memory budget.

Reading an artifact is CPU-bound (inflate + parse) and holds the GIL, so threads do not help;
processes do. A worker reads one artifact at a time and holds at most one member of it, so its
memory is its own base plus the largest member; artifacts are handed out only while the sum of
those estimates over the busy workers stays within the budget (a large package waits for a free
share, or runs alone). A single artifact, or a single core, is read in this process: starting
workers costs more than it saves there.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from lambda_glibc_gate.archive import ZIP_MAGICS, Limits, declared_entry_count, release_freed_memory
from lambda_glibc_gate.collect import Collected, collect

# The peak resident memory of a whole scan stays under 150 MB: this process (~25 MB with its
# results) plus the busy workers' estimates.
MEMORY_BUDGET = 120 * 2**20
# A worker's resident memory before it reads anything (measured: the interpreter, the modules,
# and the pages it shares with this process, which the kernel counts in both).
WORKER_BASE = 24 * 2**20


def default_workers() -> int:
    """The cores this process may run on (the CI container's CPU set, not the host's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def estimated_memory(path: str, limits: Limits = Limits()) -> int:  # noqa: B008 - frozen
    """A worker's memory for `path`: its base plus the largest member it may hold whole. Sizes
    in a zip are only declared: a lie makes the scan less parallel, never larger."""
    largest = limits.max_member_bytes  # unknown or unreadable: assume the worst
    try:
        if os.path.isdir(path):
            largest = max((_file_size(os.path.join(root, name))
                           for root, _, names in os.walk(path) for name in names), default=0)
        elif not os.path.isfile(path):
            pass  # a FIFO or device: never opened here (opening a FIFO blocks); the worker reports it
        elif _starts_like_a_zip(path):  # as open_artifact tells a zip from a single file
            count = declared_entry_count(path)
            if count is not None and count <= limits.max_members:  # a count bomb is not parsed here
                with zipfile.ZipFile(path) as archive:
                    largest = max((info.file_size for info in archive.infolist()), default=0)
        else:
            largest = os.path.getsize(path)
    except Exception:  # noqa: BLE001 - an artifact too broken to size is sized as the worst case
        pass
    return WORKER_BASE + min(largest, limits.max_member_bytes)


def collect_many(
    paths: Sequence[str],
    mount: str,
    workers: int | None = None,
    memory_budget: int = MEMORY_BUDGET,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[Collected]:
    """`collect(path, mount)` for every path, in the order given.

    `workers`: processes to use (None: one per available core). `memory_budget`: the most the
    busy workers may hold together, by `estimated_memory` (one artifact always runs, however
    large). `progress(started, total, path)` is called as each artifact is started.
    """
    paths = list(paths)
    count = min(default_workers() if workers is None else max(1, workers), len(paths))
    if count <= 1:
        results = []
        for number, path in enumerate(paths):
            if progress is not None:
                progress(number, len(paths), path)
            results.append(collect(path, mount))
        return results
    needs = [estimated_memory(path) for path in paths]
    results: list[Collected | None] = [None] * len(paths)
    with ProcessPoolExecutor(max_workers=count, mp_context=_context()) as pool:
        running: dict[Future, int] = {}
        in_use = 0
        upcoming = 0
        while upcoming < len(paths) or running:
            # In order, while a worker is free and the next artifact fits in the budget.
            while (upcoming < len(paths) and len(running) < count
                   and (not running or in_use + needs[upcoming] <= memory_budget)):
                if progress is not None:
                    progress(upcoming, len(paths), paths[upcoming])
                running[pool.submit(_collect_in_worker, paths[upcoming], mount)] = upcoming
                in_use += needs[upcoming]
                upcoming += 1
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                index = running.pop(future)
                in_use -= needs[index]
                results[index] = future.result()
    return results  # type: ignore[return-value] - every slot is filled


def _collect_in_worker(path: str, mount: str) -> Collected:
    collected = collect(path, mount)
    release_freed_memory()  # an idle worker must not hold what a busy one needs
    return collected


def _starts_like_a_zip(path: str) -> bool:
    with open(path, "rb") as file:
        return file.read(4) in ZIP_MAGICS


def _file_size(path: str) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


def _context():
    """fork where it is safe: workers start in milliseconds with the modules already imported
    (spawn re-imports them in every worker). A process with threads must not fork."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()
