"""The template readers on real SAM / Serverless / CDK templates and real folder and zip artifacts."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_glibc_gate.templates import (
    ARCHITECTURES,
    MAX_ALIAS_EXPANSION,
    MAX_TEMPLATE_BYTES,
    FunctionTarget,
    TemplateError,
    find_templates,
    functions_by_artifact,
    functions_for_artifacts,
    load_functions,
    plan_artifacts,
)

FIXTURES = Path(__file__).parent / "fixtures" / "templates"
SAM = FIXTURES / "sam" / "template.yaml"
SAM_BUILD = FIXTURES / "sam-build" / "template.yaml"
SERVERLESS = FIXTURES / "serverless" / "serverless.yml"
CDK = FIXTURES / "cdk" / "cdk.out" / "GateStack.template.json"


def by_name(targets: list[FunctionTarget]) -> dict[str, FunctionTarget]:
    return {target.name: target for target in targets}


def line_of(path: Path, text: str, after: str | None = None) -> int:
    """1-based number of the first line equal to `text` (stripped), after the line `after`."""
    lines = path.read_text().splitlines()
    start = 0 if after is None else [line.strip() for line in lines].index(after) + 1
    return [line.strip() for line in lines].index(text, start) + 1


def beside(template: Path, relative: str) -> str:
    return os.path.normpath(os.path.join(str(template.parent), relative))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- SAM / CloudFormation --------------------------------------------------------------------


def test_sam_functions_with_globals_parameters_and_layers():
    functions = by_name(load_functions(str(SAM)))
    assert set(functions) == {"HelloRust", "PyWorker", "ImageFn"}

    rust = functions["HelloRust"]
    assert (rust.runtime, rust.architecture) == ("provided.al2023", "arm64")
    assert rust.artifact == beside(SAM, "rust/hello")
    assert rust.build_method == "rust-cargolambda"
    assert rust.framework == "sam"
    assert rust.line == line_of(SAM, "HelloRust:")
    # Globals' layer (a !Ref to the template's own LayerVersion) is kept, the !Sub ARN skipped
    assert rust.layers == (beside(SAM, "layers/shared"),)
    assert rust.note is None

    worker = functions["PyWorker"]
    # Runtime and Architectures come from Globals, through !Ref to parameter Defaults
    assert (worker.runtime, worker.architecture) == ("python3.11", "x86_64")
    assert worker.artifact == beside(SAM, "src/worker")
    assert worker.layers == (beside(SAM, "layers/shared"),)
    assert "PythonRuntime" in worker.note and "PythonArch" in worker.note
    assert worker.line == line_of(SAM, "PyWorker:")


def test_sam_image_function_has_no_runtime_and_says_why():
    image = by_name(load_functions(str(SAM)))["ImageFn"]
    assert image.runtime is None
    assert image.artifact is None
    assert image.layers == ()
    assert image.architecture == "arm64"
    assert "container image" in image.note


def test_sam_build_output_names_the_built_folders():
    functions = by_name(load_functions(str(SAM_BUILD)))
    assert functions["HelloRust"].artifact == beside(SAM_BUILD, "HelloRust")
    assert functions["PyWorker"].artifact == beside(SAM_BUILD, "PyWorker")
    assert functions["PyWorker"].layers == (beside(SAM_BUILD, "SharedLayer"),)
    assert functions["PyWorker"].runtime == "python3.11"
    assert functions["HelloRust"].architecture == "arm64"


@pytest.mark.parametrize(
    ("runtime_yaml", "expected"),
    [
        ("!Sub 'python${Minor}'", "python3.12"),
        ("!Sub ['python${M}', {M: !Ref Minor}]", "python3.12"),
        ("!Join ['', [python, !Ref Minor]]", "python3.12"),
        ("!FindInMap [Runtimes, Py, Latest]", "python3.13"),
        ("!FindInMap [SameEverywhere, !Ref 'AWS::Region', value]", "nodejs22.x"),
        ("!FindInMap [DiffersByRegion, !Ref 'AWS::Region', value]", None),
        ("!If [IsProd, python3.12, python3.11]", None),
        ("!Ref NoDefault", None),
        ("!ImportValue shared-runtime", None),
    ],
)
def test_runtime_expressions_resolve_only_from_the_template(tmp_path, runtime_yaml, expected):
    template = write(
        tmp_path / "template.yaml",
        f"""\
AWSTemplateFormatVersion: 2010-13-45  # not a date: still just a string to CloudFormation
Parameters:
  Minor: {{Type: String, Default: '3.12'}}
  NoDefault: {{Type: String}}
Mappings:
  Runtimes: {{Py: {{Latest: python3.13}}}}
  SameEverywhere: {{us-east-1: {{value: nodejs22.x}}, eu-west-1: {{value: nodejs22.x}}}}
  DiffersByRegion: {{us-east-1: {{value: nodejs22.x}}, cn-north-1: {{value: nodejs18.x}}}}
Conditions:
  IsProd: !Equals [prod, !Ref 'AWS::StackName']
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: code/
      Runtime: {runtime_yaml}
""",
    )
    (target,) = load_functions(str(template))
    assert target.runtime == expected
    if expected is None:
        assert "deploy time" in target.note


@pytest.mark.parametrize(
    ("global_arch", "local_arch", "expected"),
    [("[arm64]", None, "arm64"), ("[arm64]", "[x86_64]", "x86_64"), (None, None, "x86_64")],
)
def test_globals_architectures_merge(tmp_path, global_arch, local_arch, expected):
    globals_line = f"    Architectures: {global_arch}\n" if global_arch else ""
    local_line = f"      Architectures: {local_arch}\n" if local_arch else ""
    template = write(
        tmp_path / "template.yaml",
        "Globals:\n  Function:\n    Runtime: provided.al2\n" + globals_line + "Resources:\n"
        "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: out\n"
        + local_line,
    )
    (target,) = load_functions(str(template))
    assert target.architecture == expected
    assert target.runtime == "provided.al2"


def test_cloudformation_functions_code_locations(tmp_path):
    template = write(
        tmp_path / "infra" / "stack.yaml",
        """\
Resources:
  Packaged:            # `aws cloudformation package` input: Code is a local path
    Type: AWS::Lambda::Function
    Properties: {Runtime: provided.al2, Code: ../build/fn.zip, Architectures: [arm64]}
  InS3:
    Type: AWS::Lambda::Function
    Properties: {Runtime: python3.12, Code: {S3Bucket: b, S3Key: k.zip}}
  Inline:
    Type: AWS::Lambda::Function
    Properties: {Runtime: python3.12, Code: {ZipFile: "def handler(e, c): pass"}}
  NoCodeUri:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12}
  S3Uri:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, CodeUri: s3://bucket/code.zip}
  Weird: [not, a, resource]
  NotAFunction: {Type: AWS::S3::Bucket}
""",
    )
    functions = by_name(load_functions(str(template)))
    assert set(functions) == {"Packaged", "InS3", "Inline", "NoCodeUri", "S3Uri"}
    assert functions["Packaged"].artifact == os.path.normpath(str(tmp_path / "build" / "fn.zip"))
    assert functions["Packaged"].framework == "cloudformation"
    assert functions["Packaged"].architecture == "arm64"
    assert functions["InS3"].artifact is None and "S3" in functions["InS3"].note
    assert functions["Inline"].artifact is None and "inline" in functions["Inline"].note
    # SAM CLI reads a missing CodeUri as the template's own folder
    assert functions["NoCodeUri"].artifact == str(tmp_path / "infra")
    assert functions["S3Uri"].artifact is None


def test_unknown_architecture_is_noted_not_trusted(tmp_path):
    template = write(
        tmp_path / "template.yaml",
        "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n"
        "    Properties: {Runtime: python3.12, Code: x, Architectures: [aarch64]}\n",
    )
    (target,) = load_functions(str(template))
    assert target.architecture in ARCHITECTURES
    assert "aarch64" in target.note


# --- Serverless Framework -------------------------------------------------------------------


def test_serverless_functions_overrides_variables_and_layers():
    functions = by_name(load_functions(str(SERVERLESS)))
    assert set(functions) == {"hello", "worker", "fromEnv"}

    hello = functions["hello"]
    assert (hello.runtime, hello.architecture) == ("provided.al2023", "arm64")
    # ${self:custom.stage} -> ${opt:stage, 'dev'} -> its literal fallback
    assert hello.artifact == beside(SERVERLESS, "target/lambda/hello/bootstrap-dev.zip")
    assert hello.framework == "serverless"
    assert hello.line == line_of(SERVERLESS, "hello:", after="functions:")

    worker = functions["worker"]
    assert (worker.runtime, worker.architecture) == ("python3.11", "x86_64")
    # package.individually: true -> .serverless/<function>.zip
    assert worker.artifact == beside(SERVERLESS, ".serverless/worker.zip")
    assert worker.layers == (beside(SERVERLESS, "layers/shared"),)  # the ARN is skipped
    assert worker.line == line_of(SERVERLESS, "worker:")


def test_serverless_runtime_from_the_environment_is_unknown_not_guessed():
    from_env = by_name(load_functions(str(SERVERLESS)))["fromEnv"]
    assert from_env.runtime is None
    assert "${env:LAMBDA_RUNTIME}" in from_env.note


@pytest.mark.parametrize(
    ("package_yaml", "function_package_yaml", "expected"),
    [
        ("", "", ".serverless/svc.zip"),
        ("package: {path: out}\n", "", "out/svc.zip"),
        ("package: {artifact: dist/all.zip}\n", "", "dist/all.zip"),
        ("package: {individually: true}\n", "", ".serverless/api.zip"),
        (
            "package: {artifact: dist/all.zip}\n",
            "    package: {individually: true}\n",
            ".serverless/api.zip",
        ),
        ("", "    package: {artifact: own.zip}\n", "own.zip"),
    ],
)
def test_serverless_default_artifact_names(tmp_path, package_yaml, function_package_yaml, expected):
    template = write(
        tmp_path / "serverless.yml",
        "service: svc\nprovider: {name: aws, runtime: nodejs20.x}\n"
        + package_yaml
        + "functions:\n  api:\n    handler: h\n"
        + function_package_yaml,
    )
    (target,) = load_functions(str(template))
    assert target.artifact == os.path.normpath(str(tmp_path / expected))
    assert target.runtime == "nodejs20.x"


def test_serverless_other_cloud_and_images(tmp_path):
    other = write(
        tmp_path / "a" / "serverless.yml",
        "service: s\nprovider: {name: google}\nfunctions: {f: {handler: h}}\n",
    )
    assert load_functions(str(other)) == []
    image = write(
        tmp_path / "b" / "serverless.yml",
        "service: s\nprovider: {name: aws, architecture: arm64}\n"
        "functions: {f: {image: 123.dkr.ecr.us-east-1.amazonaws.com/x:latest}}\n",
    )
    (target,) = load_functions(str(image))
    assert (target.runtime, target.artifact, target.architecture) == (None, None, "arm64")
    assert "container image" in target.note


# --- CDK ------------------------------------------------------------------------------------


def test_cdk_functions_from_asset_metadata():
    functions = by_name(load_functions(str(CDK)))
    document = json.loads(CDK.read_text())
    resources = document["Resources"]

    hello = functions["HelloFn8E2A1F3B"]
    asset = resources["HelloFn8E2A1F3B"]["Metadata"]["aws:asset:path"]
    layer_asset = resources["SharedLayer3F5A1B2C"]["Metadata"]["aws:asset:path"]
    assert (hello.runtime, hello.architecture) == ("provided.al2023", "arm64")
    assert hello.artifact == beside(CDK, asset)
    assert hello.layers == (beside(CDK, layer_asset),)
    assert hello.framework == "cdk"
    # the logical id also names an output above Resources: the line is the definition's
    assert hello.line == line_of(CDK, '"HelloFn8E2A1F3B": {', after='"Resources": {')

    python = functions["PyFnD1C2B3A4"]
    assert (python.runtime, python.architecture) == ("python3.11", "x86_64")
    assert python.artifact == beside(CDK, resources["PyFnD1C2B3A4"]["Metadata"]["aws:asset:path"])

    # CDK's own provider function: runtime from a region map that has one value everywhere
    provider = functions["LogRetentionProvider9F1E2D3C"]
    assert provider.runtime == "nodejs20.x"
    assert provider.artifact is None


# --- finding templates ----------------------------------------------------------------------


def test_find_templates_prefers_sam_build_output(tmp_path):
    shutil.copy(SAM, tmp_path / "template.yaml")
    write(tmp_path / ".aws-sam" / "build" / "template.yaml", SAM_BUILD.read_text())
    shutil.copy(SERVERLESS, tmp_path / "serverless.yml")
    shutil.copytree(FIXTURES / "cdk" / "cdk.out", tmp_path / "cdk.out")
    write(tmp_path / "cdk.out" / "assembly-Prod" / "Prod-Stack.template.json", "{}")
    write(tmp_path / "unrelated.yaml", "a: 1\n")
    found = find_templates(str(tmp_path))
    assert found == [
        os.path.join(str(tmp_path), ".aws-sam", "build", "template.yaml"),
        os.path.join(str(tmp_path), "template.yaml"),
        os.path.join(str(tmp_path), "serverless.yml"),
        os.path.join(str(tmp_path), "cdk.out", "GateStack.template.json"),
        os.path.join(str(tmp_path), "cdk.out", "assembly-Prod", "Prod-Stack.template.json"),
    ]
    # a cloud assembly given directly is read too
    assert find_templates(str(tmp_path / "cdk.out"))[0].endswith("GateStack.template.json")
    assert find_templates(str(tmp_path / "nowhere")) == []


# --- artifact matching ----------------------------------------------------------------------


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder after `sam build` and `serverless package`, and a zip outside it."""
    write(tmp_path / "elsewhere" / "other.zip", "")
    tmp_path = tmp_path / "project"
    write(
        tmp_path / "template.yaml",
        # no CodeUri: the whole project folder is the code of this function
        "Resources:\n  Root:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: python3.9}\n",
    )
    build = tmp_path / ".aws-sam" / "build"
    write(build / "template.yaml", SAM_BUILD.read_text())
    write(build / "HelloRust" / "bootstrap", "\x7fELF")
    write(build / "PyWorker" / "app.py", "def handler(e, c): pass\n")
    shutil.copy(SERVERLESS, tmp_path / "serverless.yml")
    (tmp_path / "target" / "lambda" / "hello").mkdir(parents=True)
    with zipfile.ZipFile(tmp_path / "target" / "lambda" / "hello" / "bootstrap-dev.zip", "w") as z:
        z.writestr("bootstrap", "\x7fELF")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_folder_zip_and_file_inside_folder_match_their_functions(project):
    artifacts = [
        ".aws-sam/build/HelloRust",  # folder: the function's code exactly
        ".aws-sam/build/PyWorker/app.py",  # a file inside a function's folder
        "target/lambda/hello/bootstrap-dev.zip",  # zip named by serverless.yml
    ]
    matched = functions_for_artifacts(artifacts, ["."])
    assert set(matched) == set(artifacts)
    rust = matched[".aws-sam/build/HelloRust"]
    assert (rust.name, rust.runtime, rust.architecture) == ("HelloRust", "provided.al2023", "arm64")
    assert rust.template == os.path.join(".", ".aws-sam", "build", "template.yaml")
    worker = matched[".aws-sam/build/PyWorker/app.py"]
    assert (worker.name, worker.runtime) == ("PyWorker", "python3.11")
    hello = matched["target/lambda/hello/bootstrap-dev.zip"]
    assert (hello.name, hello.framework, hello.architecture) == ("hello", "serverless", "arm64")


def test_most_specific_function_wins_and_all_are_listed(project):
    # Root's code is the whole project, so it contains everything; the built folder is closer
    found = functions_by_artifact([".aws-sam/build/HelloRust/bootstrap"], ["."])
    names = [target.name for target in found[".aws-sam/build/HelloRust/bootstrap"]]
    assert names == ["HelloRust", "Root"]


def test_an_artifact_holding_several_functions_lists_each(project):
    found = functions_by_artifact([str(project / ".aws-sam" / "build")], [str(project)])
    names = {target.name for target in found[str(project / ".aws-sam" / "build")]}
    assert {"HelloRust", "PyWorker"} <= names


def test_plan_splits_a_build_folder_into_one_scan_per_function(project):
    plan = plan_artifacts([".aws-sam/build", "../elsewhere/other.zip"], ["."])
    planned = [(path, target.name if target else None) for path, target in plan]
    assert planned == [
        (os.path.join(".aws-sam", "build", "HelloRust"), "HelloRust"),
        (os.path.join(".aws-sam", "build", "PyWorker"), "PyWorker"),
        ("../elsewhere/other.zip", None),  # outside the project: no function
    ]
    runtimes = {target.name: target.runtime for _, target in plan if target}
    assert runtimes == {"HelloRust": "provided.al2023", "PyWorker": "python3.11"}


def test_plan_gives_a_shared_artifact_one_scan_per_runtime(tmp_path, monkeypatch):
    # without package.individually every function ships .serverless/<service>.zip
    write(
        tmp_path / "serverless.yml",
        "service: shop\nprovider: {name: aws, runtime: python3.12}\nfunctions:\n"
        "  api: {handler: a.h}\n  cron: {handler: c.h}\n"
        "  old: {handler: o.h, runtime: python3.9, architecture: arm64}\n",
    )
    with zipfile.ZipFile(write(tmp_path / ".serverless" / "shop.zip", ""), "w") as archive:
        archive.writestr("a.py", "")
    monkeypatch.chdir(tmp_path)
    plan = plan_artifacts([".serverless/shop.zip"], ["."])
    assert [(path, target.name, target.runtime, target.architecture) for path, target in plan] == [
        (".serverless/shop.zip", "api", "python3.12", "x86_64"),
        (".serverless/shop.zip", "old", "python3.9", "arm64"),
    ]


def test_plan_keeps_a_folder_whose_functions_are_not_built(tmp_path):
    write(tmp_path / "template.yaml", SAM_BUILD.read_text())  # names HelloRust/, PyWorker/
    (tmp_path / "empty").mkdir()
    assert plan_artifacts([str(tmp_path)], [str(tmp_path)]) == [(str(tmp_path), None)]


def test_unmatched_artifacts_are_absent(tmp_path):
    shutil.copy(SERVERLESS, tmp_path / "serverless.yml")
    write(tmp_path / "elsewhere" / "other.zip", "")
    artifact = str(tmp_path / "elsewhere" / "other.zip")
    assert functions_for_artifacts([artifact], [str(tmp_path)]) == {}
    assert functions_for_artifacts([artifact], []) == {}


def test_a_broken_template_in_a_search_dir_is_an_error(tmp_path):
    write(tmp_path / "template.yaml", "Resources: [\n")
    with pytest.raises(TemplateError, match="template.yaml:2: cannot parse"):
        functions_for_artifacts([str(tmp_path / "x.zip")], [str(tmp_path)])


# --- hostile and broken templates -----------------------------------------------------------


def test_broken_yaml_names_file_and_line(tmp_path):
    lines = [
        "Resources:",
        "  Fn:",
        "    Type: AWS::Lambda::Function",
        "    Properties:",
        "      Runtime: python3.12",
        "     Handler: bad-indent",
        "      Code: x",
    ]
    path = write(tmp_path / "template.yaml", "\n".join(lines) + "\n")
    with pytest.raises(TemplateError) as caught:
        load_functions(str(path))
    bad_line = lines.index("     Handler: bad-indent") + 1
    message = str(caught.value)
    assert message.startswith(f"{path}:{bad_line}: cannot parse: ")
    assert "\n" not in message


def test_broken_json_names_file_and_line(tmp_path):
    lines = [
        "{",
        '  "Resources": {',
        '    "Fn": {"Type": "AWS::Lambda::Function"}',
        '    "X": {}',
        "  }",
        "}",
    ]
    path = write(tmp_path / "Stack.template.json", "\n".join(lines) + "\n")
    with pytest.raises(TemplateError) as caught:
        load_functions(str(path))
    missing_comma_line = lines.index('    "X": {}') + 1
    assert str(caught.value).startswith(f"{path}:{missing_comma_line}: cannot parse: ")


def test_alias_bomb_is_refused(tmp_path):
    # billion laughs: nine levels of ten aliases each expand to 10**9 nodes
    levels = ['a0: &a0 ["lol"]']
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    path = write(tmp_path / "template.yaml", "\n".join(levels) + "\nResources: *a9\n")
    with pytest.raises(TemplateError, match=f"more than {MAX_ALIAS_EXPANSION} nodes"):
        load_functions(str(path))


def test_merge_key_bomb_and_self_alias_are_refused(tmp_path):
    merges = ["m0: &m0 {k: v}"]
    merges += [f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 10)}]}}" for i in range(1, 9)]
    path = write(tmp_path / "serverless.yml", "\n".join(merges) + "\n")
    with pytest.raises(TemplateError, match="aliases expand"):
        load_functions(str(path))
    path = write(tmp_path / "template.yaml", "Resources: &r\n  Loop: *r\n")
    with pytest.raises(TemplateError, match="template.yaml:1: cannot parse: an alias refers"):
        load_functions(str(path))


def test_modest_aliases_are_fine(tmp_path):
    path = write(
        tmp_path / "serverless.yml",
        "service: s\nprovider: {name: aws}\ncustom:\n  base: &base {runtime: python3.12}\n"
        "functions:\n  a: {<<: *base, handler: h}\n"
        "  b: {<<: *base, handler: h, runtime: ruby3.3}\n",
    )
    functions = by_name(load_functions(str(path)))
    assert (functions["a"].runtime, functions["b"].runtime) == ("python3.12", "ruby3.3")
    assert functions["b"].line == 7


def test_python_tags_are_refused_and_never_run(tmp_path):
    victim = tmp_path / "created-by-yaml"
    path = write(
        tmp_path / "template.yaml",
        f"Resources: !!python/object/apply:os.mkdir [{json.dumps(str(victim))}]\n",
    )
    with pytest.raises(TemplateError, match="template.yaml:1: cannot parse"):
        load_functions(str(path))
    assert not victim.exists()


def test_oversized_template_is_refused(tmp_path):
    path = tmp_path / "template.yaml"
    with open(path, "wb") as handle:
        handle.truncate(MAX_TEMPLATE_BYTES + 1)
    with pytest.raises(TemplateError, match="larger than CloudFormation's 1 MB limit"):
        load_functions(str(path))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "template.yaml:1: cannot parse: the document is empty"),
        (b"- just\n- a list\n", "template.yaml:1: cannot parse: the document is a list"),
        (b"Resources: {}\nDescription: caf\xe9\n", "template.yaml:2: cannot parse: not UTF-8"),
        (b"a: 1\n---\nb: 2\n", "template.yaml:2: cannot parse:"),
        (b"[" * 1000, "template.yaml:1: cannot parse: nested too deeply"),
        (b"Resources: {}\nA: !!int xyz\n", "template.yaml:2: cannot parse:"),
        (b"Resources: {}\n\nB: !!bool maybe\n", "template.yaml:3: cannot parse:"),
    ],
    ids=["empty", "list", "latin-1", "two-documents", "deep-nesting", "bad-int", "bad-bool"],
)
def test_not_a_template(tmp_path, content, expected):
    path = tmp_path / "template.yaml"
    path.write_bytes(content)
    with pytest.raises(TemplateError) as caught:
        load_functions(str(path))
    assert str(caught.value).startswith(str(tmp_path / expected))


def test_missing_or_directory_template(tmp_path):
    with pytest.raises(TemplateError, match="cannot read"):
        load_functions(str(tmp_path / "absent.yaml"))
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(TemplateError, match="not a regular file"):
        load_functions(str(tmp_path / "dir.yaml"))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "Type",
                    "Properties",
                    "Runtime",
                    "CodeUri",
                    "Code",
                    "Layers",
                    "Architectures",
                    "Ref",
                    "Fn::Sub",
                    "Metadata",
                    "PackageType",
                    "functions",
                    "provider",
                    "package",
                    "runtime",
                    "artifact",
                    "image",
                    "Globals",
                    "Function",
                    "Parameters",
                    "Default",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(
    max_examples=60,
    deadline=None,
    database=None,  # write nothing outside tmp folders
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    resources=st.dictionaries(st.text(min_size=1, max_size=6), json_values, max_size=4),
    top=json_values,
    kind=st.sampled_from(["template.yaml", "serverless.yml", "Stack.template.json"]),
)
def test_any_structure_gives_targets_or_a_template_error(tmp_path, resources, top, kind):
    key = "functions" if kind == "serverless.yml" else "Resources"
    document = {key: resources, "Globals": top, "provider": top, "service": top}
    path = tmp_path / kind
    path.write_text(json.dumps(document) if kind.endswith(".json") else yaml.safe_dump(document))
    try:
        targets = load_functions(str(path))
    except TemplateError as error:
        assert "\n" not in str(error)
        return
    for target in targets:
        assert target.architecture in ARCHITECTURES
        assert target.runtime is None or isinstance(target.runtime, str)


@settings(
    max_examples=100,
    deadline=None,
    database=None,  # write nothing outside tmp folders
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    text=st.text(max_size=200)
    # mostly YAML punctuation, tags, anchors and template words, to reach the constructors
    | st.lists(
        st.sampled_from(
            list(":-[]{}!&*<>|'\",#\n ")
            + [
                "!!int ",
                "!!bool ",
                "!!timestamp ",
                "!Ref ",
                "!Sub ",
                "&a ",
                "*a ",
                "<<: ",
                "Resources",
                "Globals",
                "Function",
                "Type",
                "Properties",
                "AWS::Serverless::Function",
                "AWS::Lambda::Function",
                "Runtime",
                "CodeUri",
                "1",
                "2024-02-30",
                "${self:a}",
                "service",
                "provider",
                "functions",
            ]
        ),
        max_size=60,
    ).map("".join),
    name=st.sampled_from(["template.yaml", "serverless.yml"]),
)
def test_any_text_gives_targets_or_a_template_error(tmp_path, text, name):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_functions(str(path))
    except TemplateError as error:
        assert str(error).startswith(str(path))
        assert "\n" not in str(error)
