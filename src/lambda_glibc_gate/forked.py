"""Workers forked from this process as it is, fed through pipes (where os.fork exists).

For reading one listed artifact (parallel.read_in_workers): the children inherit the listing,
the open zip and the calls themselves, so only a call's number goes down and its result comes
back. Lighter than a ProcessPoolExecutor (no executor machinery to import, no threads in this
process, no queue of pickled calls), which matters when a whole scan lasts under a second.

Each child is given `depth` calls at a time and takes the next from its pipe as soon as it is
done, whatever this process is doing. A call that raises in a child raises here; a child that
dies without its results is an error here; every child is reaped before run() returns.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import threading
from collections.abc import Callable, Sequence

_STOP = 0xFFFFFFFF
_INDEX = struct.Struct("<I")
_LENGTH = struct.Struct("<Q")


class WorkerDied(RuntimeError):
    """A forked worker ended without returning the results of the calls it was given."""


class CannotFork(OSError):
    """The system refused a fork (a process limit, memory): nothing was run; read elsewhere."""


def can_fork() -> bool:
    """os.fork exists and this process has no other thread (a fork beside threads can deadlock)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def run(
    calls: Sequence[tuple[Callable, tuple]],
    count: int,
    started: Callable[[], None] | None = None,
    check: Callable[[], None] | None = None,
    depth: int = 2,
) -> list:
    """Every call's result, in order, from `count` children forked now. `started()` is called
    once they all exist (a thread may start then: no fork happens after). `check()` is called
    every few milliseconds while they work; what it raises stops them."""
    children: list[_Child] = []
    try:
        for _ in range(max(1, min(count, len(calls)))):
            try:
                children.append(_Child.fork(calls))
            except OSError as error:
                raise CannotFork(error.errno, f"cannot start a worker process: {error.strerror}") from None
        if started is not None:
            started()
        return _dispatch(calls, children, check, depth)
    finally:
        for child in children:
            child.stop()


def _dispatch(calls: Sequence, children: list[_Child], check: Callable[[], None] | None, depth: int) -> list:
    results: list = [None] * len(calls)
    pending = list(range(len(calls)))
    remaining = len(calls)
    for _ in range(depth):
        for child in children:
            if pending:
                child.give(pending.pop(0))
    while remaining:
        readable, _, _ = select.select([child.results for child in children if child.given], [], [],
                                       0.01 if check is not None else None)
        if check is not None:
            check()
        for fd in readable:
            child = next(child for child in children if child.results == fd)
            index, ok, value = child.receive()
            if not ok:
                raise value
            results[index] = value
            remaining -= 1
            if pending:
                child.give(pending.pop(0))
    return results


class _Child:
    def __init__(self, pid: int, calls_fd: int, results_fd: int) -> None:
        self.pid = pid
        self.calls = calls_fd  # this process writes call numbers here
        self.results = results_fd  # and reads results here
        self.given: set[int] = set()

    @classmethod
    def fork(cls, calls: Sequence[tuple[Callable, tuple]]) -> _Child:
        calls_read, calls_write = os.pipe()
        results_read, results_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(calls_write)
            os.close(results_read)
            _serve(calls, calls_read, results_write)
        os.close(calls_read)
        os.close(results_write)
        return cls(pid, calls_write, results_read)

    def give(self, index: int) -> None:
        self.given.add(index)
        try:
            os.write(self.calls, _INDEX.pack(index))  # 4 bytes: never blocks, never split
        except OSError:  # its end of the pipe is closed: it has ended
            raise WorkerDied("a worker process ended before it was given all its calls") from None

    def receive(self) -> tuple[int, bool, object]:
        header = _read_exactly(self.results, _LENGTH.size)
        if len(header) < _LENGTH.size:
            raise WorkerDied(f"a worker process ended without the results of {len(self.given)} calls")
        (length,) = _LENGTH.unpack(header)
        data = _read_exactly(self.results, length)
        if len(data) < length:
            raise WorkerDied("a worker process ended in the middle of a result")
        index, ok, value = pickle.loads(data)
        self.given.discard(index)
        return index, ok, value

    def stop(self) -> None:
        """Tell the child to end; kill it if it is still busy (an error ended the run); reap it."""
        try:
            os.write(self.calls, _INDEX.pack(_STOP))
        except OSError:
            pass
        for fd in (self.calls, self.results):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.given:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def _serve(calls: Sequence[tuple[Callable, tuple]], calls_fd: int, results_fd: int) -> None:
    """The child's loop: run the calls it is given, send each result; leave with os._exit (no
    atexit handlers, no flushing of the buffers it inherited)."""
    code = 0
    try:
        while True:
            raw = _read_exactly(calls_fd, _INDEX.size)
            if len(raw) < _INDEX.size:
                break
            (index,) = _INDEX.unpack(raw)
            if index == _STOP:
                break
            function, args = calls[index]
            try:
                message = (index, True, function(*args))
            except BaseException as error:  # noqa: BLE001 - raised again in the parent
                message = (index, False, error)
            try:
                data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
            except Exception as error:  # noqa: BLE001 - an unpicklable error: say what it was
                data = pickle.dumps((index, False, RuntimeError(f"{type(error).__name__}: {error}")))
            _write_all(results_fd, _LENGTH.pack(len(data)) + data)
    except BaseException:  # noqa: BLE001 - the parent sees the missing results
        code = 1
    finally:
        os._exit(code)


def _read_exactly(fd: int, size: int) -> bytes:
    parts = []
    while size > 0:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            break
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
