"""The scanner end to end on real zips: what Lambda's loader would do, and the fix offered."""

from __future__ import annotations

from datetime import date

import pytest
from helpers import REGULAR, elf_fixture

from lambda_glibc_gate.archive import UsageError
from lambda_glibc_gate.runtimes import UnknownRuntimeError
from lambda_glibc_gate.scan import ScanOptions, scan

TODAY = date(2026, 11, 27)


def run(paths, **options):
    options.setdefault("today", TODAY)
    return scan(paths if isinstance(paths, list) else [paths], ScanOptions(**options))


def rules(report, severity=None):
    return sorted(f.rule for f in report.all_findings() if severity is None or f.severity == severity)


def only(report, rule):
    found = [f for f in report.all_findings() if f.rule == rule]
    assert len(found) == 1, [f.message for f in report.all_findings()]
    return found[0]


def test_bootstrap_needing_glibc_2_38_fails_on_al2023_naming_the_symbols(make_zip):
    # GIVEN a bootstrap linked against glibc 2.38 (strlcpy, C23 strtol), as on ubuntu-latest
    package = make_zip({"bootstrap": elf_fixture("strlcpy_strtol-glibc2.38-x86_64")})
    # WHEN scanned for provided.al2023 (glibc 2.34)
    report = run(package, runtime="provided.al2023")
    # THEN it fails, naming the file, the versions and the symbols behind them
    assert report.verdict == "fail"
    finding = only(report, "glibc-too-new")
    assert finding.member == "bootstrap"
    assert (finding.required, finding.available) == ("2.38", "2.34")
    assert "strlcpy@GLIBC_2.38" in finding.symbols
    assert "__isoc23_strtol@GLIBC_2.38" in finding.symbols
    assert "`__isoc23_strtol`" in finding.message and "2.34" in finding.message
    # AND glibc 2.34 has no strlcpy at any version: no relink against it, no ubuntu-22.04 (2.35
    # lacks it too); the fixes change the linking (static, musl) or the call, named
    codes = "\n".join(fix.code for fix in finding.fixes)
    assert "x86_64-linux-gnu.2.34" not in codes
    assert "ubuntu-22.04" not in codes
    assert "strlcpy" in finding.fixes[0].title
    assert report.max_glibc == "2.38"


def test_the_same_zip_passes_with_a_glibc_override(make_zip):
    package = make_zip({"bootstrap": elf_fixture("strlcpy_strtol-glibc2.38-x86_64")})
    report = run(package, runtime="provided.al2023", glibc="2.39")
    assert report.verdict == "pass", [f.message for f in report.all_findings()]


def test_a_2_34_need_passes_on_al2023_and_fails_on_al2_with_advice_to_move(make_zip):
    package = make_zip({"bootstrap": elf_fixture("close_range-glibc2.34-x86_64")})
    assert run(package, runtime="provided.al2023").verdict == "pass"
    report = run(package, runtime="provided.al2")
    finding = only(report, "glibc-too-new")
    assert (finding.required, finding.available) == ("2.34", "2.26")
    assert finding.details["newer_runtime"] == "provided.al2023"
    assert any("provided.al2023" in fix.title for fix in finding.fixes)
    assert any("close_range@GLIBC_2.34" == s for s in finding.symbols)
    # the report-wide hint names the runtime that would accept every failing binary
    assert [n.details["runtime"] for n in report.notices if n.rule == "runtime-hint"] == ["provided.al2023"]


@pytest.mark.parametrize(
    ("fixture", "glibc"),
    [
        ("dl_find_object-glibc2.35-x86_64", "2.35"),
        ("arc4random-glibc2.36-x86_64", "2.36"),
        ("relr-glibc2.38-x86_64", "2.36"),
    ],
)
def test_each_newer_need_fails_on_al2023_with_its_release(make_zip, fixture, glibc):
    report = run(make_zip({"bootstrap": elf_fixture(fixture)}), runtime="provided.al2023")
    assert only(report, "glibc-too-new").required == glibc


def test_ubuntu_22_04_is_offered_only_when_its_glibc_fits(make_zip):
    # 2.26 need on al2023: 22.04 (2.35) is above 2.34, so never offered; and on a custom
    # target of glibc 2.35 it is, with its deprecation date
    package = make_zip({"bootstrap": elf_fixture("dl_find_object-glibc2.35-x86_64")})
    report = run(package, runtime="provided.al2023")
    assert "ubuntu-22.04" not in "\n".join(f.code for f in only(report, "glibc-too-new").fixes)


def test_arm64_binary_in_an_x86_function_is_exec_format_error(make_zip):
    report = run(make_zip({"bootstrap": elf_fixture("hello-glibc2.34-aarch64")}), architecture="x86_64")
    finding = only(report, "arch-mismatch")
    assert "exec format error" in finding.message
    assert run(make_zip({"bootstrap": elf_fixture("hello-glibc2.34-aarch64")}), architecture="arm64").verdict == "pass"


@pytest.mark.parametrize("fixture", ["hello-glibc2.17-i386", "hello-glibc2.17-s390x"])
def test_32_bit_and_big_endian_files_are_arch_mismatches(make_zip, fixture):
    report = run(make_zip({"bootstrap": elf_fixture(fixture)}))
    assert "arch-mismatch" in rules(report)


def test_aarch64_needs_are_judged_like_x86_64(make_zip):
    package = make_zip({"bootstrap": elf_fixture("strlcpy_strtol-glibc2.38-aarch64")})
    finding = only(run(package, architecture="arm64"), "glibc-too-new")
    assert finding.required == "2.38"


def test_dynamic_musl_binary_has_a_loader_amazon_linux_lacks(make_zip):
    report = run(make_zip({"bootstrap": elf_fixture("musl_dynamic-x86_64")}))
    finding = only(report, "bad-interpreter")
    assert "ld-musl" in finding.message


def test_static_musl_binary_passes_with_a_note(make_zip):
    report = run(make_zip({"bootstrap": elf_fixture("musl_static-x86_64")}))
    assert report.verdict == "pass"
    assert rules(report) == ["static-binary"]
    assert report.artifacts[0].binaries[0].static is True


def test_weak_version_need_never_fails(make_zip):
    report = run(make_zip({"bootstrap": elf_fixture("weak_version_need-glibc2.38-x86_64")}))
    assert report.verdict == "pass", [f.message for f in report.all_findings()]
    assert "weak-version" in rules(report)


def test_stripped_binary_without_section_headers_is_judged_from_the_dynamic_segment(make_zip):
    package = make_zip({"bootstrap": elf_fixture("no_section_headers-glibc2.34-x86_64")})
    assert run(package, runtime="provided.al2023").verdict == "pass"
    assert only(run(package, runtime="provided.al2"), "glibc-too-new").required == "2.34"


def test_cxx_binary_needing_glibcxx_3_4_30_fails_on_al2023_with_the_override_hint(make_zip):
    package = make_zip({"bootstrap": elf_fixture("cxx_condvar-glibcxx3.4.30-x86_64")})
    finding = only(run(package), "libstdcxx-too-new")
    assert "GLIBCXX_3.4.30" in finding.message
    assert "--glibcxx 3.4.33" in finding.message
    assert "libstdcxx-too-new" not in rules(run(package, glibcxx="3.4.33"))


def test_bootstrap_missing_names_the_one_in_a_subfolder(make_zip):
    package = make_zip({"target/lambda/api/bootstrap": elf_fixture("hello-glibc2.34-x86_64")})
    finding = only(run(package), "bootstrap-missing")
    assert "target/lambda/api/bootstrap" in finding.message
    # python runtimes need no bootstrap
    assert "bootstrap-missing" not in rules(run(package, runtime="python3.12"))


def test_bootstrap_without_execute_bit_is_permission_denied(make_zip):
    package = make_zip({"bootstrap": (elf_fixture("hello-glibc2.34-x86_64"), REGULAR)})
    assert "permission denied" in only(run(package), "bootstrap-not-executable").message
    windows = make_zip({"bootstrap": (elf_fixture("hello-glibc2.34-x86_64"), None)})
    assert only(run(windows), "bootstrap-not-executable").severity == "warning"


def test_shell_script_bootstrap_is_fine_and_the_elf_files_beside_it_are_checked(make_zip):
    package = make_zip(
        {
            "bootstrap": b"#!/bin/sh\nexec ./bin/app\n",
            "bin/app": elf_fixture("strlcpy_strtol-glibc2.38-x86_64"),
        }
    )
    report = run(package)
    assert only(report, "glibc-too-new").member == "bin/app"
    crlf = make_zip({"bootstrap": b"#!/bin/sh\r\nexec ./bin/app\r\n"})
    assert "bad-interpreter" in rules(run(crlf))


def test_deprecated_runtime_is_a_warning_with_its_dates(make_zip):
    package = make_zip({"bootstrap": elf_fixture("hello-glibc2.17-x86_64")})
    report = run(package, runtime="provided.al2")
    finding = only(report, "deprecated-runtime")
    assert finding.severity == "warning" and "2026-07-31" in finding.message
    assert report.verdict == "pass"
    assert run(package, runtime="provided.al2", fail_on="warning").verdict == "fail"


def test_library_bundled_with_runpath_is_checked_through_the_library(make_zip):
    # GIVEN app (glibc 2.17) with RUNPATH $ORIGIN/lib and lib/libfoo.so needing GLIBC_2.38
    package = make_zip(
        {
            "bootstrap": elf_fixture("app_runpath"),
            "lib/libfoo.so": elf_fixture("lib/libfoo.so"),
        }
    )
    report = run(package)
    finding = only(report, "glibc-too-new")
    assert finding.member == "lib/libfoo.so"
    # AND without the library the executable cannot start at all
    alone = run(make_zip({"bootstrap": elf_fixture("app_runpath")}))
    assert any(f.rule == "missing-library" and "libfoo.so" in f.message for f in alone.all_findings())


def test_library_from_a_layer_under_opt_lib_resolves(make_zip):
    layer = make_zip({"lib/libfoo.so": elf_fixture("lib/libfoo.so")}, name="layer.zip")
    package = make_zip({"bootstrap": elf_fixture("app_runpath")})
    report = run(package, layers=(layer,))
    assert "missing-library" not in rules(report)
    # the layer is scanned as mounted at /opt: its own need on glibc 2.38 fails
    assert only(run(layer, as_layer=True), "glibc-too-new").member == "lib/libfoo.so"


def test_libssl_1_1_is_missing_on_al2023_and_libssl_3_on_al2(make_zip):
    old = make_zip({"bootstrap": elf_fixture("needs_libssl1.1-x86_64")})
    new = make_zip({"bootstrap": elf_fixture("needs_libssl3-x86_64")})
    missing = only(run(old, runtime="provided.al2023"), "missing-library")
    assert missing.severity == "error" and "libssl.so.1.1" in missing.message
    assert "missing-library" not in rules(run(new, runtime="provided.al2023"))
    assert only(run(new, runtime="provided.al2"), "missing-library").required == "libssl.so.3"


def test_python_extension_is_attributed_and_gets_the_pip_fix(tmp_path):
    report = run("examples/python-function.zip", runtime="python3.11")
    finding = only(report, "glibc-too-new")
    assert finding.details["package"].startswith("mypkg 1.0.0")
    fix = finding.fixes[0].code
    assert "--platform manylinux_2_26_x86_64" in fix and "--python-version 3.11" in fix
    # a module tagged cpython-311 is imported by no other Python: no newer runtime is offered
    assert "newer_runtime" not in finding.details and not report.notices
    # and on python3.12 its glibc is fine, but Python 3.12 does not import it at all
    on_312 = run("examples/python-function.zip", runtime="python3.12")
    assert rules(on_312) == ["python-abi-mismatch"]
    assert only(on_312, "python-abi-mismatch").required == "3.11"


def test_an_extension_for_a_newer_python_names_the_runtime_that_imports_it(make_zip):
    package = make_zip(
        {"pkg/_x.cpython-312-x86_64-linux-gnu.so": elf_fixture("_speedups.cpython-312-x86_64-linux-gnu.so")}
    )
    report = run(package, runtime="python3.11")
    assert only(report, "python-abi-mismatch").details["newer_runtime"] == "python3.12"
    glibc = only(report, "glibc-too-new")
    assert glibc.details["newer_runtime"] == "python3.12"
    assert [n.details["runtime"] for n in report.notices] == ["python3.12"]
    assert run(package, runtime="python3.12").verdict == "pass"


def test_json_report_has_the_contract_fields(make_zip):
    package = make_zip({"bootstrap": elf_fixture("strlcpy_strtol-glibc2.38-x86_64")})
    data = run(package).to_json()
    assert data["verdict"] == "fail"
    assert data["runtime"]["id"] == "provided.al2023" and data["runtime"]["glibc"] == "2.34"
    artifact = data["artifacts"][0]
    assert artifact["path"] == package
    finding = next(f for f in artifact["findings"] if f["rule"] == "glibc-too-new")
    assert {"rule", "severity", "member", "message", "required", "available", "symbols"} <= set(finding)
    binary = artifact["binaries"][0]
    assert binary["member"] == "bootstrap"
    assert binary["machine"] == "x86_64"
    assert binary["interpreter"] == "/lib64/ld-linux-x86-64.so.2"
    assert binary["static"] is False
    assert binary["needed"] == ["libc.so.6"]
    assert binary["glibc_required"] == "2.38"


def test_several_artifacts_make_one_report_and_a_bad_one_does_not_stop_the_rest(make_zip, tmp_path):
    good = make_zip({"bootstrap": elf_fixture("hello-glibc2.34-x86_64")})
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    report = run([good, str(broken)])
    assert [a.path for a in report.artifacts] == [good, str(broken)]
    assert report.artifacts[0].binaries and not report.artifacts[0].findings
    assert "unreadable-archive" in {f.rule for f in report.artifacts[1].findings}


def test_unusable_arguments_raise_one_line_errors(make_zip):
    package = make_zip({"bootstrap": elf_fixture("hello-glibc2.34-x86_64")})
    with pytest.raises(UnknownRuntimeError, match="provided.al2023"):
        run(package, runtime="provided.al2024")
    with pytest.raises(UsageError):
        run(package, architecture="sparc")
    with pytest.raises(UsageError):
        run(package, glibc="two")
    with pytest.raises(UsageError):
        run("does/not/exist/*.zip")


def _sam_build_project(tmp_path):
    """A real .aws-sam/build: a Rust function on arm64 (al2023) and a Python one on x86_64."""
    import shutil
    from pathlib import Path

    build = tmp_path / ".aws-sam" / "build"
    build.mkdir(parents=True)
    shutil.copy(Path(__file__).parent / "fixtures" / "templates" / "sam-build" / "template.yaml", build)
    (build / "HelloRust").mkdir()
    rust = build / "HelloRust" / "bootstrap"
    rust.write_bytes(elf_fixture("strlcpy_strtol-glibc2.38-aarch64"))
    rust.chmod(0o755)
    (build / "PyWorker" / "mypkg").mkdir(parents=True)
    (build / "PyWorker" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (build / "PyWorker" / "mypkg" / "_speedups.cpython-311-x86_64-linux-gnu.so").write_bytes(
        elf_fixture("_speedups.cpython-312-x86_64-linux-gnu.so")
    )
    (build / "SharedLayer").mkdir()
    return build


def test_runtime_auto_gives_one_verdict_per_function_from_the_sam_build(tmp_path, monkeypatch):
    # GIVEN sam build output with two functions of different runtimes and architectures
    build = _sam_build_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    # WHEN the build folder is scanned with --runtime auto
    report = run(".aws-sam/build", runtime="auto", template_dirs=(str(tmp_path),))
    # THEN each function is judged against its own runtime and architecture
    by_function = {a.function: a for a in report.artifacts}
    assert set(by_function) == {"HelloRust", "PyWorker"}
    rust, python = by_function["HelloRust"], by_function["PyWorker"]
    assert (rust.runtime, rust.architecture) == ("provided.al2023", "arm64")
    assert (python.runtime, python.architecture) == ("python3.11", "x86_64")
    rust_finding = next(f for f in rust.findings if f.rule == "glibc-too-new")
    assert rust_finding.required == "2.38"
    # the SAM BuildMethod says cargo-lambda: the fix is a cargo lambda command for arm64 (musl:
    # the binary calls strlcpy, which no glibc 2.34 build can link)
    assert "cargo lambda build" in rust_finding.fixes[0].code
    assert "aarch64-unknown-linux-musl" in rust_finding.fixes[0].code
    python_finding = next(f for f in python.findings if f.rule == "glibc-too-new")
    assert (python_finding.required, python_finding.available) == ("2.28", "2.26")
    assert build.exists()


def test_runtime_auto_without_a_matching_function_says_so(make_zip, tmp_path):
    # (a package with a bootstrap at its root would be judged as provided.al2023: test_default_runtime.py)
    package = make_zip({"handler.py": b"def handler(event, context):\n    return 1\n"})
    report = run(package, runtime="auto", template_dirs=(str(tmp_path),))
    assert rules(report) == ["no-runtime"]
    assert report.verdict == "fail"


def test_runtime_auto_with_a_broken_template_is_a_one_line_error(make_zip, tmp_path):
    (tmp_path / "template.yaml").write_text("Resources:\n  Fn: [unclosed\n")
    package = make_zip({"bootstrap": elf_fixture("hello-glibc2.34-x86_64")})
    with pytest.raises(UsageError, match=r"template\.yaml:\d+"):
        run(package, runtime="auto", template_dirs=(str(tmp_path),))


def test_bootstrap_may_come_from_a_layer(make_zip):
    layer = make_zip({"bootstrap": elf_fixture("hello-glibc2.34-x86_64")}, name="runtime-layer.zip")
    package = make_zip({"handler.sh": (b"handler () { echo ok; }\n", REGULAR)})
    assert "bootstrap-missing" in rules(run(package))
    assert "bootstrap-missing" not in rules(run(package, layers=(layer,)))


def test_node_addon_is_attributed_to_its_npm_package_with_the_npm_fix(make_zip):
    # GIVEN a node_modules layout whose addon needs GLIBCXX_3.4.30
    package = make_zip(
        {
            "index.js": (b"exports.handler = async () => 1;\n", REGULAR),
            "node_modules/fastthing/package.json": (b'{"name": "fastthing", "version": "2.1.0"}', REGULAR),
            "node_modules/fastthing/build/Release/addon.node": elf_fixture("addon.node"),
        }
    )
    # WHEN judged for nodejs20.x (AL2023, GLIBCXX_3.4.29)
    finding = only(run(package, runtime="nodejs20.x"), "libstdcxx-too-new")
    # THEN the package is named and the fix is npm's
    assert finding.details["package"] == "fastthing 2.1.0 (npm)"
    assert finding.fixes[0].code == "npm install --os=linux --cpu=x64 --libc=glibc"


@pytest.mark.network
def test_real_manylinux_2_28_wheel_fails_on_python3_11_and_passes_on_python3_12(tmp_path):
    import subprocess
    import sys
    import zipfile

    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--platform",
            "manylinux_2_28_x86_64",
            "--python-version",
            "3.12",
            "--implementation",
            "cp",
            "-d",
            str(tmp_path),
            "cryptography",
        ],
        check=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("cryptography-*.whl"))
    package = tmp_path / "function.zip"
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(package, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
    failing = run(str(package), runtime="python3.11")
    finding = only(failing, "glibc-too-new")
    assert finding.details["package"].startswith("cryptography ")
    assert "manylinux_2_28" in finding.details["package"]
    assert run(str(package), runtime="python3.12").verdict == "pass"


def test_a_library_built_against_musl_is_named_as_such(make_zip):
    # GIVEN an executable whose DT_NEEDED names a musl C library (as a musllinux wheel's do)
    data = elf_fixture("needs_libssl3-x86_64").replace(b"libssl.so.3\0", b"libc.musl-1\0")
    report = run(make_zip({"bootstrap": data}), runtime="provided.al2023")
    finding = only(report, "missing-library")
    assert finding.severity == "error" and "musl" in finding.message


def test_object_files_are_not_judged_as_loadable(make_zip):
    # GIVEN an aarch64 relocatable object (e_type ET_REL) in an x86_64 package
    data = bytearray(elf_fixture("hello-glibc2.34-aarch64"))
    data[16:18] = (1).to_bytes(2, "little")
    report = run(make_zip({"bootstrap": elf_fixture("hello-glibc2.34-x86_64"), "obj/x.o": bytes(data)}))
    assert "arch-mismatch" not in rules(report)


@pytest.mark.parametrize(
    ("architecture", "fixture", "label"),
    [
        ("x86_64", "strtol-glibc2.39-x86_64", "ubuntu-22.04"),
        ("arm64", "strtol-glibc2.39-aarch64", "ubuntu-22.04-arm"),
    ],
)
def test_ubuntu_22_04_is_offered_for_a_glibc_2_35_target_with_its_dates(make_zip, architecture, fixture, label):
    # GIVEN a custom target whose glibc is exactly Ubuntu 22.04's
    report = run(make_zip({"bootstrap": elf_fixture(fixture)}), glibc="2.35", architecture=architecture)
    codes = [fix.code for fix in only(report, "glibc-too-new").fixes]
    runner = next(code for code in codes if code.startswith("runs-on:"))
    # THEN the runner of the function's architecture is offered, with its deprecation dates
    assert runner.startswith(f"runs-on: {label} ")
    assert "2026-09-17" in runner and "2027-04-17" in runner
    # AND never after GitHub drops it
    later = run(
        make_zip({"bootstrap": elf_fixture(fixture)}), glibc="2.35", architecture=architecture, today=date(2027, 5, 1)
    )
    assert not any(f.code.startswith("runs-on:") for f in only(later, "glibc-too-new").fixes)


def test_an_unreadable_zip_gets_no_extra_bootstrap_finding(tmp_path):
    broken = tmp_path / "function.zip"
    broken.write_bytes(b"PK\x03\x04 truncated")
    assert rules(run(str(broken))) == ["unreadable-archive"]


def _zip_of_zeros(path, name: str, size: int) -> str:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open(zipfile.ZipInfo(name), "w", force_zip64=True) as member:
            chunk = bytes(2**22)
            for _ in range(size // len(chunk)):
                member.write(chunk)
    return str(path)


def test_package_and_layers_together_over_250_mb_are_too_large(tmp_path):
    # GIVEN a package and a layer of 140 MB each unzipped: each fits, together they do not
    package = _zip_of_zeros(tmp_path / "function.zip", "data.bin", 140 * 2**20)
    layer = _zip_of_zeros(tmp_path / "layer.zip", "share/data.bin", 140 * 2**20)
    assert "package-too-large" not in rules(run(package, runtime="python3.12"))
    finding = only(run(package, runtime="python3.12", layers=(layer,)), "package-too-large")
    assert "layer" in finding.message and finding.details["unpacked_size"] == 280 * 2**20


def test_a_large_record_is_read_by_the_package_index_limit_not_refused(make_zip):
    # GIVEN a distribution whose RECORD is 5 MiB (torch's runs to megabytes), above the old 4 MiB cap
    record = "".join(f"foo/f{i:07d}.py,sha256=abcdefabcdefabcdefabcdefabcdefabcdefabcdef,123\n" for i in range(75_000))
    package = make_zip(
        {
            "foo-1.0.dist-info/RECORD": (record.encode(), REGULAR),
            "foo-1.0.dist-info/METADATA": (b"Name: foo\nVersion: 1.0\n", REGULAR),
            "foo/_x.cpython-312-x86_64-linux-gnu.so": elf_fixture("_speedups.cpython-312-x86_64-linux-gnu.so"),
        }
    )
    report = run(package, runtime="python3.12")
    # THEN no unsafe-archive finding, and the extension is still attributed to foo
    assert rules(report, "error") == []
    assert report.artifacts[0].binaries[0].package.startswith("foo 1.0")


def test_rust_std_weak_symbols_still_fail_say_why_and_a_relink_is_offered(make_zip):
    # GIVEN Rust std's weak statx / gettid bound to non-weak GLIBC_2.28 / 2.30 needs, on glibc 2.26
    report = run(make_zip({"bootstrap": elf_fixture("rust_hello-x86_64")}), runtime="provided.al2")
    finding = only(report, "glibc-too-new")
    # THEN the message says why a weak symbol fails (ld.so checks the version need) ...
    assert "are weak symbols, but the version need" in finding.message
    # ... and a relink against 2.26 is offered first: weak symbols need not exist to link
    assert finding.fixes[0].code.startswith("cargo lambda build --release --target x86_64-unknown-linux-gnu.2.26")


def test_the_deprecated_runtime_warning_is_given_once_per_runtime_not_per_artifact(make_zip):
    packages = [make_zip({"bootstrap": elf_fixture("hello-glibc2.26-x86_64")}) for _ in range(3)]
    report = run(packages, runtime="provided.al2")
    deprecated = [f for f in report.all_findings() if f.rule == "deprecated-runtime"]
    assert len(deprecated) == 1 and deprecated[0] in report.notices


def test_what_a_scan_needs_before_reading_imports_no_runtime_database():
    """The runtime database, YAML and the judging modules load while the artifacts are read
    (scan._plan_jobs beside the workers): importing the CLI and the scan and checking the
    options must not pull them in before (a fresh interpreter tells)."""
    import subprocess
    import sys

    code = (
        "import sys, lambda_glibc_gate.cli, lambda_glibc_gate.scan, lambda_glibc_gate.parallel\n"
        "from lambda_glibc_gate.options import ScanOptions, checked\n"
        "checked(ScanOptions(runtime='python3.12', architecture='aarch64'))\n"
        "heavy = ('yaml', 'lambda_glibc_gate.runtimes', 'lambda_glibc_gate.judge')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
