"""Wall-clock medians and peak memory of a command or a Python call."""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

_SAMPLE_SECONDS = 0.005


@dataclass(frozen=True)
class Timing:
    label: str
    seconds: list[float]
    peak_rss: int | None = None  # bytes, the process and its workers at one moment
    peak_rss_bound: int | None = None  # bytes, each process's own peak, summed

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(child) for child in handle.read().split()]
    except OSError:
        pass  # the process ended between two samples
    return found


def _memory(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) in bytes: the resident set now and its peak so far."""
    found = {}
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    found[line[:5]] = int(line.split()[1]) * 1024
    except OSError:
        return None  # the process ended between two samples
    if len(found) != 2:
        return None  # a zombie has no memory left
    return found["VmRSS"], found["VmHWM"]


class _TreePeak:
    """Peak RSS of a process tree, two ways. `concurrent`: the largest sum of the processes'
    resident sets seen at one sample (every few ms). `bound`: each process's own peak (VmHWM,
    kept by the kernel, so never missed), summed: an upper bound, as the peaks of workers
    need not coincide. Both count twice the pages a forked worker shares with its parent."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peaks: dict[int, int] = {}
        self.concurrent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            pending, total = [self.root], 0
            while pending:
                pid = pending.pop()
                memory = _memory(pid)
                if memory is not None:
                    resident, peak = memory
                    total += resident
                    self.peaks[pid] = max(peak, self.peaks.get(pid, 0))
                pending += _children(pid)
            self.concurrent = max(self.concurrent, total)
            time.sleep(_SAMPLE_SECONDS)

    def stop(self) -> tuple[int, int]:
        self._stop.set()
        self._thread.join()
        return self.concurrent, sum(self.peaks.values())


def run_command(label: str, command: Sequence[str], repeat: int, memory: bool = False,
                cwd: Path | None = None) -> Timing:
    """Run `command` `repeat` times (output to /dev/null). With `memory`, the worst peak RSS of
    the process and its workers (the sampler costs a little CPU, so only where it is reported)."""
    seconds, peak, bound = [], 0, 0
    for _ in range(repeat):
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, cwd=cwd)
        tree = _TreePeak(process.pid) if memory else None
        # Not ru_maxrss from wait4: it keeps the high-water mark of the memory the child had
        # before exec, that is this (large) benchmark process's.
        process.wait()
        seconds.append(time.perf_counter() - start)
        if tree is not None:
            concurrent, peaks = tree.stop()
            peak, bound = max(peak, concurrent), max(bound, peaks)
        if process.returncode not in (0, 1):  # 1 is the scanner's "findings" verdict
            raise SystemExit(f"{label}: {' '.join(command)} exited {process.returncode}")
    return Timing(label, seconds, peak or None, bound or None)


def run_pairs(first: tuple[str, Sequence[str]], second: tuple[str, Sequence[str]],
              repeat: int) -> tuple[Timing, Timing]:
    """Run two commands alternately, `repeat` times each (no memory sampling): on a machine
    whose load drifts, each pair sees about the same load, so their ratios are comparable."""
    timings: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for (label, command), seconds in zip((first, second), timings, strict=True):
            start = time.perf_counter()
            done = subprocess.run(command, stdout=subprocess.DEVNULL, check=False)
            seconds.append(time.perf_counter() - start)
            if done.returncode not in (0, 1):
                raise SystemExit(f"{label}: {' '.join(command)} exited {done.returncode}")
    return Timing(first[0], timings[0]), Timing(second[0], timings[1])


def run_call(label: str, call: Callable[[], object], repeat: int) -> Timing:
    seconds = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return Timing(label, seconds)
