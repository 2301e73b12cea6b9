"""--runtime auto on more project shapes: Serverless's resolved package template, Terraform's
`terraform show -json`, and SAM nested applications.

The fixtures follow each tool's documented output:
- Serverless: `serverless package` writes the deployment artifacts and the resolved CloudFormation
  template into `.serverless` (https://www.serverless.com/framework/docs/providers/aws/cli-reference/package,
  https://www.serverless.com/framework/docs/providers/aws/guide/packaging); each function's
  Code.S3Key is `serverless/<service>/<stage>/<timestamp>-<date>/<zip>` (serverless/serverless
  lib/plugins/aws/package/compile/functions.js).
- Terraform: the JSON Output Format (https://developer.hashicorp.com/terraform/internals/json-format):
  `planned_values.root_module` (plan) / `values.root_module` (state), `resources`, `child_modules`,
  `format_version` 1.x; `terraform show -json` (https://developer.hashicorp.com/terraform/cli/commands/show).
- SAM: nested applications from the local file system
  (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-template-nested-applications.html)
  and what `sam build` writes for them (aws/aws-sam-cli#2531, #2662: `.aws-sam/build/<AppId>/template.yaml`
  with the nested functions' built folders beside it).
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

import pytest
from helpers import elf_fixture, write_zip
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_glibc_gate import templates
from lambda_glibc_gate.scan import ScanOptions, scan
from lambda_glibc_gate.templates import (
    TemplateError,
    find_templates,
    load_functions,
    plan_artifacts,
)

FIXTURES = Path(__file__).parent / "fixtures" / "templates"
SLS_PACKAGE = FIXTURES / "serverless-package"
RESOLVED = SLS_PACKAGE / ".serverless" / "cloudformation-template-update-stack.json"
TERRAFORM = FIXTURES / "terraform"
NESTED = FIXTURES / "sam-nested"
TODAY = date(2026, 11, 27)


def by_name(targets):
    return {target.name: target for target in targets}


def line_of(path: Path, text: str) -> int:
    return [line.strip() for line in path.read_text().splitlines()].index(text) + 1


def copy(fixture: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(fixture, tmp_path / fixture.name))


def auto(paths, project: Path, **options):
    options = ScanOptions(runtime="auto", template_dirs=(str(project),), today=TODAY, **options)
    return scan([str(p) for p in paths], options)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- Serverless: the resolved template of `serverless package` -------------------------------


def test_resolved_template_settles_what_serverless_yml_leaves_to_deploy_time():
    (api,) = load_functions(str(RESOLVED))
    assert api.name == "ApiLambdaFunction"
    assert api.runtime == "python3.12" and api.architecture == "x86_64"
    # S3Key serverless/orders/dev/<timestamp>-<date>/orders.zip -> the zip in .serverless
    assert api.artifact == str(SLS_PACKAGE / ".serverless" / "orders.zip")
    assert api.layers == (str(SLS_PACKAGE / ".serverless" / "deps.zip"),)
    assert api.framework == "serverless" and api.note is None
    assert api.line == line_of(RESOLVED, '"ApiLambdaFunction": {')


def test_the_resolved_template_is_read_instead_of_serverless_yml(tmp_path):
    assert find_templates(str(SLS_PACKAGE)) == [str(RESOLVED)]
    # without a package run, serverless.yml is all there is: the runtime stays unknown
    project = copy(SLS_PACKAGE, tmp_path)
    shutil.rmtree(project / ".serverless")
    assert find_templates(str(project)) == [str(project / "serverless.yml")]
    (api,) = load_functions(str(project / "serverless.yml"))
    assert api.runtime is None and "${env:RUNTIME}" in api.note


def test_a_serverless_project_packaged_with_an_env_runtime_is_judged_as_python312(tmp_path):
    # GIVEN serverless.yml says runtime: ${env:RUNTIME}, and the package run resolved python3.12
    project = copy(SLS_PACKAGE, tmp_path)
    package = write_zip(
        project / ".serverless" / "orders.zip",
        {
            "handler.py": b"def api(event, context):\n    return 1\n",
            "speedups/_speedups.cpython-312-x86_64-linux-gnu.so": elf_fixture(
                "_speedups.cpython-312-x86_64-linux-gnu.so"
            ),
        },
    )
    # WHEN the zip is scanned with the default runtime
    report = auto([package], project)
    # THEN it is judged as the resolved template's function, on python3.12
    (artifact,) = report.artifacts
    assert (artifact.runtime, artifact.architecture) == ("python3.12", "x86_64")
    assert artifact.function == "ApiLambdaFunction"
    assert artifact.template == str(project / ".serverless" / "cloudformation-template-update-stack.json")
    assert report.verdict == "pass", [f.message for f in report.all_findings()]


def test_a_custom_package_artifact_keeps_its_path_from_serverless_yml(tmp_path):
    # package.artifact: the S3Key names only the zip's file name, the zip stays where it was built
    project = copy(SLS_PACKAGE, tmp_path)
    text = (project / "serverless.yml").read_text()
    own_artifact = "    handler: handler.api\n    package:\n      artifact: dist/orders.zip\n"
    (project / "serverless.yml").write_text(text.replace("    handler: handler.api\n", own_artifact))
    (api,) = load_functions(str(project / ".serverless" / RESOLVED.name))
    assert api.artifact == str(project / "dist" / "orders.zip") and api.runtime == "python3.12"
    # once the zip is in .serverless (the default), that one is used
    write_zip(project / ".serverless" / "orders.zip", {"handler.py": b""})
    (api,) = load_functions(str(project / ".serverless" / RESOLVED.name))
    assert api.artifact == str(project / ".serverless" / "orders.zip")


@pytest.mark.parametrize("key", ["serverless/orders/dev/1/..", "serverless/orders/dev/1/", "a\\..\\b.zip", 7])
def test_an_odd_s3_key_names_no_file(tmp_path, key):
    document = json.loads(RESOLVED.read_text())
    document["Resources"]["ApiLambdaFunction"]["Properties"]["Code"]["S3Key"] = key
    path = write(tmp_path / ".serverless" / RESOLVED.name, json.dumps(document))
    (api,) = load_functions(str(path))
    assert api.artifact is None and "S3" in api.note


# --- Terraform: `terraform show -json` --------------------------------------------------------


def test_terraform_plan_functions_in_a_module():
    targets = by_name(load_functions(str(TERRAFORM / "plan.json")))
    api = targets["module.functions.aws_lambda_function.api"]
    worker = targets["module.functions.aws_lambda_function.worker"]
    assert (api.runtime, api.architecture, api.artifact) == (
        "python3.11", "x86_64", str(TERRAFORM / "build" / "api.zip"),
    )
    assert (worker.runtime, worker.architecture, worker.artifact) == (
        "provided.al2023", "arm64", str(TERRAFORM / "build" / "worker.zip"),
    )
    assert {api.framework, worker.framework} == {"terraform"}
    plan = TERRAFORM / "plan.json"
    assert api.line == line_of(plan, '"address": "module.functions.aws_lambda_function.api",')
    assert api.note is None and worker.note is None


def test_terraform_json_names_and_a_file_given_as_the_template_dir(tmp_path):
    for name in ("plan.json", "tfplan.json", "terraform.json", "prod.tfplan.json"):
        write(tmp_path / name, "{}")
    write(tmp_path / "other.json", "{}")
    assert [os.path.basename(p) for p in find_templates(str(tmp_path))] == [
        "plan.json", "tfplan.json", "terraform.json", "prod.tfplan.json",
    ]
    given = str(tmp_path / "other.json")
    assert find_templates(given) == [given]
    # a plan.json of another tool is no template, and no error
    write(tmp_path / "plan.json", '{"tasks": []}')
    assert load_functions(str(tmp_path / "plan.json")) == []


def test_terraform_plan_two_zips_each_judged_with_its_runtime_and_architecture(tmp_path):
    # GIVEN a plan with an x86_64 python3.11 zip and an arm64 provided.al2023 zip in a module
    project = copy(TERRAFORM, tmp_path)
    (project / "build").mkdir()
    api = write_zip(project / "build" / "api.zip", {"app.py": b"def handler(e, c):\n    return 1\n"})
    worker = write_zip(project / "build" / "worker.zip", {"bootstrap": elf_fixture("hello-glibc2.34-aarch64")})
    # WHEN both are scanned with the default runtime
    report = auto([api, worker], project)
    # THEN each is judged as its own function: an arm64 bootstrap on arm64 is fine
    judged = {os.path.basename(a.path): (a.runtime, a.architecture, a.function) for a in report.artifacts}
    assert judged == {
        "api.zip": ("python3.11", "x86_64", "module.functions.aws_lambda_function.api"),
        "worker.zip": ("provided.al2023", "arm64", "module.functions.aws_lambda_function.worker"),
    }
    assert report.verdict == "pass", [f.message for f in report.all_findings()]
    # AND a bootstrap too new for AL2023's glibc 2.34 fails, on arm64
    write_zip(project / "build" / "worker.zip", {"bootstrap": elf_fixture("arc4random-glibc2.36-aarch64")})
    report = auto([worker], project)
    assert [f.rule for f in report.all_findings() if f.severity == "error"] == ["glibc-too-new"]


def state(*resources, child_resources=()) -> str:
    """A `terraform show -json` of a state: values.root_module, modules under child_modules."""
    module = {"resources": list(resources)}
    if child_resources:
        module["child_modules"] = [{"address": "module.inner", "resources": list(child_resources)}]
    return json.dumps({"format_version": "1.0", "terraform_version": "1.9.8", "values": {"root_module": module}})


def resource(kind: str, name: str, **values) -> dict:
    return {"address": f"{kind}.{name}", "mode": "managed", "type": kind, "name": name, "values": values}


def test_terraform_state_layers_s3_objects_images_and_unknowns(tmp_path):
    layer_arn = "arn:aws:lambda:eu-west-1:012345678901:layer:deps:3"
    text = state(
        resource("aws_lambda_layer_version", "deps", arn=layer_arn, filename="build/deps.zip"),
        resource("aws_s3_object", "code", bucket="artifacts", key="fn/s3.zip", source="build/s3.zip"),
        resource("aws_lambda_function", "with_layer", runtime="nodejs20.x", filename="build/fn.zip",
                 layers=[layer_arn, "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertools:1"]),
        resource("aws_lambda_function", "from_s3", runtime="python3.12", s3_bucket="artifacts", s3_key="fn/s3.zip"),
        resource("aws_lambda_function", "elsewhere", runtime="python3.12", s3_bucket="b", s3_key="nowhere.zip"),
        resource("aws_lambda_function", "image", package_type="Image", image_uri="1.dkr.ecr/x:1"),
        {"address": "data.aws_lambda_function.read", "mode": "data", "type": "aws_lambda_function",
         "name": "read", "values": {"runtime": "python3.9", "filename": "x.zip"}},
        child_resources=[resource("aws_lambda_function", "unknown", filename="build/u.zip", architectures=["sparc"])],
    )
    targets = by_name(load_functions(str(write(tmp_path / "terraform.json", text))))
    assert set(targets) == {
        "aws_lambda_function.with_layer", "aws_lambda_function.from_s3", "aws_lambda_function.elsewhere",
        "aws_lambda_function.image", "aws_lambda_function.unknown",
    }  # the data source is not a function of this project
    with_layer = targets["aws_lambda_function.with_layer"]
    assert with_layer.layers == (str(tmp_path / "build" / "deps.zip"),)  # the ARN of another account: skipped
    assert targets["aws_lambda_function.from_s3"].artifact == str(tmp_path / "build" / "s3.zip")
    assert targets["aws_lambda_function.elsewhere"].artifact is None
    assert "S3" in targets["aws_lambda_function.elsewhere"].note
    image = targets["aws_lambda_function.image"]
    assert image.runtime is None and image.artifact is None and "container image" in image.note
    unknown = targets["aws_lambda_function.unknown"]
    assert unknown.runtime is None and "no runtime" in unknown.note
    assert unknown.architecture == "x86_64" and "'sparc'" in unknown.note


@pytest.mark.parametrize("filename", ["../outside/fn.zip", "/etc/fn.zip", "build/../../fn.zip"])
def test_terraform_paths_out_of_the_project_are_a_note(tmp_path, filename):
    project = tmp_path / "project"
    text = state(resource("aws_lambda_function", "fn", runtime="python3.12", filename=filename))
    (fn,) = load_functions(str(write(project / "plan.json", text)), str(project))
    assert fn.artifact is None and "outside the project folder" in fn.note


def test_terraform_symlink_out_of_the_project_is_a_note(tmp_path):
    project = tmp_path / "project"
    (tmp_path / "elsewhere").mkdir()
    project.mkdir()
    (project / "build").symlink_to(tmp_path / "elsewhere")
    text = state(resource("aws_lambda_function", "fn", runtime="python3.12", filename="build/fn.zip"))
    (fn,) = load_functions(str(write(project / "plan.json", text)))
    assert fn.artifact is None and "outside the project folder" in fn.note


def test_terraform_budgets_and_versions(tmp_path, monkeypatch):
    path = write(tmp_path / "plan.json", json.dumps({"format_version": "2.0", "values": {}}))
    with pytest.raises(TemplateError, match="format_version '2.0' is not 1.x"):
        load_functions(str(path))
    many = [resource("aws_s3_bucket", f"b{i}") for i in range(20)]
    path = write(tmp_path / "plan.json", state(*many, child_resources=many))
    monkeypatch.setattr(templates.terraform, "MAX_TERRAFORM_RESOURCES", 30)  # where it is read
    with pytest.raises(TemplateError, match="more than 30 Terraform resources"):
        load_functions(str(path))
    # a long runtime or architecture is cut in the note, never passed on whole
    monkeypatch.undo()
    path = write(tmp_path / "plan.json", state(resource("aws_lambda_function", "fn", runtime="x" * 5000,
                                                        architectures=["y" * 5000], filename="fn.zip")))
    (fn,) = load_functions(str(path))
    assert fn.runtime is None and fn.architecture == "x86_64" and len(fn.note) < 500


def test_json_size_caps(tmp_path):
    big = tmp_path / "plan.json"
    with open(big, "wb") as handle:
        handle.truncate(templates.MAX_TERRAFORM_JSON_BYTES + 1)
    with pytest.raises(TemplateError, match="8 MB read for a Terraform JSON"):
        load_functions(str(big))
    # a CDK template keeps CloudFormation's 1 MB, before and after it is parsed
    cdk = tmp_path / "Stack.template.json"
    with open(cdk, "wb") as handle:
        handle.truncate(templates.MAX_TEMPLATE_BYTES + 1)
    with pytest.raises(TemplateError, match="CloudFormation's 1 MB limit"):
        load_functions(str(cdk))
    stack = write(tmp_path / "stack.json", json.dumps({"Resources": {}, "Description": "x" * (2 << 20)}))
    with pytest.raises(TemplateError, match="CloudFormation's 1 MB limit"):
        load_functions(str(stack))

    # objects and arrays are counted before they are built: Python makes each 20-60 bytes
    bomb = write(tmp_path / "tfplan.json", '{"format_version": "1.2", "values": {"x": [' + "[]," * 500_000 + "[]]}}")
    with pytest.raises(TemplateError, match="more than 400000 JSON objects and arrays"):
        load_functions(str(bomb))


# --- SAM nested applications ------------------------------------------------------------------


def test_sam_build_nested_application_functions_get_their_runtime():
    build = NESTED / ".aws-sam" / "build"
    targets = by_name(load_functions(str(build / "template.yaml")))
    assert set(targets) == {"ApiFunction", "ProcessFunction"}  # the published app is not local
    process = targets["ProcessFunction"]
    assert process.template == str(build / "Orders" / "template.yaml")
    assert process.artifact == str(build / "Orders" / "ProcessFunction")
    assert (process.runtime, process.architecture, process.build_method) == (
        "provided.al2023", "arm64", "rust-cargolambda",
    )


def test_source_template_nested_application_is_read_from_its_location():
    targets = by_name(load_functions(str(NESTED / "template.yaml")))
    assert targets["ProcessFunction"].artifact == str(NESTED / "orders" / "process")
    assert targets["ProcessFunction"].runtime == "provided.al2023"


def test_a_sam_nested_app_built_folder_is_judged_with_its_runtime(tmp_path):
    # GIVEN `sam build` output whose nested application has an arm64 Rust function
    project = copy(NESTED, tmp_path)
    built = project / ".aws-sam" / "build" / "Orders" / "ProcessFunction"
    (built / "bootstrap").write_bytes(elf_fixture("arc4random-glibc2.36-aarch64"))
    (built / "bootstrap").chmod(0o755)
    # WHEN its built folder is scanned with the default runtime
    report = auto([built], project)
    # THEN it is judged on provided.al2023 arm64 (glibc 2.34): GLIBC_2.36 is too new
    (artifact,) = report.artifacts
    judged = (artifact.runtime, artifact.architecture, artifact.function)
    assert judged == ("provided.al2023", "arm64", "ProcessFunction")
    assert [f.rule for f in artifact.findings if f.severity == "error"] == ["glibc-too-new"]
    # AND the whole build folder is one scan per function, each with its runtime
    plan = plan_artifacts([str(project / ".aws-sam" / "build")], [str(project)])
    assert sorted((os.path.basename(path), t.runtime) for path, t in plan) == [
        ("ApiFunction", "python3.12"), ("ProcessFunction", "provided.al2023"),
    ]


NESTING_PARENT = """\
Resources:
  Child:
    Type: {kind}
    Properties:
      {field}: {location}
"""
CHILD = """\
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn
      Runtime: python3.12
"""


@pytest.mark.parametrize(
    ("kind", "field"),
    [("AWS::Serverless::Application", "Location"), ("AWS::CloudFormation::Stack", "TemplateURL")],
)
def test_nested_templates_outside_the_project_are_a_note_and_never_read(tmp_path, kind, field):
    write(tmp_path / "outside" / "template.yaml", "{ this is not: yaml: at all")
    for location in ("../outside/template.yaml", str(tmp_path / "outside" / "template.yaml")):
        text = NESTING_PARENT.format(kind=kind, field=field, location=location)
        path = write(tmp_path / "project" / "template.yaml", text)
        (child,) = load_functions(str(path))
        assert child.name == "Child" and child.artifact is None and "outside the project folder" in child.note


def test_nested_template_beside_the_built_parent_and_missing_ones(tmp_path):
    # a built parent whose Location still names the source path: <AppId>/template.yaml beside it
    parent = write(tmp_path / "template.yaml", NESTING_PARENT.format(kind="AWS::Serverless::Application",
                                                                   field="Location", location="src/child.yaml"))
    write(tmp_path / "Child" / "template.yaml", CHILD)
    (fn,) = load_functions(str(parent))
    assert fn.artifact == str(tmp_path / "Child" / "fn") and fn.runtime == "python3.12"
    shutil.rmtree(tmp_path / "Child")
    (child,) = load_functions(str(parent))
    assert child.artifact is None and "not a file here" in child.note


def test_nesting_cycles_depth_and_count_are_bounded(tmp_path, monkeypatch):
    # a template that names itself is read once
    itself = write(tmp_path / "self" / "template.yaml", CHILD + NESTING_PARENT.format(
        kind="AWS::Serverless::Application", field="Location", location="template.yaml").replace("Resources:\n", ""))
    names = [t.name for t in load_functions(str(itself))]
    assert names == ["Fn", "Child"]
    # a chain deeper than MAX_NESTED_DEPTH stops with a note
    deep = tmp_path / "deep"
    for level in range(10):
        write(deep / f"t{level}.yaml", NESTING_PARENT.format(kind="AWS::Serverless::Application",
                                                            field="Location", location=f"t{level + 1}.yaml"))
    write(deep / "t10.yaml", CHILD)
    loaded = load_functions(str(deep / "t0.yaml"))
    assert [t.name for t in loaded] == ["Child"] and "levels deep" in loaded[0].note
    # more nested applications than MAX_NESTED_TEMPLATES: the rest are a note
    monkeypatch.setattr(templates.nested, "MAX_NESTED_TEMPLATES", 2)  # where it is read
    apps = "".join(
        f"  App{i}:\n    Type: AWS::Serverless::Application\n    Properties:\n      Location: child.yaml\n"
        for i in range(3)
    )
    write(tmp_path / "many" / "child.yaml", CHILD)
    loaded = load_functions(str(write(tmp_path / "many" / "template.yaml", "Resources:\n" + apps)))
    assert [t.name for t in loaded] == ["Fn", "Fn", "App2"] and "more than 2 nested" in loaded[2].note


def test_a_terraform_json_of_any_name_given_as_the_template_dir(tmp_path):
    # GIVEN `terraform show -json plan.out > infra/prod-plan.json`, named on the command line
    project = copy(TERRAFORM, tmp_path)
    given = project / "prod-plan.json"
    (project / "plan.json").rename(given)
    (project / "build").mkdir()
    worker = write_zip(project / "build" / "worker.zip", {"bootstrap": elf_fixture("hello-glibc2.34-aarch64")})
    # WHEN the file is the template dir
    report = auto([worker], given)
    # THEN its functions are matched, paths relative to its folder
    (artifact,) = report.artifacts
    assert (artifact.runtime, artifact.architecture) == ("provided.al2023", "arm64")
    assert report.verdict == "pass"


def test_the_serverless_package_folder_alone_and_a_config_that_is_not_yaml(tmp_path):
    # serverless.ts cannot be read, its resolved template can; and .serverless given as the folder
    project = copy(SLS_PACKAGE, tmp_path)
    (project / "serverless.yml").rename(project / "serverless.ts")
    resolved = str(project / ".serverless" / RESOLVED.name)
    assert find_templates(str(project)) == [resolved]
    assert find_templates(str(project / ".serverless")) == [resolved]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
FUNCTION_VALUES = st.dictionaries(
    st.sampled_from(["runtime", "architectures", "filename", "s3_key", "s3_bucket", "layers", "package_type"]),
    JSON_VALUES | st.sampled_from(["python3.12", "../x.zip", "/abs.zip", "fn.zip", ["arm64"], "Image"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=FUNCTION_VALUES,
    junk=JSON_VALUES,
    where=st.sampled_from(["planned_values", "values"]),
    nest=st.booleans(),
)
def test_any_terraform_json_gives_targets_or_a_template_error(tmp_path, values, junk, where, nest):
    function = {"address": "aws_lambda_function.f", "type": "aws_lambda_function", "values": values}
    module = {"resources": [function, junk], "child_modules": [junk, {"resources": [function]}] if nest else junk}
    path = write(tmp_path / "plan.json", json.dumps({"format_version": "1.2", where: {"root_module": module}}))
    try:
        targets = load_functions(str(path))
    except TemplateError as error:
        assert str(error).startswith(str(path))
        return
    for target in targets:
        assert target.architecture in templates.ARCHITECTURES
        assert target.artifact is None or target.artifact.startswith(str(tmp_path))
