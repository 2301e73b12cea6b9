"""Collect many artifacts at once, in worker processes, within a memory budget; or one large
artifact, its members read by several workers.

Reading an artifact is CPU-bound (inflate + parse) and holds the GIL, so threads do not help;
processes do. A worker reads one artifact at a time and holds at most one member of it, so its
memory is its own base plus what its largest member holds (collect.held_memory). Each worker's
peak is estimated (the largest such need it has run), and work is handed out only while the
estimated peaks of all the workers, added up, stay within the budget; a free worker that has
already paid for a large member takes the next one first (a large package waits for room, or
runs alone).

A single artifact on several cores: a zip of SPLIT_FROM stored bytes or more (measured: below
it the workers cost more than they save) is listed here, then its members are read in runs of
consecutive ones, about equal in compressed size, by workers forked from this process once it
is listed (they inherit the listing and the open zip, which is read with pread: forked.py forks
them where os.fork exists; elsewhere executors start them and each opens the artifact itself),
while this process's memory, their bases and what the largest member holds fit in SCAN_MEMORY;
meanwhile this process builds the package index and plans the scan in a thread (collect_many's
`meanwhile`).
The parts are merged in member order, and what the workers' readers reported is replayed on
this process's artifact, so the result is the same Collected, findings and all, as reading it
here. A smaller artifact, or a single core, is read in this process.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from lambda_glibc_gate import forked
from lambda_glibc_gate.archive import (
    ZIP_MAGICS,
    Artifact,
    Limits,
    Member,
    declared_entry_count,
    largest_declared_member,
    open_artifact,
    release_freed_memory,
)
from lambda_glibc_gate.collect import Collected, Part, collect, held_memory, read_part, worst_read

if TYPE_CHECKING:
    from concurrent.futures import Future

# The peak resident memory of a whole scan stays under 150 MB: this process (~25 MB with its
# results) plus the workers' estimated peaks, added up.
MEMORY_BUDGET = 120 * 2**20
# A worker's resident memory before it reads anything (measured: the interpreter, the modules,
# and the pages it shares with this process, which the kernel counts in both).
WORKER_BASE = 24 * 2**20
# The whole scan's peak, this process and its workers' peaks added up, stays under 150 MB: an
# artifact read by several workers gets what this process leaves of it.
SCAN_MEMORY = 145 * 2**20
# What a worker that opens an artifact itself holds per member listed (measured: about 1.8 KB).
LISTING_PER_MEMBER = 2 * 2**10
# One artifact is read by several workers from this many stored (compressed) bytes on. Measured
# on parts of the benchmark's large package (CPU seconds, 2 workers, zlib-ng): 8 MB stored costs
# 0.13 s read here, 0.04 s here + 0.18 s in the workers split (even on 2 idle cores); 16 MB
# 0.19 s against 0.04 + 0.22 s (0.15 s on 2 cores); 32 MB 0.62 s against 0.06 + 0.62 s (0.37 s).
SPLIT_FROM = 16 * 2**20
# Runs of members per worker: more runs balance the cores and the memory budget better, each
# costs a round trip to a worker.
RUNS_PER_WORKER = 4


def default_workers() -> int:
    """The cores this process may run on (the CI container's CPU set, not the host's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def estimated_memory(path: str, limits: Limits = Limits()) -> int:  # noqa: B008 - frozen
    """A worker's memory for `path`: its base plus what reading its largest member holds
    (collect.held_memory). Sizes in a zip are only declared: a lie makes the scan less
    parallel, never larger."""
    largest = limits.max_member_bytes  # unknown or unreadable: assume the worst
    try:
        if os.path.isdir(path):
            largest = max((_file_size(os.path.join(root, name))
                           for root, _, names in os.walk(path) for name in names), default=0)
        elif not os.path.isfile(path):
            pass  # a FIFO or device: never opened here (opening a FIFO blocks); the worker reports it
        elif _starts_like_a_zip(path):  # as open_artifact tells a zip from a single file
            # counted from the central directory itself, never zipfile's listing: a directory that
            # lies about its entry count (500,000 entries declared as 1) is refused, not parsed
            declared = largest_declared_member(path, limits)
            if declared is not None:
                largest = declared
        else:
            largest = os.path.getsize(path)
    except Exception:  # noqa: BLE001 - an artifact too broken to size is sized as the worst case
        pass
    return WORKER_BASE + held_memory(min(largest, limits.max_member_bytes))


def collect_many(
    paths: Sequence[str],
    mount: str,
    workers: int | None = None,
    memory_budget: int = MEMORY_BUDGET,
    progress: Callable[[int, int, str], None] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> list[Collected]:
    """`collect(path, mount)` for every path, in the order given.

    `workers`: processes to use (None: one per available core). `memory_budget`: the most the
    busy workers may hold together, by `estimated_memory` (one artifact always runs, however
    large). `progress(started, total, path)` is called as each artifact is started. A single
    artifact large enough (SPLIT_FROM) has its members read by the workers, in runs.
    `meanwhile()` runs once: in a thread of this process while workers read one large artifact
    (this process only waits then), else before anything is read; what it raises is raised
    here, as soon as it is raised.
    """
    paths = list(paths)
    once = _Once(meanwhile)
    cores = default_workers() if workers is None else max(1, workers)
    count = min(cores, len(paths))
    if count <= 1:
        results = []
        for number, path in enumerate(paths):
            if progress is not None:
                progress(number, len(paths), path)
            split_workers = _split_workers(path, cores, memory_budget) if cores > 1 else 0
            if split_workers > 1:
                # The workers are forked once the artifact is listed here: they inherit the
                # listing and the open zip (read with pread), instead of each listing it again.
                def split(artifact: Artifact, members: list[Member], index: Callable[[], None],
                          workers: int = split_workers) -> list[Part] | None:
                    def beside() -> None:  # while the workers read: the package index, the planning
                        index()
                        once()

                    return read_in_workers(artifact, members, workers, memory_budget, meanwhile=beside)

                results.append(collect(path, mount, split))
            else:
                once()
                results.append(collect(path, mount))
        once()
        return results
    once()
    needs = [estimated_memory(path) for path in paths]
    calls = [(_collect_in_worker, (path, mount)) for path in paths]

    def started(index: int) -> None:
        if progress is not None:
            progress(index, len(paths), paths[index])

    return _run(calls, needs, count, memory_budget, started)


def read_in_workers(artifact: Artifact, members: list[Member], workers: int,
                    memory_budget: int = MEMORY_BUDGET, split_from: int | None = None,
                    meanwhile: Callable[[], None] | None = None) -> list[Part] | None:
    """collect()'s `read_parts` for one large artifact: its members in runs of consecutive ones
    (the archive's order, about equal compressed size), each run read and parsed by a worker
    forked from this process as it is now (the artifact listed and open: where fork is the
    start method, workers use it; elsewhere each opens the artifact itself), within the memory
    budget; None (read them in this process) when the artifact is too small to pay for the
    workers, or when reading it could reach the total decompression limit (the runs would each
    count only their own bytes). `meanwhile()` runs in a thread while the workers read (once
    they are all started: no fork happens beside a thread), else before this returns None."""
    split_from = SPLIT_FROM if split_from is None else split_from
    limits = artifact.limits
    sizes = [held_memory(min(member.size, limits.max_member_bytes)) for member in members]
    weights = [_stored_size(artifact, member) for member in members]
    total = sum(weights)
    # Each member is read at most to its declared size (more is a finding; a large one read in
    # part may read ranges again), link targets at load.
    worst_case = sum(worst_read(min(member.size, limits.max_member_bytes)) for member in members)
    worst_case += limits.max_members * limits.max_link_target
    base = WORKER_BASE + LISTING_PER_MEMBER * len(members)
    memory_budget = min(memory_budget, SCAN_MEMORY - _resident())
    # Read here when it is too small to pay for the workers, when the total limit is in reach,
    # or when the idle workers' bases and the largest member do not fit in the budget.
    if (workers < 2 or total < split_from or worst_case > limits.max_total_bytes
            or workers * base + max(sizes, default=0) > memory_budget):
        if meanwhile is not None:
            meanwhile()
        return None
    runs: list[list[int]] = [[]]
    target = total / (RUNS_PER_WORKER * workers)
    weight = 0
    for index, member_weight in enumerate(weights):
        if runs[-1] and weight + member_weight > target:
            runs.append([])
            weight = 0
        runs[-1].append(index)
        weight += member_weight
    needs = [base + max(sizes[index] for index in run) for run in runs]
    calls = [(_read_in_worker, (artifact.path, [members[index].name for index in run])) for run in runs]
    global _inherited
    _inherited = artifact.path, artifact, {member.name: member for member in members}
    beside = _Beside(meanwhile) if meanwhile is not None else None
    count = min(workers, len(runs))
    try:
        with beside if beside is not None else contextlib.nullcontext():
            check = beside.check if beside is not None else None
            if forked.can_fork() and count * (base + max(sizes, default=0)) <= memory_budget:
                # each worker may hold its largest member at once: no budget to keep per call
                try:
                    return forked.run(calls, count, started=beside.start if beside is not None else None,
                                      check=check)
                except forked.CannotFork:
                    return None  # the system allows no more processes: read it here
            with Workers(count) as started:
                started.start()  # every fork done before the thread starts
                if beside is not None:
                    beside.start()
                return _run(calls, needs, count, memory_budget, workers=started, in_order=False, base=base,
                            check=check, depth=2 if beside is not None else 1)
    finally:
        _inherited = None


def _run(calls: list[tuple[Callable, tuple]], needs: list[int], count: int, memory_budget: int,
         started: Callable[[int], None] | None = None, workers: Workers | None = None,
         in_order: bool = True, base: int = WORKER_BASE, check: Callable[[], None] | None = None,
         depth: int = 1) -> list:
    """Every call's result, in order, from `count` worker processes (`workers`, or started here).

    Each worker's peak is estimated (`base`, or the largest need it has run), and a call goes
    to a free worker only while the estimated peaks of all the workers, summed, stay within the
    budget (one call always runs): what the workers hold at any moment, and their own peaks
    added up, stay under it. A free worker that has already paid for a large member takes the
    next call first. `in_order`: calls start in the order given (progress is told in order);
    otherwise a call that fits may start before one that must wait. `check()` is called
    every few milliseconds while calls run (it may raise: the calls not started are dropped).
    `depth`: calls given to a worker at once (2: it starts the next without waiting for this
    process, which may be busy in another thread)."""
    if workers is None:
        with Workers(count) as own:
            return _run(calls, needs, count, memory_budget, started, own, in_order, base, check, depth)
    from concurrent.futures import FIRST_COMPLETED, wait

    results: list = [None] * len(calls)
    pending = list(range(len(calls)))
    peaks = [base] * len(workers.executors)
    busy: dict[Future, tuple[int, int]] = {}  # future -> (call, worker)
    while pending or busy:
        queued = Counter(worker for _, worker in busy.values())
        for _ in range(depth):
            for worker in sorted(range(len(peaks)), key=lambda worker: (queued[worker], -peaks[worker])):
                if queued[worker] >= depth:
                    continue
                others = sum(peaks) - peaks[worker]
                candidates = pending[:1] if in_order else pending
                call = next((index for index in candidates
                             if others + max(peaks[worker], needs[index]) <= memory_budget), None)
                if call is None and not busy and pending:
                    call = pending[0]  # nothing running: the next call runs, however large
                if call is None:
                    continue
                pending.remove(call)
                if started is not None:
                    started(call)
                function, args = calls[call]
                busy[workers.executors[worker].submit(function, *args)] = call, worker
                queued[worker] += 1
                peaks[worker] = max(peaks[worker], needs[call])
        done, _ = wait(busy, timeout=None if check is None else 0.01, return_when=FIRST_COMPLETED)
        if check is not None:
            check()
        for future in done:
            call, _ = busy.pop(future)
            results[call] = future.result()
    return results


class Workers:
    """`count` worker processes, each its own single-process pool (so a call can be given to the
    one whose memory suits it), each started by the first call given to it."""

    def __init__(self, count: int) -> None:
        # imported here: a scan that forks its own workers (forked.py) never needs them
        from concurrent.futures import ProcessPoolExecutor

        context = _context()
        self.executors = [ProcessPoolExecutor(max_workers=1, mp_context=context) for _ in range(count)]

    def start(self) -> None:
        """Start every worker now (a call each that does nothing)."""
        for running in [executor.submit(int) for executor in self.executors]:
            running.result()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for executor in self.executors:
            executor.shutdown(wait=True, cancel_futures=True)


class _Once:
    """A callable that calls `function` the first time only (nothing when it is None)."""

    def __init__(self, function: Callable[[], None] | None) -> None:
        self.function = function
        self.pending = function is not None

    def __call__(self) -> None:
        if self.pending:
            self.pending = False
            self.function()


class _Beside:
    """`function` run in a thread started by start() within a `with` block: what it raises is
    raised by check() as soon as it is raised, else when the block ends (after the thread has
    ended); a block left before start() runs `function` then, in this thread."""

    def __init__(self, function: Callable[[], None]) -> None:
        self.function = function
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="lambda-glibc-gate-meanwhile", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        try:
            self.function()
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            self.error = error

    def check(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def __enter__(self) -> _Beside:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        if self.thread.ident is None:  # never started (a fork failed): run it now, here
            if kind is None:
                self.function()
            return
        self.thread.join()
        if kind is None:
            self.check()


def _resident() -> int:
    """This process's resident memory now (Linux); elsewhere, about what it is on Linux."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return 30 * 2**20


def _split_workers(path: str, cores: int, memory_budget: int) -> int:
    """How many workers may read `path` together (0 or 1: none): a zip of SPLIT_FROM bytes or
    more, sized from its end record before it is listed here: each worker's base and listing,
    and what the largest member a zip may hold costs held in part (its sizes are not read here:
    read_in_workers checks them once listed), within what this process leaves of SCAN_MEMORY.
    A folder is split only by workers started when it is read (its size is known once walked)."""
    try:
        if not os.path.isfile(path) or os.path.getsize(path) < SPLIT_FROM or not _starts_like_a_zip(path):
            return 0
    except OSError:
        return 0
    entries = declared_entry_count(path)
    if entries is None:
        return 0
    listing = LISTING_PER_MEMBER * entries
    budget = min(memory_budget, SCAN_MEMORY - _resident() - listing)
    return min(cores, (budget - held_memory(Limits().max_member_bytes)) // (WORKER_BASE + listing))


def _collect_in_worker(path: str, mount: str) -> Collected:
    collected = collect(path, mount)
    release_freed_memory()  # an idle worker must not hold what a busy one needs
    return collected


# A worker keeps the artifact it last opened: it reads several runs of the same one.
_opened: dict[str, tuple[Artifact, dict[str, Member]]] = {}
# The artifact read_in_workers is splitting, as forked workers inherit it: (path, artifact, members
# by name); None in a worker started another way, which opens the artifact itself.
_inherited: tuple[str, Artifact, dict[str, Member]] | None = None


def _read_in_worker(path: str, names: list[str]) -> Part:
    if path not in _opened:
        for artifact, _ in _opened.values():
            if _inherited is None or artifact is not _inherited[1]:
                artifact.close()
        _opened.clear()
        if _inherited is not None and _inherited[0] == path:
            _opened[path] = _inherited[1], _inherited[2]
        else:
            artifact = open_artifact(path)
            _opened[path] = artifact, {member.name: member for member in artifact.members()}
    artifact, by_name = _opened[path]
    reports: list[tuple[tuple, dict]] = []
    # What the reader reports is recorded, not judged here: the parent replays it in member
    # order on its own artifact, so de-duplication and the per-kind cap see the whole artifact.
    artifact._report = lambda *args, **kwargs: reports.append((args, kwargs))  # type: ignore[method-assign]
    part = read_part(artifact, [by_name[name] for name in names if name in by_name])
    part.reports = reports
    release_freed_memory()
    return part


def _stored_size(artifact: Artifact, member: Member) -> int:
    """The bytes a member takes in the artifact (compressed in a zip): the work of reading it."""
    info = getattr(artifact, "_infos", {}).get(member.name)
    return info.compress_size if info is not None else member.size


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
    import multiprocessing

    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()
