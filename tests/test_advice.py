"""Every printed fix runs as printed: the tests apply them (pip, zig, cc) and scan the result.

And the advice follows glibc's own symbol tables: a relink against the runtime's glibc only
when that glibc has every needed symbol; `runs-on: ubuntu-22.04` only when a build there
binds every failing symbol at a version the runtime has.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest
from helpers import elf_fixture

from lambda_glibc_gate import advice, glibc_symbols
from lambda_glibc_gate.elf import VersionNeed
from lambda_glibc_gate.scan import ScanOptions, scan

TODAY = date(2026, 11, 27)
SOURCES = Path(__file__).parent.parent / "tools" / "fixture_src"
HAS_ZIG = importlib.util.find_spec("ziglang") is not None


def run(path, **options):
    options.setdefault("today", TODAY)
    return scan([str(path)], ScanOptions(**options))


def only(report, rule):
    found = [f for f in report.all_findings() if f.rule == rule]
    assert len(found) == 1, [f.message for f in report.all_findings()]
    return found[0]


def context(**fields) -> advice.Context:
    base = {
        "toolchain": "c",
        "runtime_id": "provided.al2023",
        "runtime_family": "provided",
        "language_version": None,
        "architecture": "x86_64",
        "glibc_available": "2.34",
        "member": "bootstrap",
    }
    return advice.Context(**{**base, **fields})


def shell(code: str, cwd: Path, extra: str = "") -> subprocess.CompletedProcess:
    """Run a printed fix as a user would paste it (plus `extra`), in bash, failing on error."""
    python_dir = str(Path(sys.executable).parent)
    # PIP_DISABLE_PIP_VERSION_CHECK: no look-up of pip's own version on PyPI
    script = f'set -e\nexport PATH="{python_dir}:$PATH" PIP_DISABLE_PIP_VERSION_CHECK=1\n{code}\n{extra}\n'
    result = subprocess.run(["bash", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


# -- pip: every manylinux tag up to the runtime's glibc ----------------------------------------


def wheel(folder: Path, version: str, platform: str) -> None:
    """A real, installable wheel of project `demo`: one module saying its version, a platform tag."""
    name = f"demo-{version}-py3-none-{platform}.whl"
    info = f"demo-{version}.dist-info"
    files = {
        "demo/__init__.py": f"VERSION = {version!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: demo\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\n"
        + "".join(f"Tag: py3-none-{p}\n" for p in platform.split(".")),
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    with zipfile.ZipFile(folder / name, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    wheel(folder, "1.0", "manylinux_2_17_x86_64.manylinux2014_x86_64")  # as auditwheel names it
    wheel(folder, "2.0", "manylinux_2_24_x86_64")
    wheel(folder, "3.0", "manylinux_2_26_x86_64")
    wheel(folder, "4.0", "manylinux_2_28_x86_64")
    wheel(folder, "5.0", "manylinux_2_35_x86_64")  # too new for every Lambda runtime
    return folder


def installed(target: Path) -> str:
    """The release whose module Python would import from the folder."""
    return "demo-" + (target / "demo" / "__init__.py").read_text().split("'")[1]


@pytest.mark.parametrize(
    ("runtime", "glibc", "python", "expected"),
    [("python3.12", "2.34", "3.12", "demo-4.0"), ("python3.11", "2.26", "3.11", "demo-3.0")],
)
def test_printed_pip_command_installs_the_newest_wheel_that_loads(
    tmp_path, wheelhouse, runtime, glibc, python, expected
):
    # GIVEN a function built from requirements.txt, and a package folder holding an old release
    (tmp_path / "requirements.txt").write_text("demo\n")
    ctx = context(
        toolchain="python-extension",
        runtime_id=runtime,
        runtime_family="python",
        language_version=python,
        glibc_available=glibc,
    )
    fix = advice.glibc_fixes(ctx, "2.35", None, [])[0]
    local = f"--no-index --find-links {wheelhouse}"
    with zipfile.ZipFile(next(wheelhouse.glob("demo-1.0-*.whl"))) as old:
        old.extractall(tmp_path / "package")  # what an earlier `pip install --target package/` left
    # WHEN the printed command runs (pointed at the local wheels instead of PyPI)
    shell(fix.code + f" \\\n  {local} -q", tmp_path)
    # THEN pip took the newest release whose manylinux tag the runtime's glibc accepts
    # (one --platform manylinux_2_34 would skip 2_28 and keep 1.0; without --upgrade, too)
    assert installed(tmp_path / "package") == expected
    assert "…" not in fix.code and "--upgrade" in fix.code and "-r requirements.txt" in fix.code


def test_pip_fix_names_every_tag_from_manylinux2014_to_the_runtime_glibc():
    code = advice.pip_fix("3.12", "2.34", "arm64").code
    platforms = [word for word in code.split() if word.startswith("manylinux")]
    assert platforms[0] == "manylinux_2_34_aarch64" and platforms[-1] == "manylinux2014_aarch64"
    assert len(platforms) == 34 - 17 + 2  # 2_34 .. 2_17, and manylinux2014


def test_pip_fix_installs_where_the_package_came_from():
    class Package:
        name = "cryptography"
        root = "python/lib/python3.12/site-packages/cryptography-44.0.0.dist-info"

    fix = advice.glibc_fixes(context(toolchain="python-extension", package=Package()), "2.39", None, [])[0]
    assert "--target python/lib/python3.12/site-packages/ " in fix.code
    assert "cryptography" in fix.title and "-r requirements.txt" in fix.code
    # a scanned folder: the members are relative to it
    ctx = context(toolchain="python-extension", package=Package(), artifact_kind="directory", artifact_path="build/fn")
    code = advice.glibc_fixes(ctx, "2.39", None, [])[0].code
    assert "--target build/fn/python/lib/python3.12/site-packages/ " in code


# -- glibc's symbol tables ---------------------------------------------------------------------


def test_symbol_table_knows_versions_per_architecture():
    assert glibc_symbols.versions("memcpy", "x86_64") == ("2.2.5", "2.14")
    assert glibc_symbols.versions("memcpy", "arm64") == ("2.17",)
    assert glibc_symbols.versions("arc4random", "x86_64") == ("2.36",)
    assert glibc_symbols.versions("pthread_create", "x86_64") == ("2.2.5", "2.34")
    assert "abilists" in glibc_symbols.source()


def test_a_build_against_2_35_binds_the_undone_redirects_at_old_versions():
    assert glibc_symbols.bound_version("__isoc23_strtol", "2.35", "x86_64") == "2.2.5"
    assert glibc_symbols.bound_version("__isoc23_sscanf", "2.35", "x86_64") == "2.7"  # __isoc99_sscanf
    assert glibc_symbols.bound_version("fcntl64", "2.35", "x86_64") == "2.28"
    assert glibc_symbols.bound_version("strlcpy", "2.35", "x86_64") is None  # new in 2.38
    assert glibc_symbols.binds_within("__libc_start_main", "2.35", "2.34", "x86_64")
    assert not glibc_symbols.binds_within("_dl_find_object", "2.35", "2.34", "x86_64")


def test_oldest_glibc_a_binary_can_be_rebuilt_for():
    assert glibc_symbols.oldest_glibc(["__isoc23_strtol", "stat", "fcntl64"], "x86_64") == "2.2.5"
    assert glibc_symbols.oldest_glibc(["gettid", "strlcpy"], "arm64") == "2.38"
    assert glibc_symbols.missing_at(["arc4random", "strlcpy", "pthread_create"], "2.34", "x86_64") == [
        "arc4random",
        "strlcpy",
    ]


@pytest.mark.skipif(not HAS_ZIG, reason="needs ziglang (its abilists are the source)")
def test_committed_symbol_table_is_what_the_tool_builds(tmp_path):
    sys.path.insert(0, str(SOURCES.parent))
    import build_glibc_symbols

    path, version = build_glibc_symbols.ziglang_abilists()
    committed = Path(glibc_symbols.__file__).parent / "data" / "glibc_symbols.json"
    if version not in committed.read_text():
        pytest.skip(f"the table was built from another ziglang than {version}")
    out = tmp_path / "g.json"
    build_glibc_symbols.main(["--out", str(out)])
    assert out.read_text() == committed.read_text()


# -- relink, or change the code: arc4random / strlcpy on glibc 2.34 ------------------------------


@pytest.mark.parametrize("fixture", ["arc4random-glibc2.36-x86_64", "strlcpy_strtol-glibc2.38-x86_64"])
def test_a_symbol_the_runtime_glibc_lacks_gets_no_relink_and_no_runner(make_zip, fixture):
    finding = only(run(make_zip({"bootstrap": elf_fixture(fixture)}), runtime="provided.al2023"), "glibc-too-new")
    codes = "\n".join(f.code for f in finding.fixes)
    # a build against glibc 2.34 cannot link arc4random (2.36) or strlcpy (2.38)
    assert "linux-gnu.2.34" not in codes and "runs-on:" not in codes and "amazonlinux" not in codes
    assert "-static" in codes and "linux-musl" in codes
    missing = "arc4random" if "arc4random" in fixture else "strlcpy"
    assert missing in finding.fixes[0].title and f"grep -rnwE {missing} " in codes  # a plain word: unquoted


@pytest.mark.parametrize("toolchain", ["rust", "go", "c", "c++"])
def test_every_toolchain_gets_a_fix_that_can_link_for_arc4random(toolchain):
    ctx = context(toolchain=toolchain)
    needs = [VersionNeed("libc.so.6", "GLIBC_2.36", False, ("arc4random",), 1)]
    codes = "\n".join(f.code for f in advice.glibc_fixes(ctx, "2.36", None, [], needs))
    assert ".2.34" not in codes
    if toolchain == "rust":
        assert "x86_64-unknown-linux-musl" in codes and "+crt-static" in codes


@pytest.mark.skipif(shutil.which("cc") is None or shutil.which("make") is None, reason="needs cc and make")
def test_printed_static_glibc_fix_builds_a_binary_that_passes(tmp_path, make_zip):
    # GIVEN arc4random (glibc 2.36) failing on provided.al2023
    finding = only(
        run(make_zip({"bootstrap": elf_fixture("arc4random-glibc2.36-x86_64")}), runtime="provided.al2023"),
        "glibc-too-new",
    )
    static = next(f for f in finding.fixes if "-static" in f.code and "ziglang" not in f.code)
    shutil.copy(SOURCES / "arc4random.c", tmp_path / "bootstrap.c")
    # WHEN the printed fix runs, then the user's make
    probe = subprocess.run(["cc", "-static", "-x", "c", "-", "-o", str(tmp_path / "probe")], input="int main(){}",
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("this host's cc cannot link statically (no libc.a)")
    shell(static.code, tmp_path, "make -s bootstrap")
    # THEN the rebuilt bootstrap loads on provided.al2023
    rebuilt = make_zip({"bootstrap": (tmp_path / "bootstrap").read_bytes()})
    assert run(rebuilt, runtime="provided.al2023").verdict == "pass"


# -- ubuntu-22.04 exactly when a 2.35 build binds <= 2.34 ----------------------------------------


@pytest.mark.parametrize(("arch", "label"), [("x86_64", "ubuntu-22.04"), ("arm64", "ubuntu-22.04-arm")])
def test_ubuntu_22_04_is_offered_when_a_2_35_build_binds_within_2_34(make_zip, arch, label):
    machine = "aarch64" if arch == "arm64" else "x86_64"
    # GIVEN strtol built against glibc 2.39 (ubuntu-latest): __isoc23_strtol@GLIBC_2.38
    failing = make_zip({"bootstrap": elf_fixture(f"strtol-glibc2.39-{machine}")})
    finding = only(run(failing, runtime="provided.al2023", architecture=arch), "glibc-too-new")
    codes = [f.code for f in finding.fixes]
    runner = next(i for i, code in enumerate(codes) if code.startswith("runs-on:"))
    # THEN the runner is offered, after the durable fix, with GitHub's dates
    assert runner > 0 and codes[runner].startswith(f"runs-on: {label} ")
    assert "2026-09-17" in codes[runner] and "2027-04-17" in codes[runner]
    assert "linux-gnu.2.34" in codes[0]
    # AND the same source built against 2.35 (what that runner does) really loads on provided.al2023
    rebuilt = make_zip({"bootstrap": elf_fixture(f"strtol-glibc2.35-{machine}")})
    assert run(rebuilt, runtime="provided.al2023", architecture=arch).verdict == "pass"
    # AND not on provided.al2: a 2.35 build binds __libc_start_main@GLIBC_2.34 > 2.26
    on_al2 = only(run(failing, runtime="provided.al2", architecture=arch), "glibc-too-new")
    assert not any(f.code.startswith("runs-on:") for f in on_al2.fixes)
    # AND never after GitHub drops the image
    later = only(run(failing, runtime="provided.al2023", architecture=arch, today=date(2027, 5, 1)), "glibc-too-new")
    assert not any(f.code.startswith("runs-on:") for f in later.fixes)


@pytest.mark.parametrize(
    "fixture", ["strlcpy_strtol-glibc2.38-x86_64", "dl_find_object-glibc2.35-x86_64", "relr-glibc2.38-x86_64"]
)
def test_ubuntu_22_04_is_not_offered_when_a_2_35_build_cannot_load(make_zip, fixture):
    # strlcpy is absent from 2.35; _dl_find_object binds at 2.35; a symbol-less tag is unknown
    finding = only(run(make_zip({"bootstrap": elf_fixture(fixture)}), runtime="provided.al2023"), "glibc-too-new")
    assert not any("ubuntu-22.04" in f.code for f in finding.fixes)


def test_a_weak_symbol_absent_from_the_runner_glibc_does_not_rule_the_runner_out():
    # A weak reference links against a glibc without the symbol and then needs no version.
    runner = advice.RunnerImage("ubuntu-22.04", "2.35", date(2026, 9, 17), date(2027, 4, 17))
    needs = [
        VersionNeed("libc.so.6", "GLIBC_2.38", False, ("__isoc23_strtol", "strlcpy"), 2, weak_symbols=("strlcpy",))
    ]
    codes = [f.code for f in advice.glibc_fixes(context(), "2.38", None, [runner], needs)]
    assert any(code.startswith("runs-on: ubuntu-22.04") for code in codes)
    strong = [VersionNeed("libc.so.6", "GLIBC_2.38", False, ("__isoc23_strtol", "strlcpy"), 2)]
    assert not any("runs-on" in f.code for f in advice.glibc_fixes(context(), "2.38", None, [runner], strong))


# -- zig, applied end to end -----------------------------------------------------------------------


@pytest.mark.skipif(not HAS_ZIG or shutil.which("make") is None, reason="needs ziglang and make")
def test_printed_zig_fix_rebuilds_a_bootstrap_that_passes(tmp_path, make_zip):
    # GIVEN a C bootstrap built on glibc 2.39 that fails on provided.al2023 (GLIBC_2.38)
    finding = only(
        run(make_zip({"bootstrap": elf_fixture("strtol-glibc2.39-x86_64")}), runtime="provided.al2023"),
        "glibc-too-new",
    )
    fix = finding.fixes[0]
    assert 'CC="python -m ziglang cc -target x86_64-linux-gnu.2.34"' in fix.code
    # WHEN the printed fix runs, then the user's unchanged build (make's built-in rule, and the
    # flag that turns zig 0.17's __isoc23 redirect on, as glibc 2.39's own headers do)
    shutil.copy(SOURCES / "strtol.c", tmp_path / "bootstrap.c")
    shell(fix.code.replace("pip install ziglang\n", ""), tmp_path, "make -s bootstrap CFLAGS=-D__GLIBC__=2")
    # THEN the rebuilt bootstrap loads on provided.al2023
    rebuilt = make_zip({"bootstrap": (tmp_path / "bootstrap").read_bytes()})
    assert run(rebuilt, runtime="provided.al2023").verdict == "pass"


# -- C++: zig c++ when glibc is the problem; -static-libstdc++ only for libstdc++ ----------------


def test_cxx_glibc_failure_gets_zig_cxx_not_static_libstdcxx():
    ctx = context(toolchain="c++")
    needs = [VersionNeed("libc.so.6", "GLIBC_2.38", False, ("__isoc23_strtol",), 1)]
    fixes = advice.glibc_fixes(ctx, "2.38", None, [], needs)
    assert 'CXX="python -m ziglang c++ -target x86_64-linux-gnu.2.34"' in fixes[0].code
    assert not any("static-libstdc++" in f.code for f in fixes)
    # the libstdc++ finding of a file that also needs a newer glibc: the same zig fix
    both = advice.libstdcxx_fixes(ctx, glibc_failing=True)
    assert [f.code for f in both] == [fixes[0].code]
    alone = advice.libstdcxx_fixes(ctx)
    assert any("-static-libstdc++" in f.code for f in alone)


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
def test_static_libstdcxx_caveat_names_what_a_newer_host_binds(tmp_path, make_zip):
    # The -static-libstdc++ fix says what it binds on a host newer than the runtime: check it here.
    import os

    host = os.confstr("CS_GNU_LIBC_VERSION").split()[-1]
    if tuple(map(int, host.split("."))) <= (2, 34):
        pytest.skip("this host's glibc is not newer than provided.al2023's")
    fix = next(f for f in advice.libstdcxx_fixes(context(toolchain="c++")) if "-static-libstdc++" in f.code)
    shutil.copy(SOURCES / "condvar.cpp", tmp_path / "bootstrap.cpp")
    shell(fix.code, tmp_path, "make -s bootstrap CXXFLAGS=-std=c++17 LDLIBS=-pthread")
    report = run(make_zip({"bootstrap": (tmp_path / "bootstrap").read_bytes()}), runtime="provided.al2023")
    for finding in report.all_findings():
        for symbol in finding.symbols:
            assert symbol in fix.title, (symbol, fix.title)


# -- cargo-lambda keeps the user's flags ---------------------------------------------------------------


def test_cargo_lambda_fix_keeps_the_users_build_line():
    needs = [VersionNeed("libc.so.6", "GLIBC_2.38", False, ("__isoc23_strtol",), 1)]
    ctx = context(
        toolchain="rust",
        architecture="arm64",
        build_command="cargo lambda build --release --arm64 --output-format zip -p api --features prod",
    )
    code = advice.glibc_fixes(ctx, "2.38", None, [], needs)[0].code
    assert code == (
        "cargo lambda build --release --output-format zip -p api --features prod "
        "--target aarch64-unknown-linux-gnu.2.34"
    )
    ctx = context(toolchain="rust", build_command="cargo lambda build --target=x86_64-unknown-linux-gnu -r")
    assert advice.glibc_fixes(ctx, "2.38", None, [], needs)[0].code == (
        "cargo lambda build -r --target x86_64-unknown-linux-gnu.2.34"
    )
    zipped = context(toolchain="rust", artifact_kind="zip")
    assert advice.glibc_fixes(zipped, "2.38", None, [], needs)[0].code.endswith(".2.34 --output-format zip")
    plain = context(toolchain="rust", build_command="make lambda")
    assert advice.glibc_fixes(plain, "2.38", None, [], needs)[0].code == (
        "cargo lambda build --release --target x86_64-unknown-linux-gnu.2.34"
    )


# -- no fix ends in an ellipsis ----------------------------------------------------------------------


def every_fix():
    needs_ok = [VersionNeed("libc.so.6", "GLIBC_2.38", False, ("__isoc23_strtol",), 1)]
    needs_absent = [VersionNeed("libc.so.6", "GLIBC_2.36", False, ("arc4random",), 1)]
    runner = advice.RunnerImage("ubuntu-22.04", "2.35", date(2026, 9, 17), date(2027, 4, 17))
    for toolchain in ("rust", "go", "c", "c++", "python-extension", "node-addon"):
        for arch in ("x86_64", "arm64"):
            ctx = context(toolchain=toolchain, architecture=arch, language_version="3.12")
            for needs in (needs_ok, needs_absent, []):
                yield from advice.glibc_fixes(ctx, "2.38", "provided.al2023", [runner], needs)
            yield from advice.libstdcxx_fixes(ctx)
            yield from advice.libstdcxx_fixes(ctx, glibc_failing=True)
            yield from advice.arch_fixes(toolchain, "x86_64" if arch == "arm64" else "aarch64", arch, "2.34")
            yield from advice.musl_fixes(toolchain, arch)
    yield advice.bootstrap_fix(None)
    yield advice.bootstrap_fix("target/lambda/api/bootstrap")
    yield advice.exec_bit_fix()


def test_no_fix_code_contains_an_ellipsis_or_an_unmarked_placeholder():
    for fix in every_fix():
        assert "…" not in fix.code and "..." not in fix.code, fix
        assert all(p.startswith("<your-") for p in re.findall(r"<[\w-]+>", fix.code)), fix  # marked ones only
