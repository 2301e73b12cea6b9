"""collect_many: the same facts as collect(), artifact by artifact, whatever the worker count."""

from __future__ import annotations

import pickle

import pytest
from helpers import REGULAR, elf_fixture

from lambda_glibc_gate.archive import Limits
from lambda_glibc_gate.collect import Collected, collect, held_memory
from lambda_glibc_gate.parallel import WORKER_BASE, collect_many, default_workers, estimated_memory
from lambda_glibc_gate.resolve import TASK_ROOT


def facts(collected: Collected) -> tuple:
    """Everything a Collected holds, in comparable form (PackageIndex has no equality)."""
    owners = {member: collected.packages.owner(member) for member in collected.tree.names}
    return (
        collected.artifact_path,
        collected.kind,
        collected.tree,
        collected.modes,
        collected.heads,
        collected.findings,
        collected.unpacked_size,
        {member: owner.describe() if owner else None for member, owner in owners.items()},
    )


@pytest.fixture
def artifacts(make_zip, tmp_path):
    """Six different packages: a custom runtime, a Python wheel, a library folder, a corrupt zip."""
    wheel_record = b"pkg/_speedups.cpython-312-x86_64-linux-gnu.so,,\n"
    paths = [
        make_zip({"bootstrap": elf_fixture("hello-glibc2.34-x86_64")}),
        make_zip({"bootstrap": elf_fixture("strlcpy_strtol-glibc2.38-x86_64")}),
        make_zip(
            {
                "pkg/_speedups.cpython-312-x86_64-linux-gnu.so": elf_fixture(
                    "_speedups.cpython-312-x86_64-linux-gnu.so"
                ),
                "pkg-1.0.dist-info/RECORD": (wheel_record, REGULAR),
                "pkg-1.0.dist-info/WHEEL": (b"Tag: cp312-cp312-manylinux_2_17_x86_64\n", REGULAR),
            }
        ),
        make_zip({"bin/app": elf_fixture("app_rpath"), "lib/libfoo.so": elf_fixture("lib/libfoo.so")}),
        make_zip({"bootstrap": elf_fixture("relr-glibc2.38-x86_64"), "handler.py": (b"x", REGULAR)}),
    ]
    corrupt = tmp_path / "corrupt.zip"
    data = bytearray(open(paths[0], "rb").read())
    data[40:60] = bytes(20)  # inside the first member's compressed data
    corrupt.write_bytes(bytes(data))
    paths.insert(2, str(corrupt))
    return paths


@pytest.mark.parametrize("workers", [1, 2, 3, None])
@pytest.mark.parametrize("budget", [1, 2**40])  # one artifact at a time; no limit
def test_same_facts_in_the_same_order_as_collect(artifacts, workers, budget):
    expected = [facts(collect(path, TASK_ROOT)) for path in artifacts]
    got = [facts(c) for c in collect_many(artifacts, TASK_ROOT, workers, memory_budget=budget)]
    assert got == expected
    assert [fact[0] for fact in got] == artifacts


def test_the_fixtures_cover_what_the_comparison_needs(artifacts):
    collected = [collect(path, TASK_ROOT) for path in artifacts]
    assert all(c.tree.elves for c in collected if not c.findings)
    assert any(c.findings for c in collected), "the corrupt zip gives a finding"
    assert any(any(c.packages.owner(m) for m in c.tree.names) for c in collected), "a wheel is owned"
    assert any(c.heads for c in collected) or any("bootstrap" in c.tree.elves for c in collected)


def test_collected_survives_pickling(artifacts):
    for path in artifacts:
        collected = collect(path, TASK_ROOT)
        assert facts(pickle.loads(pickle.dumps(collected))) == facts(collected)


def test_a_path_that_is_gone_is_a_finding_on_it_alone(artifacts, tmp_path):
    missing = str(tmp_path / "gone.zip")
    paths = [artifacts[0], missing, *artifacts[1:]]
    got = collect_many(paths, TASK_ROOT, workers=2)
    assert [facts(c) for c in got] == [facts(collect(path, TASK_ROOT)) for path in paths]
    assert [f.rule for f in got[1].findings] == ["unreadable-archive"] and not got[1].tree.elves
    assert got[0].tree.elves and got[2].findings == collect(artifacts[1], TASK_ROOT).findings


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_is_told_each_artifact_once_in_order(artifacts, workers):
    calls = []
    collect_many(artifacts, TASK_ROOT, workers, progress=lambda *call: calls.append(call))
    assert calls == [(number, len(artifacts), path) for number, path in enumerate(artifacts)]


def parallel_context_is_not_fork() -> bool:
    from lambda_glibc_gate.parallel import _context

    return _context().get_start_method() != "fork"


def test_no_paths_no_work():
    assert collect_many([], TASK_ROOT, workers=4) == []


def test_default_workers_is_at_least_one():
    assert default_workers() >= 1


def test_memory_estimate_is_what_the_largest_member_holds_plus_the_base(make_zip, tmp_path):
    big = elf_fixture("hello-glibc2.34-x86_64") + bytes(3 * 2**20)
    assert held_memory(len(big)) < len(big)  # held in part (archive/lazy.py)
    package = make_zip({"bootstrap": big, "small.py": (b"x", REGULAR)})
    assert estimated_memory(package) == WORKER_BASE + held_memory(len(big))
    folder = tmp_path / "folder"
    (folder / "lib").mkdir(parents=True)
    (folder / "lib" / "libbig.so").write_bytes(big)
    (folder / "handler.py").write_bytes(b"x")
    assert estimated_memory(str(folder)) == WORKER_BASE + held_memory(len(big))
    assert estimated_memory(str(folder / "handler.py")) == WORKER_BASE + 1


def test_memory_estimate_of_what_cannot_be_sized_is_the_worst_case(tmp_path):
    limits = Limits()
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04" + bytes(100))
    worst = WORKER_BASE + held_memory(limits.max_member_bytes)
    assert estimated_memory(str(broken)) == worst
    assert estimated_memory(str(tmp_path / "gone.zip")) == worst


def test_a_fifo_among_many_artifacts_never_blocks_the_sizing(tmp_path):
    # Opening a FIFO blocks until a writer comes; sizing artifacts for the memory budget must
    # not open it (the worker's reader reports it as a finding instead).
    import os
    import subprocess
    import sys
    import zipfile

    fifo = tmp_path / "artifact.fifo"
    os.mkfifo(fifo)
    package = tmp_path / "function.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("handler.py", "print(1)\n")
    code = (
        "import sys; from lambda_glibc_gate.parallel import collect_many;"
        "found = collect_many(sys.argv[1:], '/var/task', workers=2);"
        "print(sorted(f.rule for c in found for f in c.findings))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(fifo), str(package)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "unreadable-archive" in result.stdout


# -- one large artifact, its members read by several workers ----------------------------------


def _corrupt_crcs(path, names: set[str]) -> None:
    """Flip the CRC-32 of these members in both of their headers: reading them is a finding."""
    import struct

    raw = bytearray(open(path, "rb").read())
    for signature, crc_at, name_length_at, name_at in ((b"PK\x01\x02", 16, 28, 46), (b"PK\x03\x04", 14, 26, 30)):
        start = raw.find(signature)
        while start >= 0:
            (length,) = struct.unpack_from("<H", raw, start + name_length_at)
            if raw[start + name_at : start + name_at + length].decode() in names:
                raw[start + crc_at] ^= 0xFF
            start = raw.find(signature, start + 4)
    open(path, "wb").write(bytes(raw))


@pytest.fixture
def many_members(tmp_path):
    """A package whose members give every kind of fact and finding, from the listing (a
    duplicate) and from reading (malformed ELF, 25 CRC failures: more than one kind's cap)."""
    import warnings
    import zipfile

    from helpers import FIXTURES

    elves = sorted(path for path in FIXTURES.iterdir() if path.is_file() and path.read_bytes()[:4] == b"\x7fELF")
    path = tmp_path / "many.zip"
    broken = {f"data/broken-{index:02d}.so" for index in range(25)}
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore")  # the duplicate name is the point
        archive.writestr("bootstrap", "#!/bin/sh\nexec ./bin/app\n")
        for index, elf in enumerate(elves):
            archive.writestr(f"bin/{elf.name}", elf.read_bytes())
            if index == len(elves) // 2:
                archive.writestr("lib/libtruncated.so", b"\x7fELF\x02\x01\x01" + bytes(20))
                for name in sorted(broken):
                    archive.writestr(name, elf.read_bytes())
        archive.writestr("pkg/_speedups.cpython-312-x86_64-linux-gnu.so",
                         elf_fixture("_speedups.cpython-312-x86_64-linux-gnu.so"))
        archive.writestr("pkg-1.0.dist-info/RECORD", "pkg/_speedups.cpython-312-x86_64-linux-gnu.so,,\n")
        # read for the package index (beside the workers when they read): its finding comes after
        # the members', so past the per-kind cap, whichever way the package is read
        archive.writestr("pkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n")
        archive.writestr("bin/app_rpath", elf_fixture("app_runpath"))  # a duplicate: the last is judged
    _corrupt_crcs(path, broken | {"pkg-1.0.dist-info/METADATA"})
    return str(path)


@pytest.fixture
def whole_scan_memory(monkeypatch):
    """The split leaves room for this process's memory (SCAN_MEMORY): pytest's is not a scan's."""
    from lambda_glibc_gate import parallel

    monkeypatch.setattr(parallel, "SCAN_MEMORY", 2**40)


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("room", [2**20, 2**40])  # about one run at a time; no limit
def test_one_artifact_read_by_workers_gives_the_same_facts(many_members, workers, room, whole_scan_memory):
    import zipfile

    from lambda_glibc_gate.parallel import LISTING_PER_MEMBER, read_in_workers

    with zipfile.ZipFile(many_members) as archive:
        listed = archive.infolist()
    largest = max(info.file_size for info in listed)
    budget = workers * (WORKER_BASE + LISTING_PER_MEMBER * len(listed)) + largest + room

    runs = []

    def split(artifact, members, index):
        parts = read_in_workers(artifact, members, workers, memory_budget=budget, split_from=0, meanwhile=index)
        runs.append(len(parts))
        return parts

    serial = collect(many_members, TASK_ROOT)
    parallel = collect(many_members, TASK_ROOT, split)
    assert runs and runs[0] >= workers  # it was really read in runs, by workers
    assert facts(parallel) == facts(serial)
    assert list(parallel.tree.elves) == list(serial.tree.elves)  # the same order too
    problems = [f.details.get("problem") for f in serial.findings]
    assert "duplicate" in problems and "too-many-findings" in problems and problems.count("crc-mismatch") == 20
    assert any(f.rule == "malformed-elf" for f in serial.findings) and len(serial.tree.elves) > 20


@pytest.mark.skipif(parallel_context_is_not_fork(), reason="workers inherit the listing only when forked")
def test_forked_workers_read_the_listed_artifact_without_listing_it_again(many_members, monkeypatch,
                                                                            whole_scan_memory):
    """Forked once the artifact is listed, the workers share its open zip (read with pread, so
    their reads cannot move each other's position) and never open or list it themselves."""
    from lambda_glibc_gate import parallel
    from lambda_glibc_gate.parallel import read_in_workers

    def split(artifact, members, index):
        monkeypatch.setattr(parallel, "open_artifact", lambda *args: pytest.fail("a worker listed it again"))
        return read_in_workers(artifact, members, 2, memory_budget=2**40, split_from=0, meanwhile=index)

    serial = collect(many_members, TASK_ROOT)
    assert facts(collect(many_members, TASK_ROOT, split)) == facts(serial)


def test_a_small_artifact_alone_is_read_in_this_process(many_members, whole_scan_memory):
    from lambda_glibc_gate.archive import open_artifact
    from lambda_glibc_gate.parallel import read_in_workers

    with open_artifact(many_members) as artifact:
        assert read_in_workers(artifact, list(artifact.members()), workers=2) is None  # below SPLIT_FROM
        assert read_in_workers(artifact, list(artifact.members()), workers=1, split_from=0) is None
        # the workers' bases and the largest member do not fit in the budget
        assert read_in_workers(artifact, list(artifact.members()), workers=2, split_from=0,
                               memory_budget=2 * WORKER_BASE) is None


def count_runs(monkeypatch) -> list[int]:
    """How many calls each split gave its workers, through whichever pool ran them (forked.run
    where this process may fork, else the executors' _run)."""
    from lambda_glibc_gate import forked, parallel

    calls: list[int] = []
    for module, name in ((parallel, "_run"), (forked, "run")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *args, real=real, **kwargs: calls.append(len(args[0]))
                            or real(*args, **kwargs))
    return calls


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "executors"])
def test_a_large_artifact_alone_is_split_by_collect_many(many_members, monkeypatch, whole_scan_memory, fork):
    """collect_many of one artifact on several cores reads it in runs (the threshold lowered),
    by workers this process forks itself, or by executors where it may not."""
    from lambda_glibc_gate import forked, parallel

    monkeypatch.setattr(parallel, "SPLIT_FROM", 0)
    if not fork:
        monkeypatch.setattr(forked, "can_fork", lambda: False)
    elif not forked.can_fork():
        pytest.skip("this process cannot fork")
    calls = count_runs(monkeypatch)
    [got] = collect_many([many_members], TASK_ROOT, workers=2)
    assert calls and calls[0] > 1
    assert facts(got) == facts(collect(many_members, TASK_ROOT))



def test_sizing_a_zip_that_lies_about_its_count_never_parses_it_with_zipfile(tmp_path, monkeypatch):
    # GIVEN a zip of 3,000 entries whose end record says 1 (zipfile would build every entry)
    import struct
    import zipfile

    from lambda_glibc_gate import parallel
    from lambda_glibc_gate.archive import Limits

    path = tmp_path / "lying.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for index in range(3000):
            archive.writestr(f"f{index:05d}", b"")
    data = bytearray(path.read_bytes())
    end = data.rindex(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 1, 1)
    path.write_bytes(bytes(data))
    opened = []
    real = zipfile.ZipFile
    monkeypatch.setattr(zipfile, "ZipFile", lambda *args, **kwargs: opened.append(args) or real(*args, **kwargs))
    # THEN it is sized as the worst case, from the counted central directory alone
    limits = Limits(max_members=1000)
    assert parallel.estimated_memory(str(path), limits) == parallel.WORKER_BASE + held_memory(limits.max_member_bytes)
    assert opened == []  # zipfile would have built all 3,000 entries


def test_meanwhile_runs_once_before_reading_when_no_worker_reads(make_zip, many_members, monkeypatch):
    """With no workers (one small artifact, one core, no artifact at all) the planning runs
    before anything is read, in this thread: the order a scan had before it overlapped."""
    import threading

    from lambda_glibc_gate import parallel

    small = make_zip({"bootstrap": elf_fixture("hello-glibc2.34-x86_64")})
    real_collect = parallel.collect
    for paths, workers in (([small], 2), ([many_members], 1), ([], 2), ([small, small], 1)):
        events: list = []

        def read(*args, events=events):
            events.append("read")
            return real_collect(*args)

        def meanwhile(events=events):
            events.append(threading.current_thread() is threading.main_thread())

        monkeypatch.setattr(parallel, "collect", read)
        collect_many(paths, TASK_ROOT, workers=workers, meanwhile=meanwhile)
        assert events == [True] + ["read"] * len(paths), (paths, workers, events)


def test_meanwhile_runs_beside_the_workers_of_a_split_artifact(many_members, monkeypatch, whole_scan_memory):
    """The planning of a scan runs in a thread while the workers read one large artifact (they
    are all started first: no fork beside a thread), and the result is the same."""
    import threading

    from lambda_glibc_gate import parallel

    monkeypatch.setattr(parallel, "SPLIT_FROM", 0)
    seen = []

    def meanwhile():
        seen.append((threading.current_thread() is threading.main_thread(), parallel._inherited is not None))

    [got] = collect_many([many_members], TASK_ROOT, workers=2, meanwhile=meanwhile)
    assert seen == [(False, True)]  # once, beside the workers, while the artifact was being read
    assert facts(got) == facts(collect(many_members, TASK_ROOT))


def test_what_meanwhile_raises_stops_the_split_read(many_members, monkeypatch, whole_scan_memory):
    """A planning error (an unknown runtime) is raised as soon as it happens: the runs not yet
    started are dropped, the workers stopped."""
    from lambda_glibc_gate import parallel
    from lambda_glibc_gate.errors import UsageError

    monkeypatch.setattr(parallel, "SPLIT_FROM", 0)
    started = count_runs(monkeypatch)

    def meanwhile():
        raise UsageError("unknown runtime 'python3.99'")

    with pytest.raises(UsageError, match="python3.99"):
        collect_many([many_members], TASK_ROOT, workers=2, meanwhile=meanwhile)
    assert started  # it was being read in runs when the error came
    assert parallel._inherited is None


@pytest.mark.parametrize("depth", [1, 2])
def test_a_worker_is_given_depth_calls_at_once(depth):
    """depth 2: each worker holds its next call while it runs one, so it never waits for this
    process (busy planning in a thread) to hand it the next."""
    import time

    from lambda_glibc_gate.parallel import Workers, _run

    most = []
    with Workers(2) as workers:
        for executor in workers.executors:
            real_submit = executor.submit
            futures: list = []

            def submit(*args, real_submit=real_submit, futures=futures):
                futures.append(real_submit(*args))
                most.append(sum(not future.done() for future in futures))
                return futures[-1]

            executor.submit = submit
        results = _run([(time.sleep, (0.05,))] * 6, [0] * 6, 2, 2**40, workers=workers, in_order=False, depth=depth)
    assert results == [None] * 6
    assert max(most) == depth


def test_a_refused_fork_reads_the_artifact_here(many_members, monkeypatch, whole_scan_memory):
    """A process limit (EAGAIN from fork) is no error: the artifact is read in this process,
    the planning still runs once, the facts are the same."""
    import errno

    from lambda_glibc_gate import forked, parallel

    if not forked.can_fork():
        pytest.skip("this process cannot fork")
    monkeypatch.setattr(parallel, "SPLIT_FROM", 0)

    def refuse():
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(forked.os, "fork", refuse)
    planned = []
    [got] = collect_many([many_members], TASK_ROOT, workers=2, meanwhile=lambda: planned.append(1))
    assert planned == [1]
    assert facts(got) == facts(collect(many_members, TASK_ROOT))
