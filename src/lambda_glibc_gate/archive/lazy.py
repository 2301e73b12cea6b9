"""A large member held only in the parts a reader asks for.

A 200 MB executable need not be held whole to be judged: what ld.so reads of it (the program
headers, the dynamic array, the string, symbol and version tables) is kilobytes to a few
megabytes. The member is read once from start to end by the one reading loop (its size, CRC and
budget checks), and this keeps of it: the first bytes, the ranges a planner foresees from them,
and marks of the stream (where it can be resumed: a decompressor's state, or a file offset).
Any other range is decompressed again from the nearest mark when the reader asks for it. The
work is bounded: once the ranges read again add up to FETCH_WORK times the member, it is held
whole, as reading it whole would.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator
from typing import Protocol

from lambda_glibc_gate.elf import SourceError, merged_spans

# A mark every this many bytes of output: a range asked for later costs at most this much
# decompressed again before it (a deflate state copy costs about 40 KB).
MARK_EVERY = 1024 * 1024
# Bytes kept from the start: the ELF header and program headers, and in most files the dynamic
# symbol, string and version tables that follow them.
HEAD = 1024 * 1024
# Ranges fetched again are read in blocks of this size (aligned), so neighbouring small reads
# (a version chain, strings) cost one fetch.
BLOCK = 64 * 1024
# Bytes read again, in all, before the member is held whole instead: in times its length.
FETCH_WORK = 2


class SourceFailed(SourceError):
    """The member could not be read again (it changed, or the artifact's budget is spent)."""


class Watch(Protocol):
    """Sees every byte of the member once, in order, in windows that overlap by `overlap`."""

    overlap: int

    def update(self, window: bytes) -> None: ...


# planner(first bytes, declared length) -> (offset, size) ranges to keep, and a Watch or None.
Planner = Callable[[bytes, int], "tuple[list[tuple[int, int]], Watch | None]"]
# A mark: (output offset, what the stream needs to resume there); restream(mark) yields the
# member's bytes from that offset on.
Mark = tuple[int, object]
Restream = Callable[[Mark], Iterator[bytes]]


def worst_work(size: int) -> int:
    """The most a member of `size` bytes may cost to read, re-reads and holding it whole included."""
    return size * (2 + FETCH_WORK)


class Builder:
    """Fed the member's bytes in order by the reading loop; `finish` makes the LazyMember."""

    def __init__(self, planner: Planner, declared: int) -> None:
        self.planner = planner
        self.declared = declared
        self.marks: list[Mark] = []
        self.watch: Watch | None = None
        self._keep: list[tuple[int, int]] = []
        self._planned = False
        self._pieces: list[tuple[int, bytes]] = []  # (offset, bytes) kept, in order
        self._position = 0
        self._tail = b""

    def take(self, chunk: bytes) -> None:
        start = self._position
        self._position += len(chunk)
        if not self._planned:
            self._pieces.append((start, chunk))  # whole chunks until the plan is made
            if self._position >= HEAD:
                self._plan()
            return
        end = self._position
        for low, high in self._keep:
            if low < end and high > start:
                self._pieces.append((max(low, start), chunk[max(low, start) - start : min(high, end) - start]))
        if self.watch is not None:
            self._watch(chunk)

    def finish(self, restream: Restream, spend: Callable[[int], None]) -> LazyMember:
        if not self._planned:
            self._plan()
        return LazyMember(self._position, _joined(self._pieces), self.marks, restream, self.watch, spend)

    def _plan(self) -> None:
        self._planned = True
        head = b"".join(piece for _, piece in self._pieces)
        self._pieces = [(0, head)] if head else []
        try:
            ranges, self.watch = self.planner(head, self.declared)
        except Exception:  # noqa: BLE001 - a plan only saves work; the reader decides
            ranges, self.watch = [], None
        self._keep = merged_spans(ranges, self.declared)
        if self.watch is not None and head:
            self._watch(head)

    def _watch(self, chunk: bytes) -> None:
        """Show the watch `chunk`, and what spans the border with the previous one (no copy of
        the chunk: a string that crosses the border lies within `overlap` bytes of it)."""
        overlap = self.watch.overlap
        if self._tail:
            self.watch.update(self._tail + chunk[:overlap])
        self.watch.update(chunk)
        # the stream's last `overlap` bytes, however short the chunks
        self._tail = (chunk if len(chunk) >= overlap else self._tail + chunk)[-overlap:] if overlap else b""


class LazyMember:
    """The member's bytes as `bytes` offers them to a reader (len, an index, a slice, find),
    with `span` for struct: held parts answer at once, others are read again from a mark."""

    def __init__(
        self,
        length: int,
        spans: list[tuple[int, bytes]],
        marks: list[Mark],
        restream: Restream,
        watch: Watch | None,
        spend: Callable[[int], None],
    ) -> None:
        self.length = length
        self.watch = watch  # what the watch saw of every byte (elf.py: toolchain strings)
        self._starts = [start for start, _ in spans]
        self._spans = [data for _, data in spans]
        self._marks = sorted(marks, key=lambda mark: mark[0]) or [(0, None)]
        self._restream = restream
        self._spend = spend  # counts re-read bytes against the artifact's budget; may raise
        self._work = 0
        self._whole: bytes | None = None

    def __len__(self) -> int:
        return self.length

    def held(self) -> int:
        """Bytes held now (for tests and the benchmark)."""
        return len(self._whole) if self._whole is not None else sum(map(len, self._spans))

    def span(self, offset: int, size: int) -> tuple[bytes, int]:
        """(buffer, position): the member's bytes from `offset`, up to `size` of them (fewer at
        its end), are buffer[position:]. As with bytes, a read past the end finds less."""
        end = min(offset + max(size, 0), self.length)
        if offset < 0 or offset >= end:
            return b"", 0
        if self._whole is not None:
            return self._whole, offset
        index = bisect_right(self._starts, offset) - 1
        if index < 0 or self._starts[index] + len(self._spans[index]) < end:
            index = self._fetch(offset, end)
        return self._spans[index], offset - self._starts[index]

    def __getitem__(self, key: int | slice) -> int | bytes:
        if isinstance(key, slice):
            start, stop, step = key.indices(self.length)
            if step != 1:
                raise ValueError("only contiguous slices")
            buffer, at = self.span(start, stop - start)
            return buffer[at : at + max(stop - start, 0)]
        if key < 0:
            key += self.length
        if not 0 <= key < self.length:
            raise IndexError("index out of range")
        buffer, at = self.span(key, 1)
        return buffer[at]

    def find(self, sub: bytes, start: int = 0, end: int | None = None) -> int:
        start, end, _ = slice(start, end).indices(self.length)
        if end - start < len(sub):
            return -1 if sub or start > end else start
        buffer, at = self.span(start, end - start)
        found = buffer.find(sub, at, at + end - start)
        return -1 if found < 0 else start + found - at

    # -- reading again ---------------------------------------------------------------------
    def _fetch(self, offset: int, end: int) -> int:
        """Hold [offset, end), joined with the held spans it touches into one; the index of that
        span. What is missing is read again, widened to whole blocks where nothing is held (so
        neighbouring small reads, a version chain or strings, cost one read)."""
        touching = [
            index
            for index, start in enumerate(self._starts)
            if start <= end and start + len(self._spans[index]) >= offset
        ]
        pieces = [(self._starts[index], self._spans[index]) for index in touching]
        gaps = []
        position = offset
        for start, data in [*pieces, (end, b"")]:
            if start > position:
                gaps.append([position, start])
            position = max(position, start + len(data))
        if gaps:  # widen the outer gaps to blocks, as far as nothing held is in the way
            ends = [start + len(data) for start, data in zip(self._starts, self._spans, strict=True)]
            before = max((stop for stop in ends if stop <= gaps[0][0]), default=0)
            gaps[0][0] = max(before, gaps[0][0] - gaps[0][0] % BLOCK)
            after = min((start for start in self._starts if start >= gaps[-1][1]), default=self.length)
            gaps[-1][1] = min(after, gaps[-1][1] + (-gaps[-1][1]) % BLOCK)
        for low, high in gaps:
            pieces.append((low, self._read_again(low, high)))
            if self._whole is not None:  # the work limit was reached: everything is held now
                return 0
        joined = _joined(sorted(pieces, key=lambda piece: piece[0]))
        if len(joined) != 1:  # cannot happen (the pieces tile one range); never a wrong answer
            self._hold_whole()
            return 0
        first = touching[0] if touching else bisect_right(self._starts, offset)
        del self._starts[first : first + len(touching)]
        del self._spans[first : first + len(touching)]
        self._starts.insert(first, joined[0][0])
        self._spans.insert(first, joined[0][1])
        return first

    def _read_again(self, offset: int, end: int) -> bytes:
        """The member's bytes [offset, end), decompressed again from the last mark before them."""
        if self._whole is not None:
            return self._whole[offset:end]
        mark = self._marks[bisect_right([at for at, _ in self._marks], offset) - 1]
        if self._work + end - mark[0] > FETCH_WORK * self.length:
            self._hold_whole()
            return self._whole[offset:end] if self._whole is not None else b""
        return self._decompress(mark, offset, end)

    def _hold_whole(self) -> None:
        whole = self._decompress(self._marks[0], 0, self.length)
        self._whole = whole
        self._starts, self._spans = [0], [whole]

    def _decompress(self, mark: Mark, offset: int, end: int) -> bytes:
        """Bytes [offset, end) streamed again from `mark` (at or before `offset`), counted."""
        parts = []
        position = mark[0]
        stream = self._restream(mark)
        try:
            for chunk in stream:
                self._count(len(chunk))
                if position + len(chunk) > offset:
                    parts.append(chunk[max(0, offset - position) : end - position])
                position += len(chunk)
                if position >= end:
                    break
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        data = b"".join(parts)
        if len(data) != end - offset:
            raise SourceFailed("the member changed since it was read")
        return data

    def _count(self, size: int) -> None:
        self._work += size
        self._spend(size)


def _joined(pieces: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """Adjacent (offset, bytes) pieces, sorted, joined into spans."""
    spans: list[tuple[int, list[bytes]]] = []
    end = -1
    for start, data in pieces:
        if not data:
            continue
        if spans and start == end:
            spans[-1][1].append(data)
        else:
            spans.append((start, [data]))
        end = start + len(data)
    return [(start, parts[0] if len(parts) == 1 else b"".join(parts)) for start, parts in spans]
