"""With no runtime given, each artifact is judged by the runtime its project declares: the
templates first, provided.al2023 only for an unclaimed package with a bootstrap at its root,
and otherwise one clear error naming the setting. No false red for a SAM Python function."""

from __future__ import annotations

import os
from datetime import date

from helpers import elf_fixture

from lambda_glibc_gate.cli import main
from lambda_glibc_gate.scan import ScanOptions, scan

TODAY = date(2026, 11, 27)
BUILT_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  PyFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: PyFn
      Handler: app.handler
      Runtime: python3.11
  RustFn:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
    Properties:
      CodeUri: RustFn
      Handler: bootstrap
      Runtime: provided.al2023
"""


def sam_project(root, rust_fixture="hello-glibc2.34-x86_64"):
    """What `sam build` leaves: .aws-sam/build/template.yaml naming one folder per function."""
    build = root / ".aws-sam" / "build"
    (build / "PyFn").mkdir(parents=True)
    (build / "RustFn").mkdir()
    (build / "template.yaml").write_text(BUILT_TEMPLATE)
    (build / "PyFn" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    bootstrap = build / "RustFn" / "bootstrap"
    bootstrap.write_bytes(elf_fixture(rust_fixture))
    bootstrap.chmod(0o755)
    return build


def test_a_sam_project_with_a_python_function_passes_with_default_options(tmp_path):
    # GIVEN a SAM build with a Python and a Rust function, both fine
    build = sam_project(tmp_path)
    # WHEN it is scanned with the defaults (as the Action's default artifacts find it)
    report = scan(
        [str(build / "PyFn"), str(build / "RustFn")],
        ScanOptions(runtime="auto", template_dirs=(str(tmp_path),), today=TODAY),
    )
    # THEN each function is judged by its own runtime, and nothing cries wolf
    assert {a.path.rsplit("/", 1)[-1]: a.runtime for a in report.artifacts} == {
        "PyFn": "python3.11",
        "RustFn": "provided.al2023",
    }
    assert report.verdict == "pass", [f.message for f in report.all_findings()]


def test_the_same_project_still_fails_when_its_bootstrap_does(tmp_path):
    build = sam_project(tmp_path, rust_fixture="strlcpy_strtol-glibc2.38-x86_64")
    report = scan([str(build / "RustFn")], ScanOptions(runtime="auto", template_dirs=(str(tmp_path),), today=TODAY))
    assert [f.rule for f in report.all_findings() if f.severity == "error"] == ["glibc-too-new"]


def test_an_unclaimed_package_with_a_bootstrap_is_judged_as_provided_al2023(make_zip, tmp_path):
    # GIVEN a cargo-lambda zip and no template anywhere
    package = make_zip({"bootstrap": elf_fixture("strlcpy_strtol-glibc2.38-x86_64")})
    report = scan([package], ScanOptions(runtime="auto", template_dirs=(str(tmp_path),), today=TODAY))
    # THEN it is judged as a custom runtime, and the report says it assumed so
    (artifact,) = report.artifacts
    assert artifact.runtime == "provided.al2023"
    assert [f.rule for f in artifact.findings] == ["runtime-assumed", "glibc-too-new"]


def test_an_unclaimed_package_without_a_bootstrap_names_the_setting(make_zip, tmp_path):
    package = make_zip({"app.py": b"def handler(e, c):\n    pass\n"})
    report = scan([package], ScanOptions(runtime="auto", template_dirs=(str(tmp_path),), today=TODAY))
    (finding,) = report.all_findings()
    assert finding.rule == "no-runtime" and "`runtime` input" in finding.message and "--runtime" in finding.message


def test_the_cli_without_runtime_reads_the_templates_in_the_current_folder(tmp_path, capsys):
    build = sam_project(tmp_path)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        code = main(["scan", ".aws-sam/build/PyFn", ".aws-sam/build/RustFn"])
    finally:
        os.chdir(cwd)
    assert code == 0, capsys.readouterr().out
    assert build.exists()
