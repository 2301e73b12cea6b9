"""Only what the function's own loaders would load is judged: node-gyp-build's prebuilds
selection, node-pre-gyp's module_path, npm platform packages (os / cpu / libc) and CPython's
import suffixes. Real addons built by zig for each platform, in the folder shapes npm
packages ship (bcrypt 6, argon2, sharp, rollup)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from helpers import elf_fixture

from lambda_glibc_gate.scan import ScanOptions, scan

TODAY = date(2026, 11, 27)
GLIBC_X64 = elf_fixture("napi_addon-linux-x64-glibc.node")
MUSL_X64 = elf_fixture("napi_addon-linux-x64-musl.node")
GLIBC_ARM64 = elf_fixture("napi_addon-linux-arm64-glibc.node")
NEEDS_238 = elf_fixture("strlcpy_strtol-glibc2.38-x86_64")  # stands in for a prebuilt from ubuntu-latest


def run(path, runtime="nodejs22.x", architecture="x86_64"):
    return scan([path], ScanOptions(runtime=runtime, architecture=architecture, today=TODAY))


def problems(report):
    return sorted(
        (f.rule, f.member)
        for f in report.all_findings()
        if f.severity in ("error", "warning") and f.rule != "deprecated-runtime"
    )


def package_json(**fields) -> bytes:
    return json.dumps(fields).encode()


def bcrypt_layout(linux_x64_glibc: bytes | None = GLIBC_X64) -> dict:
    """bcrypt 6 as `npm install bcrypt` leaves it: a prebuilt for every platform (prebuildify)."""
    members = {
        "node_modules/bcrypt/package.json": package_json(name="bcrypt", version="6.0.0"),
        "node_modules/bcrypt/prebuilds/linux-x64/bcrypt.musl.node": MUSL_X64,
        "node_modules/bcrypt/prebuilds/linux-arm64/bcrypt.glibc.node": GLIBC_ARM64,
        "node_modules/bcrypt/prebuilds/linux-arm64/bcrypt.musl.node": MUSL_X64,
        "node_modules/bcrypt/prebuilds/darwin-arm64/bcrypt.node": b"\xcf\xfa\xed\xfe" + b"\0" * 60,
    }
    if linux_x64_glibc is not None:
        members["node_modules/bcrypt/prebuilds/linux-x64/bcrypt.glibc.node"] = linux_x64_glibc
    return members


@pytest.mark.parametrize("runtime", ["nodejs20.x", "nodejs22.x", "nodejs24.x"])
def test_only_the_prebuild_node_gyp_build_picks_is_judged(make_zip, runtime):
    # GIVEN bcrypt with prebuilds for musl, arm64 and darwin beside the linux-x64 glibc one
    report = run(make_zip(bcrypt_layout()), runtime=runtime)
    # THEN it passes: the others are never loaded on Lambda x86_64 ...
    assert problems(report) == []
    # ... and are named as dead weight, with their size
    (note,) = [f for f in report.all_findings() if f.rule == "not-loaded"]
    assert note.severity == "note" and note.details["count"] == 3
    assert "node_modules/bcrypt/prebuilds/linux-x64/bcrypt.musl.node" in note.details["members"]
    results = {b.member: b.result for b in report.artifacts[0].binaries}
    assert results["node_modules/bcrypt/prebuilds/linux-x64/bcrypt.glibc.node"] == "pass"
    assert results["node_modules/bcrypt/prebuilds/linux-x64/bcrypt.musl.node"] == "not-loaded"


def test_on_arm64_the_arm64_prebuild_is_the_one_judged(make_zip):
    report = run(make_zip(bcrypt_layout()), architecture="arm64")
    assert problems(report) == []
    results = {b.member: b.result for b in report.artifacts[0].binaries}
    assert results["node_modules/bcrypt/prebuilds/linux-arm64/bcrypt.glibc.node"] == "pass"
    assert results["node_modules/bcrypt/prebuilds/linux-x64/bcrypt.glibc.node"] == "not-loaded"


def test_the_chosen_prebuild_is_still_judged_in_full(make_zip):
    # GIVEN the linux-x64 glibc prebuild needs glibc 2.38 (built on ubuntu-latest)
    report = run(make_zip(bcrypt_layout(linux_x64_glibc=NEEDS_238)))
    # THEN exactly that file fails
    assert problems(report) == [("glibc-too-new", "node_modules/bcrypt/prebuilds/linux-x64/bcrypt.glibc.node")]


def test_no_prebuild_for_the_function_is_one_precise_error(make_zip):
    # GIVEN only musl and arm64 builds for linux-x64 / glibc functions
    report = run(make_zip(bcrypt_layout(linux_x64_glibc=None)))
    (finding,) = [f for f in report.all_findings() if f.severity == "error"]
    assert finding.rule == "no-loadable-build" and finding.member == "node_modules/bcrypt"
    assert "linux-x64 musl" in finding.message and "darwin-arm64" in finding.message
    assert "npm install --os=linux --cpu=x64 --libc=glibc bcrypt" in finding.fixes[0].code


def test_napi_and_abi_tags_follow_node_gyp_build(make_zip):
    # GIVEN an ABI-specific build for Node 20 (abi115) and a N-API one
    members = {
        "node_modules/x/prebuilds/linux-x64/node.abi115.node": NEEDS_238,
        "node_modules/x/prebuilds/linux-x64/node.napi.node": GLIBC_X64,
    }
    # THEN Node 20 loads the abi115 file (abi beats napi), Node 22 the napi one
    assert problems(run(make_zip(members), runtime="nodejs20.x")) == [
        ("glibc-too-new", "node_modules/x/prebuilds/linux-x64/node.abi115.node")
    ]
    assert problems(run(make_zip(members), runtime="nodejs22.x")) == []


def test_build_release_wins_over_prebuilds(make_zip):
    members = {
        **bcrypt_layout(linux_x64_glibc=NEEDS_238),
        "node_modules/bcrypt/build/Release/bcrypt_lib.node": GLIBC_X64,
    }
    assert problems(run(make_zip(members))) == []


def test_platform_packages_for_other_platforms_are_never_loaded(make_zip):
    # GIVEN rollup with its gnu and musl platform packages (npm installs both with --force / old lockfiles)
    members = {
        "node_modules/rollup/package.json": package_json(
            name="rollup",
            optionalDependencies={"@rollup/rollup-linux-x64-gnu": "4", "@rollup/rollup-linux-x64-musl": "4"},
        ),
        "node_modules/@rollup/rollup-linux-x64-gnu/package.json": package_json(
            name="@rollup/rollup-linux-x64-gnu", os=["linux"], cpu=["x64"], libc=["glibc"]
        ),
        "node_modules/@rollup/rollup-linux-x64-gnu/rollup.linux-x64-gnu.node": GLIBC_X64,
        "node_modules/@rollup/rollup-linux-x64-musl/package.json": package_json(
            name="@rollup/rollup-linux-x64-musl", os=["linux"], cpu=["x64"], libc=["musl"]
        ),
        "node_modules/@rollup/rollup-linux-x64-musl/rollup.linux-x64-musl.node": MUSL_X64,
    }
    report = run(make_zip(members))
    assert problems(report) == []
    (note,) = [f for f in report.all_findings() if f.rule == "not-loaded"]
    assert "musl" in note.message


def test_a_musl_only_platform_package_is_an_error_naming_the_glibc_install(make_zip):
    members = {
        "node_modules/rollup/package.json": package_json(
            name="rollup", optionalDependencies={"@rollup/rollup-linux-x64-musl": "4"}
        ),
        "node_modules/@rollup/rollup-linux-x64-musl/package.json": package_json(
            name="@rollup/rollup-linux-x64-musl", os=["linux"], cpu=["x64"], libc=["musl"]
        ),
        "node_modules/@rollup/rollup-linux-x64-musl/rollup.linux-x64-musl.node": MUSL_X64,
    }
    (finding,) = [f for f in run(make_zip(members)).all_findings() if f.severity == "error"]
    assert finding.rule == "no-loadable-build" and finding.details["package"] == "rollup"
    assert finding.fixes[0].code == "npm install --os=linux --cpu=x64 --libc=glibc rollup"


@pytest.mark.parametrize("runtime", ["provided.al2023", "provided.al2", "nodejs22.x"])
def test_a_musl_addon_outside_any_layout_is_a_musl_error_never_bundle_libc(make_zip, runtime):
    # GIVEN a musl addon (needs musl's soname libc.so) that a loader does load
    members = {"bootstrap": elf_fixture("hello-glibc2.17-x86_64"), "addon.node": MUSL_X64}
    report = run(make_zip(members), runtime=runtime)
    (finding,) = [f for f in report.all_findings() if f.member == "addon.node" and f.severity == "error"]
    assert finding.rule == "missing-library" and finding.details["libc"] == "musl"
    assert "musl" in finding.message
    assert not any("lib/" in fix.code and "libc.so" in fix.code for fix in finding.fixes)


def test_node_pre_gyp_module_path_selects_the_binding(make_zip):
    binary = {
        "module_name": "node_sqlite3",
        "module_path": "./lib/binding/napi-v{napi_build_version}-{platform}-{libc}-{arch}",
        "napi_versions": [6],
    }
    members = {
        "node_modules/sqlite3/package.json": package_json(name="sqlite3", version="5.1.7", binary=binary),
        "node_modules/sqlite3/lib/binding/napi-v6-linux-glibc-x64/node_sqlite3.node": GLIBC_X64,
        "node_modules/sqlite3/lib/binding/napi-v6-linux-musl-x64/node_sqlite3.node": MUSL_X64,
        "node_modules/sqlite3/lib/binding/napi-v6-linux-glibc-arm64/node_sqlite3.node": GLIBC_ARM64,
    }
    report = run(make_zip(members))
    assert problems(report) == []
    assert problems(run(make_zip(members), architecture="arm64")) == []


@pytest.mark.parametrize(
    ("siblings", "runtime", "expected"),
    [
        # the runtime's own tag beside another Python's: the other is never imported
        (["_x.cpython-311-x86_64-linux-gnu.so", "_x.cpython-312-x86_64-linux-gnu.so"], "python3.12", []),
        # abi3 beside a tag for another Python: abi3 is imported
        (["_x.cpython-313-x86_64-linux-gnu.so", "_x.abi3.so"], "python3.12", []),
        # nothing for this Python: the mismatch stays an error
        (
            ["_x.cpython-311-x86_64-linux-gnu.so"],
            "python3.12",
            [("python-abi-mismatch", "pkg/_x.cpython-311-x86_64-linux-gnu.so")],
        ),
    ],
)
def test_python_imports_the_first_matching_suffix_only(make_zip, siblings, runtime, expected):
    speedups = elf_fixture("_speedups.cpython-312-x86_64-linux-gnu.so")
    report = run(make_zip({f"pkg/{name}": speedups for name in siblings}), runtime=runtime)
    assert problems(report) == expected


def test_a_freebsd_addon_in_no_known_layout_is_not_judged_as_linux(make_zip):
    # GIVEN a FreeBSD addon (argon2 ships prebuilds/freebsd-x64) outside a prebuilds/ folder
    report = run(make_zip({"addon.node": elf_fixture("freebsd/addon.node")}))
    (finding,) = [f for f in report.all_findings() if f.severity == "error"]
    assert finding.rule == "arch-mismatch" and "FreeBSD" in finding.message
    assert not any(f.rule == "missing-library" for f in report.all_findings())


def test_a_library_beside_the_chosen_prebuild_is_not_called_never_loaded(make_zip):
    # GIVEN a prebuild that ships its library beside the addon (the addon loads it through $ORIGIN)
    members = {**bcrypt_layout(), "node_modules/bcrypt/prebuilds/linux-x64/libhelper.so.1": GLIBC_X64}
    report = run(make_zip(members))
    # THEN only the other platforms' files are dead weight; the library is judged as ld.so finds it
    (note,) = [f for f in report.all_findings() if f.rule == "not-loaded"]
    assert "node_modules/bcrypt/prebuilds/linux-x64/libhelper.so.1" not in note.details["members"]
    results = {b.member: b.result for b in report.artifacts[0].binaries}
    assert results["node_modules/bcrypt/prebuilds/linux-x64/libhelper.so.1"] == "pass"
