#!/usr/bin/env python3
"""Rebuild the ELF test fixtures, their MANIFEST.json, and the example Lambda packages.

    python tools/build_fixtures.py            # fixtures + examples
    python tools/build_fixtures.py --no-examples

Needs: `pip install ziglang` (0.17), the system g++ (Debian 12: GCC 12, glibc 2.36) for the
C++ fixtures, cargo for the Rust one, and binutils readelf to verify.
Every fixture states what it is for; after building, readelf must confirm it (machine,
interpreter, needed libraries, version needs, symbols) or the script stops with an error.
The outputs are committed, so the test suite needs none of these tools.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))

import elf_edits  # noqa: E402
import example_packages  # noqa: E402
import readelf_facts  # noqa: E402

REPO = TOOLS.parent
SOURCES = TOOLS / "fixture_src"
FIXTURES_DIR = REPO / "tests" / "fixtures" / "elf"
EXAMPLES_DIR = REPO / "examples"
ZIG = [sys.executable, "-m", "ziglang"]
SMALL = ["-Os", "-s"]  # size-optimised and stripped: nothing a fixture is about lives in .symtab
# zig 0.17's glibc features.h tests __GLIBC__ before defining it, so the C23 strtol redirect
# (strtol -> __isoc23_strtol, glibc >= 2.38 with _GNU_SOURCE) stays off unless predefined.
ZIG_GLIBC_MACRO_FIX = ["-D__GLIBC__=2"]


class FixtureError(RuntimeError):
    """A build step failed or a fixture lacks the property it exists for."""


@dataclass
class Workspace:
    """Where intermediate files go, and the built fixtures other builds link against."""

    scratch: Path
    out_dir: Path

    def out(self, name: str) -> Path:
        path = self.out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


@dataclass
class Fixture:
    name: str  # path under tests/fixtures/elf
    purpose: str
    toolchain: str  # the BinaryReport vocabulary: c | c++ | rust | python-extension | node-addon
    built_with: str  # short human description of the toolchain and target
    build: Callable[[Path, Workspace], None]
    expect: dict[str, Any]  # checked against readelf; see verify()
    same_dynamic_as: str | None = None  # for the section-header-less copy
    # Version needs as glibc's ld.so sees them, where readelf -V reads the file differently
    # (it trusts vn_cnt): {soname: [tags]} and {tag: [symbols]}. readelf's view is kept too.
    loader_view: dict[str, Any] | None = None
    os_abi: str = "linux"  # what the file says it is for (EI_OSABI, PT_NOTE), checked by readelf


def run(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise FixtureError(f"command failed: {shlex.join(command)}\n{result.stderr.strip()}")
    return result.stderr


def _zig_cc_command(target: str, sources: list[str], out: Path, flags: list[str]) -> list[str]:
    return [
        *ZIG,
        "cc",
        "-target",
        target,
        *flags,
        *(str(SOURCES / s) for s in sources),
        "-o",
        str(out),
    ]


def zig_cc(target: str, sources: list[str], out: Path, *flags: str) -> None:
    run(_zig_cc_command(target, sources, out, list(flags)))


def zig_cc_with_linker_flags(
    target: str, sources: list[str], out: Path, flags: list[str], linker_flags: list[str]
) -> None:
    """zig cc drops some linker flags (--disable-new-dtags, -z pack-relative-relocs), so take
    the ld.lld command zig runs (-v) and run it again through `zig ld.lld` with them added."""
    log = run(_zig_cc_command(target, sources, out, ["-v", *flags]))
    link_lines = [line for line in log.splitlines() if line.startswith("ld.lld ")]
    if not link_lines:
        raise FixtureError(f"zig cc -v printed no ld.lld command for {out.name}")
    run([*ZIG, *shlex.split(link_lines[-1]), *linker_flags])


def cpp(sources: list[str], out: Path, *flags: str) -> None:
    """The system g++ (GCC 12): links the system libstdc++, unlike zig's static libc++."""
    run(["g++", "-std=c++17", *SMALL, *flags, *(str(SOURCES / s) for s in sources), "-o", str(out)])


def cargo_release(crate: str, out: Path, workspace: Workspace) -> None:
    target_dir = workspace.scratch / "cargo-target"
    env = {**os.environ, "CARGO_TARGET_DIR": str(target_dir)}
    run(["cargo", "build", "--release", "--offline", "--quiet"], cwd=SOURCES / crate, env=env)
    shutil.copyfile(target_dir / "release" / crate, out)


def ssl_stub(workspace: Workspace, soname: str, version_script: str) -> Path:
    """A libssl stand-in to link against; never shipped, only its soname/version matter."""
    stub = workspace.scratch / soname
    zig_cc(
        "x86_64-linux-gnu.2.17",
        ["ssl_stub.c"],
        stub,
        "-shared",
        "-fPIC",
        f"-Wl,-soname,{soname}",
        f"-Wl,--version-script,{SOURCES / version_script}",
    )
    return stub


# ---------------------------------------------------------------------------------------------
# The fixtures. `expect` keys: machine, class, endian, static, interpreter, needed (exact),
# glibc_required (exact), versions {soname: [tags that must be needed]}, symbols {tag: [names
# that must be bound to it]}, weak {soname: [tags]} (exact, default none), soname/rpath/runpath
# (exact, default None), glibcxx_required, section_headers (default True), rust_marker.
# ---------------------------------------------------------------------------------------------

X86_64_INTERP = "/lib64/ld-linux-x86-64.so.2"
AARCH64_INTERP = "/lib/ld-linux-aarch64.so.1"
INTERP = {"x86_64": X86_64_INTERP, "aarch64": AARCH64_INTERP}
GLIBC_BASE = {"x86_64": "GLIBC_2.2.5", "aarch64": "GLIBC_2.17"}


def glibc_c_fixture(
    stem: str,
    source: str,
    glibc: str,
    arch: str,
    purpose: str,
    required: str,
    symbols: dict[str, list[str]],
    extra_flags: tuple[str, ...] = (),
) -> Fixture:
    target = f"{arch}-linux-gnu.{glibc}"
    flags = [*SMALL, *ZIG_GLIBC_MACRO_FIX, *extra_flags]
    return Fixture(
        name=f"{stem}-glibc{glibc}-{arch}",
        purpose=purpose,
        toolchain="c",
        built_with=f"zig cc -target {target} {' '.join(flags)}",
        build=lambda out, ws: zig_cc(target, [source], out, *flags),
        expect={
            "machine": arch,
            "class": 64,
            "endian": "little",
            "static": False,
            "interpreter": INTERP[arch],
            "needed": ["libc.so.6"],
            "glibc_required": required,
            "versions": {"libc.so.6": [f"GLIBC_{required}"]},
            "symbols": symbols,
        },
    )


def core_fixtures() -> list[Fixture]:
    """The glibc-version ladder, for x86_64 and aarch64."""
    fixtures = []
    for arch in ("x86_64", "aarch64"):
        base = GLIBC_BASE[arch].removeprefix("GLIBC_")
        fixtures += [
            glibc_c_fixture(
                "hello",
                "hello.c",
                "2.17",
                arch,
                "Plain C hello linked against glibc 2.17: only the oldest symbol versions; "
                "loads on every Lambda runtime of its architecture.",
                base,
                {},
            ),
            glibc_c_fixture(
                "hello",
                "hello.c",
                "2.34",
                arch,
                "Plain C hello linked against glibc 2.34: __libc_start_main@GLIBC_2.34, like "
                "any executable built on glibc >= 2.34; fine on AL2023, fails on AL2.",
                "2.34",
                {"GLIBC_2.34": ["__libc_start_main"]},
            ),
            glibc_c_fixture(
                "reallocarray",
                "reallocarray.c",
                "2.26",
                arch,
                "Calls reallocarray(): needs GLIBC_2.26, exactly the provided.al2 maximum; "
                "fails only on glibc 2.17 (Amazon Linux 1).",
                "2.26",
                {"GLIBC_2.26": ["reallocarray"]},
            ),
            glibc_c_fixture(
                "close_range",
                "close_range.c",
                "2.34",
                arch,
                "Calls close_range(): needs GLIBC_2.34 (the provided.al2023 maximum).",
                "2.34",
                {"GLIBC_2.34": ["close_range", "__libc_start_main"]},
            ),
            glibc_c_fixture(
                "dl_find_object",
                "dl_find_object.c",
                "2.35",
                arch,
                "Calls _dl_find_object(): needs GLIBC_2.35, one above AL2023 (like builds on "
                "ubuntu-22.04).",
                "2.35",
                {"GLIBC_2.35": ["_dl_find_object"]},
            ),
            glibc_c_fixture(
                "arc4random",
                "arc4random.c",
                "2.36",
                arch,
                "Calls arc4random(): needs GLIBC_2.36.",
                "2.36",
                {"GLIBC_2.36": ["arc4random"]},
            ),
            glibc_c_fixture(
                "strlcpy_strtol",
                "strlcpy_strtol.c",
                "2.38",
                arch,
                "The classic ubuntu-latest failure: strlcpy and strtol (redirected to "
                "__isoc23_strtol by _GNU_SOURCE) need GLIBC_2.38.",
                "2.38",
                {"GLIBC_2.38": ["strlcpy", "__isoc23_strtol"]},
            ),
        ]
    fixtures.append(
        glibc_c_fixture(
            "hello",
            "hello.c",
            "2.26",
            "x86_64",
            "Plain C hello linked against glibc 2.26 (the provided.al2 glibc): old versions "
            "only; byte-identical to hello-glibc2.17-x86_64, the target alone adds nothing.",
            "2.2.5",
            {},
        )
    )
    return fixtures


def build_relr(out: Path, workspace: Workspace) -> None:
    zig_cc_with_linker_flags(
        "x86_64-linux-gnu.2.38",
        ["relr_table.c"],
        out,
        [*SMALL, "-fPIE", "-pie"],
        ["-z", "pack-relative-relocs"],
    )


def build_weak_symbol(out: Path, workspace: Workspace) -> None:
    zig_cc("x86_64-linux-gnu.2.38", ["weak_strlcpy.c"], out, *SMALL)


def build_weak_need(out: Path, workspace: Workspace) -> None:
    build_weak_symbol(out, workspace)
    elf_edits.mark_version_need_weak(out, "GLIBC_2.38")


def build_no_section_headers(out: Path, workspace: Workspace) -> None:
    shutil.copyfile(workspace.out("close_range-glibc2.34-x86_64"), out)
    elf_edits.drop_section_headers(out)


def build_libfoo(out: Path, workspace: Workspace) -> None:
    zig_cc(
        "x86_64-linux-gnu.2.38",
        ["foo.c"],
        out,
        *SMALL,
        *ZIG_GLIBC_MACRO_FIX,
        "-shared",
        "-fPIC",
        "-Wl,-soname,libfoo.so",
    )


def build_app(out: Path, workspace: Workspace, new_dtags: bool) -> None:
    libfoo = workspace.out("lib/libfoo.so")
    # libfoo's own GLIBC_2.38 needs are not this executable's business at link time.
    flags = [*SMALL, str(libfoo), "-Wl,--allow-shlib-undefined", "-Wl,-rpath,$ORIGIN/lib"]
    linker_flags = [] if new_dtags else ["--disable-new-dtags"]
    zig_cc_with_linker_flags("x86_64-linux-gnu.2.17", ["app.c"], out, flags, linker_flags)


def build_uses_ssl(out: Path, workspace: Workspace, soname: str, version_script: str) -> None:
    stub = ssl_stub(workspace, soname, version_script)
    zig_cc("x86_64-linux-gnu.2.17", ["uses_ssl.c"], out, *SMALL, str(stub))


def build_speedups(out: Path, workspace: Workspace) -> None:
    zig_cc("x86_64-linux-gnu.2.28", ["speedups.c"], out, *SMALL, "-shared", "-fPIC")


def other_fixtures() -> list[Fixture]:
    x86 = {"machine": "x86_64", "class": 64, "endian": "little"}
    return [
        Fixture(
            name="relr-glibc2.38-x86_64",
            purpose="PIE linked with -z pack-relative-relocs: DT_RELR plus the "
            "GLIBC_ABI_DT_RELR version need (counts as glibc 2.36); otherwise only 2.34.",
            toolchain="c",
            built_with="zig cc -target x86_64-linux-gnu.2.38 -fPIE -pie; zig ld.lld "
            "-z pack-relative-relocs",
            build=build_relr,
            expect={
                **x86,
                "static": False,
                "interpreter": X86_64_INTERP,
                "needed": ["libc.so.6"],
                "glibc_required": "2.36",
                "dynamic_tags": ["RELR"],
                "versions": {"libc.so.6": ["GLIBC_ABI_DT_RELR", "GLIBC_2.34"]},
                "symbols": {"GLIBC_ABI_DT_RELR": []},
            },
        ),
        Fixture(
            name="weak_symbol_strlcpy-glibc2.38-x86_64",
            purpose="strlcpy declared __attribute__((weak)): the symbol is weak but its "
            "GLIBC_2.38 version need is not, so ld.so still fails on glibc < 2.38.",
            toolchain="c",
            built_with="zig cc -target x86_64-linux-gnu.2.38 -Os -s",
            build=build_weak_symbol,
            expect={
                **x86,
                "static": False,
                "interpreter": X86_64_INTERP,
                "needed": ["libc.so.6"],
                "glibc_required": "2.38",
                "symbols": {"GLIBC_2.38": ["strlcpy"]},
            },
        ),
        Fixture(
            name="weak_version_need-glibc2.38-x86_64",
            purpose="The weak_symbol_strlcpy binary with VER_FLG_WEAK set on its GLIBC_2.38 "
            "need (readelf: Flags: WEAK); ld.so only warns, so it needs glibc 2.34.",
            toolchain="c",
            built_with="zig cc -target x86_64-linux-gnu.2.38 -Os -s, then vna_flags |= "
            "VER_FLG_WEAK (no linker at hand writes weak version needs)",
            build=build_weak_need,
            expect={
                **x86,
                "static": False,
                "interpreter": X86_64_INTERP,
                "needed": ["libc.so.6"],
                "glibc_required": "2.34",
                "weak": {"libc.so.6": ["GLIBC_2.38"]},
                "symbols": {"GLIBC_2.38": ["strlcpy"]},
            },
        ),
        Fixture(
            name="musl_static-x86_64",
            purpose="Statically linked musl executable: no interpreter, no needed libraries, "
            "no glibc requirement; runs on any x86_64 Lambda runtime.",
            toolchain="c",
            built_with="zig cc -target x86_64-linux-musl -static -Os -s",
            build=lambda out, ws: zig_cc("x86_64-linux-musl", ["hello.c"], out, *SMALL, "-static"),
            expect={
                **x86,
                "static": True,
                "interpreter": None,
                "needed": [],
                "glibc_required": None,
            },
        ),
        Fixture(
            name="musl_dynamic-x86_64",
            purpose="Dynamically linked musl executable: interpreter /lib/ld-musl-x86_64.so.1, "
            "which no Lambda runtime has.",
            toolchain="c",
            built_with="zig cc -target x86_64-linux-musl -dynamic -Os -s",
            build=lambda out, ws: zig_cc("x86_64-linux-musl", ["hello.c"], out, *SMALL, "-dynamic"),
            expect={
                **x86,
                "static": False,
                "interpreter": "/lib/ld-musl-x86_64.so.1",
                "needed": ["libc.so"],
                "glibc_required": None,
            },
        ),
        Fixture(
            name="cxx_condvar-glibcxx3.4.30-x86_64",
            purpose="C++ built with the system g++ 12 against its libstdc++: "
            "std::condition_variable::wait needs GLIBCXX_3.4.30 (above AL2023's GCC-11 "
            "3.4.29); glibc 2.34.",
            toolchain="c++",
            built_with="g++ 12 (Debian 12, glibc 2.36) -std=c++17 -Os -s",
            build=lambda out, ws: cpp(["condvar.cpp"], out, "-pthread"),
            expect={
                **x86,
                "static": False,
                "interpreter": X86_64_INTERP,
                "needed": ["libstdc++.so.6", "libgcc_s.so.1", "libc.so.6"],
                "glibc_required": "2.34",
                "glibcxx_required": "GLIBCXX_3.4.30",
                "symbols": {
                    "GLIBCXX_3.4.30": ["_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE"]
                },
            },
        ),
        Fixture(
            name="no_section_headers-glibc2.34-x86_64",
            purpose="close_range-glibc2.34-x86_64 with its section headers removed "
            "(e_shoff = e_shnum = e_shstrndx = 0): version needs are only reachable through "
            "the dynamic segment (DT_VERNEED).",
            toolchain="c",
            built_with="copy of close_range-glibc2.34-x86_64, ELF header edited",
            build=build_no_section_headers,
            same_dynamic_as="close_range-glibc2.34-x86_64",
            expect={
                **x86,
                "static": False,
                "interpreter": X86_64_INTERP,
                "needed": ["libc.so.6"],
                "section_headers": False,
            },
        ),
        Fixture(
            name="hello-glibc2.17-i386",
            purpose="32-bit x86 executable (no Lambda runtime is i386): arch mismatch.",
            toolchain="c",
            built_with="zig cc -target x86-linux-gnu.2.17 -Os -s",
            build=lambda out, ws: zig_cc("x86-linux-gnu.2.17", ["hello.c"], out, *SMALL),
            expect={
                "machine": "i386",
                "class": 32,
                "endian": "little",
                "static": False,
                "interpreter": "/lib/ld-linux.so.2",
                "needed": ["libc.so.6"],
                "glibc_required": "2.0",
            },
        ),
        Fixture(
            name="hello-glibc2.17-s390x",
            purpose="Big-endian 64-bit IBM Z executable: arch mismatch and a big-endian "
            "reader path.",
            toolchain="c",
            built_with="zig cc -target s390x-linux-gnu.2.17 -Os -s",
            build=lambda out, ws: zig_cc("s390x-linux-gnu.2.17", ["hello.c"], out, *SMALL),
            expect={
                "machine": "s390x",
                "class": 64,
                "endian": "big",
                "static": False,
                "interpreter": "/lib/ld64.so.1",
                "needed": ["libc.so.6"],
                "glibc_required": "2.2",
            },
        ),
        Fixture(
            name="lib/libfoo.so",
            purpose="Bundled shared library (soname libfoo.so) whose own code needs "
            "GLIBC_2.38 (strlcpy, __isoc23_strtol); loaded by app_runpath / app_rpath.",
            toolchain="c",
            built_with="zig cc -target x86_64-linux-gnu.2.38 -shared -fPIC -Os -s",
            build=build_libfoo,
            expect={
                **x86,
                "static": False,
                "interpreter": None,
                "needed": ["libc.so.6"],
                "soname": "libfoo.so",
                "glibc_required": "2.38",
                "symbols": {"GLIBC_2.38": ["strlcpy", "__isoc23_strtol"]},
            },
        ),
        Fixture(
            name="app_runpath",
            purpose="Executable built for glibc 2.17 with DT_RUNPATH $ORIGIN/lib, needing "
            "libfoo.so: fine itself, fails through lib/libfoo.so (GLIBC_2.38).",
            toolchain="c",
            built_with="zig cc -target x86_64-linux-gnu.2.17 -Wl,-rpath,$ORIGIN/lib",
            build=lambda out, ws: build_app(out, ws, new_dtags=True),
            expect={
                **x86,
                "static": False,
                "interpreter": X86_64_INTERP,
                "needed": ["libfoo.so", "libc.so.6"],
                "runpath": "$ORIGIN/lib",
                "glibc_required": "2.2.5",
            },
        ),
        Fixture(
            name="app_rpath",
            purpose="app_runpath linked with --disable-new-dtags: the same search path as "
            "DT_RPATH instead of DT_RUNPATH.",
            toolchain="c",
            built_with="zig cc -target x86_64-linux-gnu.2.17; zig ld.lld --disable-new-dtags",
            build=lambda out, ws: build_app(out, ws, new_dtags=False),
            expect={
                **x86,
                "static": False,
                "interpreter": X86_64_INTERP,
                "needed": ["libfoo.so", "libc.so.6"],
                "rpath": "$ORIGIN/lib",
                "glibc_required": "2.2.5",
            },
        ),
        Fixture(
            name="needs_libssl1.1-x86_64",
            purpose="Needs libssl.so.1.1 (OPENSSL_1_1_0), which neither provided.al2 (1.0.2, "
            "libssl.so.10) nor provided.al2023 (libssl.so.3) has; glibc 2.17 itself.",
            toolchain="c",
            built_with="zig cc -target x86_64-linux-gnu.2.17, linked to a stub "
            "-Wl,-soname,libssl.so.1.1",
            build=lambda out, ws: build_uses_ssl(out, ws, "libssl.so.1.1", "ssl_stub_1_1.map"),
            expect={
                **x86,
                "static": False,
                "interpreter": X86_64_INTERP,
                "needed": ["libssl.so.1.1", "libc.so.6"],
                "glibc_required": "2.2.5",
                "versions": {"libssl.so.1.1": ["OPENSSL_1_1_0"]},
            },
        ),
        Fixture(
            name="needs_libssl3-x86_64",
            purpose="Needs libssl.so.3 (OPENSSL_3.0.0): present on provided.al2023, missing "
            "on provided.al2; glibc 2.17 itself.",
            toolchain="c",
            built_with="zig cc -target x86_64-linux-gnu.2.17, linked to a stub "
            "-Wl,-soname,libssl.so.3",
            build=lambda out, ws: build_uses_ssl(out, ws, "libssl.so.3", "ssl_stub_3.map"),
            expect={
                **x86,
                "static": False,
                "interpreter": X86_64_INTERP,
                "needed": ["libssl.so.3", "libc.so.6"],
                "glibc_required": "2.2.5",
                "versions": {"libssl.so.3": ["OPENSSL_3.0.0"]},
            },
        ),
        Fixture(
            name="_speedups.cpython-312-x86_64-linux-gnu.so",
            purpose="CPython extension module (exports PyInit__speedups) calling fcntl64: "
            "needs GLIBC_2.28 (manylinux_2_28), above provided.al2 / python3.11's 2.26.",
            toolchain="python-extension",
            built_with="zig cc -target x86_64-linux-gnu.2.28 -shared -fPIC -Os -s",
            build=build_speedups,
            expect={
                **x86,
                "static": False,
                "interpreter": None,
                "needed": ["libc.so.6"],
                "glibc_required": "2.28",
                "exports": ["PyInit__speedups"],
                "symbols": {"GLIBC_2.28": ["fcntl64"]},
            },
        ),
        Fixture(
            name="addon.node",
            purpose="Node-API addon (exports napi_register_module_v1) built with g++ 12: "
            "needs GLIBCXX_3.4.30 through std::condition_variable::wait.",
            toolchain="node-addon",
            built_with="g++ 12 (Debian 12, glibc 2.36) -shared -fPIC -Os -s",
            build=lambda out, ws: cpp(["addon.cpp"], out, "-shared", "-fPIC"),
            expect={
                **x86,
                "static": False,
                "interpreter": None,
                "needed": ["libstdc++.so.6", "libgcc_s.so.1", "libc.so.6"],
                "glibcxx_required": "GLIBCXX_3.4.30",
                "exports": ["napi_register_module_v1"],
                "symbols": {
                    "GLIBCXX_3.4.30": ["_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE"]
                },
            },
        ),
        Fixture(
            name="rust_hello-x86_64",
            purpose="std-only Rust binary from cargo build --release on this Debian 12 host "
            "(glibc 2.36): needs what the host's std needs (GLIBC_2.34 here); keeps the "
            "/rustc/<hash>/ paths and a .comment 'rustc version' that mark it as Rust.",
            toolchain="rust",
            built_with="cargo build --release (x86_64-unknown-linux-gnu, host glibc 2.36), "
            "opt-level=z, strip, panic=abort, lto",
            build=lambda out, ws: cargo_release("rust_hello", out, ws),
            expect={
                **x86,
                "static": False,
                "interpreter": X86_64_INTERP,
                "glibc_required": "2.34",
                "rust_marker": True,
                "versions": {"libc.so.6": ["GLIBC_2.34"]},
            },
        ),
    ]


def runner_fixtures() -> list[Fixture]:
    """One source built against glibc 2.39 (ubuntu-latest) and 2.35 (ubuntu-22.04): whether the
    older runner fixes a binary for provided.al2023 depends on what a 2.35 build binds."""
    return [
        glibc_c_fixture(
            "strtol",
            "strtol.c",
            glibc,
            arch,
            f"strtol under _GNU_SOURCE built against glibc {glibc}: {purpose}",
            required,
            symbols,
        )
        for arch in ("x86_64", "aarch64")
        for glibc, required, symbols, purpose in (
            (
                "2.39",
                "2.38",
                {"GLIBC_2.38": ["__isoc23_strtol"]},
                "the headers redirect it to __isoc23_strtol@GLIBC_2.38, which fails on provided.al2023.",
            ),
            (
                "2.35",
                "2.34",
                {},
                "plain strtol at its first version (the 2.35 build of strtol-glibc2.39); loads on provided.al2023.",
            ),
        )
    ]


def addon_fixtures() -> list[Fixture]:
    """One Node-API addon source built as npm packages ship it for each platform (prebuildify's
    prebuilds/linux-x64/x.glibc.node, x.musl.node, prebuilds/linux-arm64/…): the loader tests lay
    them out in those folders."""
    fixtures = []
    for name, target, machine, needed, versions in (
        ("napi_addon-linux-x64-glibc.node", "x86_64-linux-gnu.2.17", "x86_64", "libc.so.6", ["GLIBC_2.2.5"]),
        ("napi_addon-linux-x64-musl.node", "x86_64-linux-musl", "x86_64", "libc.so", []),
        ("napi_addon-linux-arm64-glibc.node", "aarch64-linux-gnu.2.17", "aarch64", "libc.so.6", ["GLIBC_2.17"]),
    ):
        fixtures.append(
            Fixture(
                name=name,
                purpose=f"Node-API addon (napi_register_module_v1, one getenv call) for {target}: "
                f"needs {needed}, as a prebuilt for that platform does.",
                toolchain="node-addon",
                built_with=f"zig cc -target {target} -shared -fPIC {' '.join(SMALL)}",
                build=lambda out, ws, target=target: zig_cc(target, ["napi_addon.c"], out, "-shared", "-fPIC", *SMALL),
                expect={
                    "machine": machine,
                    "class": 64,
                    "endian": "little",
                    "static": False,
                    "interpreter": None,
                    "needed": [needed],
                    "versions": {needed: versions} if versions else {},
                    "exports": ["napi_register_module_v1"],
                },
            )
        )
    return fixtures


def edited(source: str) -> Callable[[Callable[[Path], None]], Callable[[Path, Workspace], None]]:
    """A build step: copy the fixture `source` (built earlier in this run), then apply an
    elf_edits edit to the copy."""

    def wrap(edit: Callable[[Path], None]) -> Callable[[Path, Workspace], None]:
        def build(out: Path, workspace: Workspace) -> None:
            shutil.copyfile(workspace.out(source), out)
            edit(out)

        return build

    return wrap


CONDVAR = "cxx_condvar-glibcxx3.4.30-x86_64"


def loader_fixtures() -> list[Fixture]:
    """Real binaries edited where readers and glibc's ld.so part ways: as ld.so reads each, it
    needs GLIBC_2.99 (or loses its library path), and ld.so refuses it (tests/test_elf_ldso.py
    runs them under the real loader)."""
    x86 = {"machine": "x86_64", "class": 64, "endian": "little", "static": False, "interpreter": X86_64_INTERP}
    condvar = {
        **x86,
        "needed": ["libstdc++.so.6", "libgcc_s.so.1", "libc.so.6"],
        "glibc_required": "2.99",
        "glibcxx_required": "GLIBCXX_3.4.30",
        "versions": {"libc.so.6": ["GLIBC_2.99"]},
        "symbols": {"GLIBC_2.99": ["__libc_start_main"]},
    }
    return [
        Fixture(
            name="ldso/vn_cnt_short-glibc2.99-x86_64",
            purpose="hello-glibc2.34-x86_64 with GLIBC_2.34 renamed GLIBC_2.99 (vna_hash to match) "
            "and vn_cnt 2 -> 1: ld.so follows vna_next to 0 and never reads vn_cnt, so it needs "
            "GLIBC_2.99 and refuses the file; readelf -V (which trusts vn_cnt) shows GLIBC_2.2.5 only.",
            toolchain="c",
            built_with="copy of hello-glibc2.34-x86_64, tools/elf_edits.py verneed_count_short",
            build=edited("hello-glibc2.34-x86_64")(elf_edits.verneed_count_short),
            loader_view={
                "version_needs": {"libc.so.6": ["GLIBC_2.2.5", "GLIBC_2.99"]},
                "symbols_at": {"GLIBC_2.99": ["__libc_start_main"]},
            },
            expect={
                **x86,
                "needed": ["libc.so.6"],
                "glibc_required": "2.99",
                "versions": {"libc.so.6": ["GLIBC_2.99"]},
                "symbols": {"GLIBC_2.99": ["__libc_start_main"]},
            },
        ),
        Fixture(
            name="ldso/verneednum_short-glibc2.99-x86_64",
            purpose=f"{CONDVAR} with GLIBC_2.34 renamed GLIBC_2.99 in its second Verneed (libc.so.6) "
            "and DT_VERNEEDNUM 3 -> 1: ld.so walks vn_next to 0 and never reads DT_VERNEEDNUM.",
            toolchain="c++",
            built_with=f"copy of {CONDVAR}, tools/elf_edits.py verneednum_short",
            build=edited(CONDVAR)(elf_edits.verneednum_short),
            expect=condvar,
        ),
        Fixture(
            name="ldso/verneed_twice-glibc2.99-x86_64",
            purpose=f"{CONDVAR} needing GLIBC_2.99, with a second DT_VERNEED inserted before the real "
            "one, pointing at a copy of the version needs without it: elf_get_dynamic_info keeps the "
            "last entry of a tag (info[tag] = dyn), so ld.so needs GLIBC_2.99.",
            toolchain="c++",
            built_with=f"copy of {CONDVAR}, tools/elf_edits.py verneed_twice (the copy in the first "
            "PT_LOAD's page padding, the entry in .dynamic's DT_NULL padding)",
            build=edited(CONDVAR)(elf_edits.verneed_twice),
            expect=condvar,
        ),
        Fixture(
            name="ldso/dynamic_offset_decoy-glibc2.99-x86_64",
            purpose=f"{CONDVAR} needing GLIBC_2.99, with PT_DYNAMIC's p_offset moved to a decoy copy "
            "of the dynamic array (appended to the file) whose DT_VERNEED leads to needs without it: "
            "ld.so reads the array at p_vaddr (l_ld = l_addr + p_vaddr), never at p_offset.",
            toolchain="c++",
            built_with=f"copy of {CONDVAR}, tools/elf_edits.py dynamic_offset_decoy",
            build=edited(CONDVAR)(elf_edits.dynamic_offset_decoy),
            expect=condvar,
        ),
        Fixture(
            name="ldso/rpath_twice",
            purpose="app_rpath with a second DT_RPATH (/lib) after its $ORIGIN/lib: ld.so keeps only "
            "the last, so it never looks in $ORIGIN/lib and cannot find libfoo.so there.",
            toolchain="c",
            built_with="copy of app_rpath, tools/elf_edits.py rpath_twice (over DT_DEBUG)",
            build=edited("app_rpath")(elf_edits.rpath_twice),
            expect={
                **x86,
                "needed": ["libfoo.so", "libc.so.6"],
                "rpath": "/lib",  # readelf -d lists both; the last is the one that counts
                "glibc_required": "2.2.5",
            },
        ),
    ]


FREEBSD_CSU = "lib/libc/freebsd/lib/csu/common"  # FreeBSD's own csu sources, as zig ships them


def build_freebsd_addon(out: Path, workspace: Workspace) -> None:
    """zig links a FreeBSD shared object without FreeBSD's crti/crtbrand, so the brand FreeBSD's
    own toolchain gives every object is added the FreeBSD way: its crtbrand.S (the .note.tag
    NT_FREEBSD_ABI_TAG note) is linked in, and EI_OSABI is set to ELFOSABI_FREEBSD as FreeBSD's
    clang writes it (what `brandelf -t FreeBSD` does)."""
    import ziglang

    csu = Path(ziglang.__file__).parent / FREEBSD_CSU
    flags = [*SMALL, "-shared", "-fPIC", "-DLOCORE", f"-I{csu}", str(csu / "crtbrand.S")]
    run(_zig_cc_command("x86_64-freebsd", ["freebsd_addon.c"], out, flags))
    elf_edits.set_os_abi(out, elf_edits.ELFOSABI_FREEBSD)


def freebsd_fixtures() -> list[Fixture]:
    x86 = {"machine": "x86_64", "class": 64, "endian": "little", "static": False}
    return [
        Fixture(
            name="freebsd/addon.node",
            purpose="A Node-API addon built for FreeBSD (x86_64): EI_OSABI FreeBSD and a FreeBSD "
            ".note.tag, needs libc.so.7; no Linux loader loads it.",
            toolchain="node-addon",
            built_with="zig cc -target x86_64-freebsd -shared -fPIC -Os -s with FreeBSD's "
            "crtbrand.S, then EI_OSABI = 9 (ELFOSABI_FREEBSD)",
            build=build_freebsd_addon,
            os_abi="freebsd",
            expect={
                **x86,
                "interpreter": None,
                "needed": ["libc.so.7"],
                "glibc_required": None,
                "exports": ["napi_register_module_v1"],
            },
        ),
        Fixture(
            name="freebsd/hello-x86_64",
            purpose="A C executable built for FreeBSD exactly as zig links it: EI_OSABI 0 (SYSV); "
            "the brand is only the .note.tag note of zig's FreeBSD crt1.",
            toolchain="c",
            built_with="zig cc -target x86_64-freebsd -Os -s",
            build=lambda out, ws: zig_cc("x86_64-freebsd", ["hello.c"], out, *SMALL),
            os_abi="freebsd",
            expect={**x86, "interpreter": "/libexec/ld-elf.so.1", "needed": ["libc.so.7"], "glibc_required": None},
        ),
    ]


def build_needs_sonames(out: Path, workspace: Workspace, sonames: tuple[str, ...]) -> None:
    """An x86_64 glibc 2.34 executable linked (--no-as-needed) to one stub per soname."""
    stubs = []
    for soname in sonames:
        stub = workspace.scratch / f"stub-{soname}"
        zig_cc("x86_64-linux-gnu.2.34", ["soname_stub.c"], stub, "-shared", "-fPIC", f"-Wl,-soname,{soname}")
        stubs.append(str(stub))
    zig_cc("x86_64-linux-gnu.2.34", ["uses_soname_stub.c"], out, *SMALL, "-Wl,--no-as-needed", *stubs)


def system_library_fixtures() -> list[Fixture]:
    """Bootstraps that need one system library each way the AL2023 image list answers: a soname
    no image has, one the list says is absent (libpq), and ones it lists as present."""
    fixtures = []
    for name, sonames, purpose in (
        ("needs_libnotthere-x86_64", ("libnotthere.so.1",),
         "Needs libnotthere.so.1, which no Lambda image has: missing-library is an error wherever "
         "the database's soname list is complete (provided.al2023)."),
        ("needs_libpq5-x86_64", ("libpq.so.5",),
         "Needs libpq.so.5 (PostgreSQL's client library), which the AL2023 Lambda images' package "
         "list shows they lack."),
        ("needs_al2023_libs-x86_64", ("libssl.so.3", "libz.so.1", "libstdc++.so.6"),
         "Needs libssl.so.3, libz.so.1 and libstdc++.so.6 (no versioned symbols), all in the "
         "AL2023 Lambda images' package list."),
    ):
        fixtures.append(
            Fixture(
                name=name,
                purpose=purpose,
                toolchain="c",
                built_with="zig cc -target x86_64-linux-gnu.2.34 -Wl,--no-as-needed, linked to stubs "
                + ", ".join(f"-Wl,-soname,{soname}" for soname in sonames),
                build=lambda out, ws, sonames=sonames: build_needs_sonames(out, ws, sonames),
                expect={
                    "machine": "x86_64",
                    "class": 64,
                    "endian": "little",
                    "static": False,
                    "interpreter": X86_64_INTERP,
                    "needed": [*sonames, "libc.so.6"],
                    "glibc_required": "2.34",
                },
            )
        )
    return fixtures


def all_fixtures() -> list[Fixture]:
    return [
        *core_fixtures(), *other_fixtures(), *runner_fixtures(), *addon_fixtures(),
        *loader_fixtures(), *freebsd_fixtures(), *system_library_fixtures(),
    ]


# ---------------------------------------------------------------------------------------------
# Verification and the manifest
# ---------------------------------------------------------------------------------------------


def describe(path: Path, fixture: Fixture, sources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The manifest entry, from readelf's view of the built file."""
    facts = readelf_facts.readelf_facts(path)
    needs, weak = facts["version_needs"], facts["weak_version_needs"]
    undefined = facts["undefined_versioned_symbols"]
    if fixture.same_dynamic_as:
        # readelf -V needs section headers; this file's needs are those of its source.
        source = sources[fixture.same_dynamic_as]
        needs, weak = source["version_needs"], source["weak_version_needs"]
        undefined = {tag: list(names) for tag, names in source["symbols_at"].items()}
    readelf_view = None
    if fixture.loader_view:
        readelf_view = {
            "version_needs": needs,
            "symbols_at": readelf_facts.symbols_at(needs, undefined),
            "glibc_required": readelf_facts.glibc_required(needs, weak),
        }
        needs = fixture.loader_view["version_needs"]
        undefined = fixture.loader_view["symbols_at"]
    data = path.read_bytes()
    return {
        "purpose": fixture.purpose,
        "toolchain": fixture.toolchain,
        "built_with": fixture.built_with,
        "machine": facts["machine"],
        "class": facts["class"],
        "endian": facts["endian"],
        "elf_type": facts["elf_type"],
        "static": facts["static"],
        "interpreter": facts["interpreter"],
        "needed": facts["needed"],
        "soname": facts["soname"],
        "rpath": facts["rpath"],
        "runpath": facts["runpath"],
        "glibc_required": readelf_facts.glibc_required(needs, weak),
        "glibcxx_required": readelf_facts.highest_tag(needs, "GLIBCXX"),
        "cxxabi_required": readelf_facts.highest_tag(needs, "CXXABI"),
        "version_needs": needs,
        "weak_version_needs": weak,
        "symbols_at": readelf_facts.symbols_at(needs, undefined),
        "section_headers": facts["section_headers"] > 0,
        "same_dynamic_as": fixture.same_dynamic_as,
        "readelf_view": readelf_view,
        "os_abi": readelf_facts.os_abi(path),
        "comment": facts["comment"],
        "contains_rustc_path": b"/rustc/" in data,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def verify(path: Path, fixture: Fixture, entry: dict[str, Any]) -> list[str]:
    """What the fixture was built for that readelf does not show; empty when all is well."""
    expect = fixture.expect
    problems = []

    def check(key: str, actual: Any, wanted: Any) -> None:
        if actual != wanted:
            problems.append(f"{key}: wanted {wanted!r}, readelf shows {actual!r}")

    for key in (
        "machine",
        "class",
        "endian",
        "static",
        "interpreter",
        "needed",
        "glibc_required",
        "glibcxx_required",
    ):
        if key in expect:
            check(key, entry[key], expect[key])
    for key in ("soname", "rpath", "runpath"):
        check(key, entry[key], expect.get(key))
    check("weak_version_needs", entry["weak_version_needs"], expect.get("weak", {}))
    check("section_headers", entry["section_headers"], expect.get("section_headers", True))
    check("os_abi", entry["os_abi"], fixture.os_abi)
    for soname, tags in expect.get("versions", {}).items():
        missing = set(tags) - set(entry["version_needs"].get(soname, []))
        if missing:
            problems.append(f"version needs of {soname} lack {sorted(missing)}")
    for tag, names in expect.get("symbols", {}).items():
        if tag not in entry["symbols_at"]:
            problems.append(f"no symbols_at entry for {tag}")
        elif set(names) - set(entry["symbols_at"][tag]):
            problems.append(
                f"{tag} lacks symbols {sorted(set(names) - set(entry['symbols_at'][tag]))}"
            )
    if expect.get("exports"):
        missing = set(expect["exports"]) - readelf_facts.defined_dynamic_symbols(path)
        if missing:
            problems.append(f"does not export {sorted(missing)}")
    if expect.get("dynamic_tags"):
        dynamic_tags = {tag for tag, _ in readelf_facts.readelf_facts(path)["dynamic_entries"]}
        missing = set(expect["dynamic_tags"]) - dynamic_tags
        if missing:
            problems.append(f"dynamic section lacks {sorted(missing)}")
    if expect.get("rust_marker") and not (
        entry["contains_rustc_path"] or any("rustc" in text for text in entry["comment"])
    ):
        problems.append("no /rustc/ path and no rustc .comment: not recognisable as Rust")
    if fixture.toolchain not in ("rust",) and entry["size"] > 100_000:
        problems.append(f"{entry['size']} bytes: too big for a fixture")
    return problems


def toolchain_versions() -> dict[str, str]:
    def first_line(command: list[str]) -> str:
        result = subprocess.run(command, capture_output=True, text=True)
        return (
            (result.stdout or result.stderr).splitlines()[0].strip()
            if result.returncode == 0
            else "unavailable"
        )

    return {
        "zig": first_line([*ZIG, "version"]),
        "g++": first_line(["g++", "--version"]),
        "rustc": first_line(["rustc", "--version"]),
        "readelf": first_line(["readelf", "--version"]),
    }


MANIFEST_NOTES = {
    "readelf_view": "where readelf -V reads the file otherwise than glibc's ld.so (it trusts "
    "vn_cnt): what readelf shows; version_needs, symbols_at and glibc_required are ld.so's view",
    "os_abi": "the system the file is for, from readelf -h OS/ABI and readelf -n notes",
    "glibc_required": "highest non-weak GLIBC_x.y[.z] version need over all needed libraries; "
    "GLIBC_ABI_DT_RELR counts as 2.36; GLIBC_PRIVATE ignored; null when none",
    "version_needs": "{soname: [tags]} in the order readelf -V lists them (the verneed order)",
    "weak_version_needs": "{soname: [tags]} whose verneed entry has VER_FLG_WEAK",
    "symbols_at": "for each needed tag newer than GLIBC_2.17 / GLIBCXX_3.4.24 / CXXABI_1.3.11 "
    "(and every GLIBC_ABI_* tag): the undefined dynamic symbols bound to it, sorted (may be "
    "empty)",
    "same_dynamic_as": "this file has no section headers; readelf cannot show its version "
    "needs, which are those of the named fixture (identical dynamic segment)",
}


def build_all(out_dir: Path, only: set[str] | None = None) -> dict[str, Any]:
    """Build and verify every fixture, or only the named ones (the others keep their files and
    manifest entries; a fixture made from another takes that one from `out_dir`)."""
    if readelf_facts.readelf_path() is None:
        raise FixtureError("readelf (binutils) is needed to verify the fixtures")
    entries: dict[str, dict[str, Any]] = {}
    if only:
        unknown = only - {fixture.name for fixture in all_fixtures()}
        if unknown:
            raise FixtureError(f"no fixture named {', '.join(sorted(unknown))}")
        entries = json.loads((out_dir / "MANIFEST.json").read_text())["fixtures"]
        for name, entry in entries.items():  # facts added to the manifest since it was written
            entry.setdefault("readelf_view", None)
            entry.setdefault("os_abi", readelf_facts.os_abi(out_dir / name))
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lgg-fixtures-") as scratch:
        workspace = Workspace(Path(scratch), out_dir)
        for fixture in all_fixtures():
            if only and fixture.name not in only:
                continue
            out = workspace.out(fixture.name)
            print(f"building {fixture.name}", file=sys.stderr)
            fixture.build(out, workspace)
            out.chmod(0o755)  # every fixture is something ld.so or an interpreter maps
            entry = describe(out, fixture, entries)
            problems = verify(out, fixture, entry)
            if fixture.same_dynamic_as:
                problems += same_dynamic_problems(out, workspace.out(fixture.same_dynamic_as))
            failures += [f"{fixture.name}: {problem}" for problem in problems]
            entries[fixture.name] = entry
    if failures:
        raise FixtureError("fixtures lack the property they exist for:\n  " + "\n  ".join(failures))
    return {
        "generated_by": "tools/build_fixtures.py",
        "toolchains": toolchain_versions(),
        "notes": MANIFEST_NOTES,
        "fixtures": entries,
    }


def same_dynamic_problems(stripped: Path, source: Path) -> list[str]:
    stripped_entries = readelf_facts.readelf_facts(stripped)["dynamic_entries"]
    source_entries = readelf_facts.readelf_facts(source)["dynamic_entries"]
    if stripped_entries != source_entries:
        return [f"dynamic segment differs from {source.name}"]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures-dir", type=Path, default=FIXTURES_DIR)
    parser.add_argument("--examples-dir", type=Path, default=EXAMPLES_DIR)
    parser.add_argument("--no-examples", action="store_true", help="only the ELF fixtures")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="rebuild only this fixture (repeatable); implies --no-examples")
    args = parser.parse_args(argv)
    try:
        if args.only:
            args.no_examples = True
        manifest = build_all(args.fixtures_dir, set(args.only) if args.only else None)
        if not args.no_examples:
            manifest["examples"] = example_packages.build_examples(
                args.fixtures_dir, args.examples_dir
            )
    except (FixtureError, readelf_facts.ReadelfError, OSError, ValueError) as error:
        print(f"build_fixtures: {error}", file=sys.stderr)
        return 1
    manifest_path = args.fixtures_dir / "MANIFEST.json"
    if args.no_examples and manifest_path.exists():
        # keep the examples section of the previous run
        previous = json.loads(manifest_path.read_text())
        if "examples" in previous:
            manifest["examples"] = previous["examples"]
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    total = sum(entry["size"] for entry in manifest["fixtures"].values())
    print(
        f"wrote {len(manifest['fixtures'])} fixtures ({total} bytes) and {manifest_path}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
