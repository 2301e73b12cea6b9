"""Fuzzing through scan(), with a small fixed budget (issue 5, part 5).

The mutations, seeds and the report contract are those of tools/fuzz.py (the long runs), so
what CI checks and what a long run checks cannot drift apart: mutated zips and mutated ELF
files must give a report that keeps the contract (JSON, known rule ids, one-line messages,
every renderer working, no control characters on the terminal, no swallowed exception), and
every input a long run ever saved in tests/fixtures/crashers is replayed.

No example database is written (database=None): nothing lands outside the temporary folder.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import warnings
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_glibc_gate.scan import ScanOptions, scan

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("lgg_fuzz", REPO / "tools" / "fuzz.py")
fuzz = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("lgg_fuzz", fuzz)
_spec.loader.exec_module(fuzz)

MANIFEST = json.loads((fuzz.FIXTURES / "MANIFEST.json").read_text())["fixtures"]
BUDGET = settings(max_examples=80, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SEEDS = {target: [(seed, fuzz.prepare(target, seed)) for seed in fuzz.seeds(target)]
         for target in fuzz.TARGETS}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.parametrize("target", fuzz.TARGETS)
def test_the_seeds_scan_cleanly_and_find_what_they_hold(target, workdir):
    # GIVEN the unmutated seeds; THEN they keep the contract and the scanner reads every ELF
    # file in them (so a mutant that reads nothing is the mutation's doing, not the seed's)
    for seed in fuzz.seeds(target):
        report = fuzz.run_target(target, seed, workdir)
        binaries = {b.member: b.glibc_required for a in report.artifacts for b in a.binaries}
        if target == "zip":
            assert binaries["bootstrap"] == MANIFEST["app_runpath"]["glibc_required"]
            assert binaries["lib/libfoo.so"] == MANIFEST["lib/libfoo.so"]["glibc_required"]
        else:
            assert set(binaries) == {"app", "bootstrap", "lib/libfoo.so"}


@pytest.mark.parametrize("target", fuzz.TARGETS)
@BUDGET
@given(data=st.data())
def test_mutants_keep_the_report_contract(target, data, workdir):
    seed, prepared = data.draw(st.sampled_from(SEEDS[target]))
    mutant = fuzz.mutate_for(target, data.draw, seed, prepared)
    fuzz.run_target(target, mutant, workdir)


# -- zips built from drawn members: names, modes, contents ----------------------------------
SAFE_PART = st.text("abcdefgh_", min_size=1, max_size=6)
HOSTILE_NAMES = st.sampled_from([
    "../x", "/abs", "C:/x", "a\\b", "a/../../x", "./bootstrap", "a//b", "", "\x1b[2Jx",
    "x\ny", "\u202egnp.so", "a/" * 3000, "bootstrap/", ".", "..", "lib/\x00nul",
])
FIXTURE_NAMES = sorted(name for name in MANIFEST if (fuzz.FIXTURES / name).is_file())
REFUSED_NAMES = {"parent-reference", "absolute-path", "drive-letter", "backslash", "name-too-long",
                 "nul-in-name", "empty-name"}
CONTENT = st.one_of(
    st.sampled_from(FIXTURE_NAMES).map(lambda name: ("fixture", name)),
    st.binary(max_size=64).map(lambda raw: ("bytes", raw)),
    st.sampled_from(["libfoo.so", "../../etc", "/lib64/libc.so.6", "a" * 5000]).map(lambda t: ("link", t)),
)


@BUDGET
@given(
    safe=st.lists(st.tuples(st.lists(SAFE_PART, min_size=1, max_size=3).map("/".join), CONTENT),
                  max_size=6, unique_by=lambda item: item[0]),
    hostile=st.lists(st.tuples(HOSTILE_NAMES, CONTENT), max_size=3),
    method=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]),
)
def test_drawn_zips_lose_no_member_and_name_every_hostile_one(safe, hostile, method, workdir):
    # GIVEN a zip of members with plain names (no two alike) and some with hostile names
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # duplicate names are drawn on purpose
        for name, (kind, value) in [*safe, *hostile]:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = (0o120777 if kind == "link" else 0o100755) << 16
            info.compress_type = zipfile.ZIP_STORED if kind == "link" else method
            data = (fuzz.FIXTURES / value).read_bytes() if kind == "fixture" else value
            archive.writestr(info, data.encode() if isinstance(data, str) else data)
    path = workdir / "drawn.zip"
    path.write_bytes(buffer.getvalue())
    # WHEN scanned
    report = scan([str(path)], ScanOptions(runtime=fuzz.RUNTIME))
    fuzz.check_report(report)
    (artifact,) = report.artifacts
    binaries = {b.member: b.glibc_required for b in artifact.binaries}
    hostile_names = {name for name, _ in hostile}
    # THEN every fixture under a plain name is read, with its known glibc need
    for name, (kind, value) in safe:
        shadowed = any(other.startswith(name + "/") or name.startswith(other.rstrip("/") + "/")
                       for other in hostile_names if other)
        if kind == "fixture" and not shadowed and name not in hostile_names:
            assert binaries.get(name, "missing") == MANIFEST[value]["glibc_required"], (name, binaries)
    # AND every name the scanner refused is named in its finding, escaped
    for finding in artifact.findings:
        if finding.details.get("problem") in REFUSED_NAMES:
            assert finding.member is not None and finding.member.isprintable(), finding


# -- crashers a long run saved -----------------------------------------------------------
CRASHERS = sorted(fuzz.CRASHERS.glob("*.bin"))


def test_crashers_are_kept_under_names_the_replay_understands():
    assert CRASHERS, "tests/fixtures/crashers holds the inputs long runs found; none is there"
    for path in CRASHERS:
        assert fuzz.crasher_target(path) in fuzz.TARGETS


@pytest.mark.parametrize("path", CRASHERS, ids=[path.name for path in CRASHERS])
def test_saved_crashers_keep_the_contract(path, workdir):
    fuzz.run_target(fuzz.crasher_target(path), path.read_bytes(), workdir)


def test_the_contract_check_catches_what_it_claims(workdir):
    # GIVEN a report the scanner could produce, then broken the ways the contract forbids
    from lambda_glibc_gate.report import Finding

    report = fuzz.run_target("zip", fuzz.seeds("zip")[0], workdir)
    findings = report.artifacts[0].findings
    for broken in (Finding("no-such-rule", "error", "x"), Finding("malformed-elf", "error", "two\nlines"),
                   Finding("unreadable-archive", "error", "x", details={"problem": "internal-error"})):
        findings.append(broken)
        with pytest.raises(fuzz.ContractViolation):
            fuzz.check_report(report)
        findings.remove(broken)
    fuzz.check_report(report)


@pytest.mark.parametrize("target", fuzz.STRUCTURED)
def test_the_structured_targets_mutate_the_structures_they_name(target):
    # GIVEN the seeds of a structure-aware target: real binaries that have the structure
    assert len(SEEDS[target]) >= 10
    app = (fuzz.FIXTURES / "app_rpath").read_bytes()
    shape = next(shape for seed, shape in SEEDS[target] if seed == app)
    # THEN the fields it mutates lie in that structure (the dynamic array, or the version chains)
    fields = {at for at, _ in shape.fields}
    if target == "dynamic":
        assert set(shape.slots) <= fields and len(shape.slots) >= 20
    else:
        from elftools.elf.elffile import ELFFile

        verneed = ELFFile(io.BytesIO(app)).get_section_by_name(".gnu.version_r")["sh_offset"]
        assert {verneed + 2, verneed + 12, verneed + 16 + 12} <= fields  # vn_cnt, vn_next, vna_next
