"""Wall-clock medians and peak memory of a command or a Python call."""

from __future__ import annotations

import gc
import os
import resource
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
    peak_rss: int | None = None  # bytes, summed over the process and its workers

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


def _high_water_mark(pid: int) -> int | None:
    """VmHWM: the process's own peak resident set, kept by the kernel (so sampling it cannot
    miss a short peak; only a worker that lives less than one sample interval can be missed)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class _TreePeak:
    """Peak RSS of a process tree: each process's VmHWM, summed over every process seen (an
    upper bound of the tree's peak, as the workers' peaks need not coincide)."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            pending = [self.root]
            while pending:
                pid = pending.pop()
                peak = _high_water_mark(pid)
                if peak is not None:
                    self.peaks[pid] = max(peak, self.peaks.get(pid, 0))
                pending += _children(pid)
            time.sleep(_SAMPLE_SECONDS)

    def stop(self, root_peak: int) -> int:
        self._stop.set()
        self._thread.join()
        self.peaks[self.root] = max(root_peak, self.peaks.get(self.root, 0))
        return sum(self.peaks.values())


def run_command(label: str, command: Sequence[str], repeat: int, cwd: Path | None = None,
                env: dict[str, str] | None = None) -> Timing:
    """Run `command` `repeat` times (output to /dev/null); the worst peak RSS is kept."""
    seconds, peak = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, cwd=cwd, env=env)
        tree = _TreePeak(process.pid)
        _, status, usage = os.wait4(process.pid, 0)
        seconds.append(time.perf_counter() - start)
        process.returncode = os.waitstatus_to_exitcode(status)
        peak = max(peak, tree.stop(usage.ru_maxrss * 1024))  # ru_maxrss is in KB on Linux
        if process.returncode not in (0, 1):  # 1 is the scanner's "findings" verdict
            raise SystemExit(f"{label}: {' '.join(command)} exited {process.returncode}")
    return Timing(label, seconds, peak)


def run_call(label: str, call: Callable[[], object], repeat: int) -> Timing:
    seconds = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return Timing(label, seconds)


def own_peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
