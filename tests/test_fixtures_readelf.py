"""Drift test: the committed ELF fixtures still are what MANIFEST.json says they are.

The manifest is written by tools/build_fixtures.py; here GNU readelf (an ELF reader
independent of the scanner's pyelftools one) re-reads every committed file and must agree.
The example packages in examples/ are checked too: their ELF members are fixtures, and
their zip metadata is what Lambda needs (Unix mode bits, reproducible timestamps).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "elf"
MANIFEST: dict[str, Any] = json.loads((FIXTURES / "MANIFEST.json").read_text())
ENTRIES: dict[str, dict[str, Any]] = MANIFEST["fixtures"]


def _load_readelf_facts():
    spec = importlib.util.spec_from_file_location(
        "fixture_readelf_facts", REPO / "tools" / "readelf_facts.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


readelf_facts = _load_readelf_facts()

requires_readelf = pytest.mark.skipif(
    readelf_facts.readelf_path() is None,
    reason="GNU readelf (binutils) is not installed; cannot cross-check the fixtures",
)


def _fixture_files() -> set[str]:
    return {
        path.relative_to(FIXTURES).as_posix()
        for path in FIXTURES.rglob("*")
        if path.is_file() and path.name != "MANIFEST.json"
    }


def test_manifest_lists_exactly_the_committed_fixtures():
    assert set(ENTRIES) == _fixture_files()


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_fixture_bytes_match_manifest(name):
    data = (FIXTURES / name).read_bytes()
    assert data[:4] == b"\x7fELF"
    assert len(data) == ENTRIES[name]["size"]
    assert hashlib.sha256(data).hexdigest() == ENTRIES[name]["sha256"]


@requires_readelf
@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_readelf_agrees_with_manifest(name):
    entry = ENTRIES[name]
    facts = readelf_facts.readelf_facts(FIXTURES / name)

    for key in (
        "machine",
        "class",
        "endian",
        "elf_type",
        "static",
        "interpreter",
        "needed",
        "soname",
        "rpath",
        "runpath",
    ):
        assert facts[key] == entry[key], key
    assert (facts["section_headers"] > 0) == entry["section_headers"]

    assert readelf_facts.os_abi(FIXTURES / name) == entry.get("os_abi", "linux")

    if entry["section_headers"]:
        # Where readelf reads the version needs otherwise than ld.so (it trusts vn_cnt), the
        # manifest keeps readelf's view apart; the loader's view is checked by test_elf_ldso.py.
        seen_by_readelf = {**entry, **(entry.get("readelf_view") or {})}
        needs, weak = facts["version_needs"], facts["weak_version_needs"]
        assert needs == seen_by_readelf["version_needs"]
        assert weak == entry["weak_version_needs"]
        undefined = facts["undefined_versioned_symbols"]
        assert readelf_facts.symbols_at(needs, undefined) == seen_by_readelf["symbols_at"]
        assert readelf_facts.glibc_required(needs, weak) == seen_by_readelf["glibc_required"]
        assert readelf_facts.highest_tag(needs, "GLIBCXX") == entry["glibcxx_required"]
    else:
        # readelf -V needs section headers: it must see nothing here, and the dynamic
        # segment must be that of the fixture whose version needs the manifest copied.
        assert facts["version_needs"] == {}
        source = entry["same_dynamic_as"]
        source_facts = readelf_facts.readelf_facts(FIXTURES / source)
        assert facts["dynamic_entries"] == source_facts["dynamic_entries"]
        for key in ("version_needs", "weak_version_needs", "symbols_at", "glibc_required"):
            assert entry[key] == ENTRIES[source][key], key


def test_manifest_glibc_required_follows_its_rule():
    """Independent of readelf: the stated rule holds for the recorded version needs."""
    for name, entry in ENTRIES.items():
        expected = readelf_facts.glibc_required(entry["version_needs"], entry["weak_version_needs"])
        assert entry["glibc_required"] == expected, name
        for soname, tags in entry["weak_version_needs"].items():
            assert set(tags) <= set(entry["version_needs"][soname]), name


@pytest.mark.parametrize("zip_name", sorted(MANIFEST["examples"]))
def test_example_package_is_a_proper_lambda_zip(zip_name):
    path = REPO / zip_name
    elf_members = MANIFEST["examples"][zip_name]["elf_members"]
    with zipfile.ZipFile(path) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        assert set(elf_members) <= set(infos)
        for info in infos.values():
            mode = info.external_attr >> 16
            assert info.create_system == 3, info.filename
            assert stat.S_ISREG(mode), info.filename
            assert info.date_time == (1980, 1, 1, 0, 0, 0), info.filename
        for member, fixture in elf_members.items():
            assert archive.read(member) == (FIXTURES / fixture).read_bytes(), member
            assert infos[member].external_attr >> 16 == 0o100755, member
