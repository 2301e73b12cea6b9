"""Finding the templates of a project and loading one: which reader a file needs (CloudFormation /
SAM / CDK, Serverless, Terraform plan JSON), and the nested applications it names."""

from __future__ import annotations

import glob
import os
from dataclasses import replace

from lambda_glibc_gate.templates.cloudformation import _cloudformation_functions
from lambda_glibc_gate.templates.model import (
    _SERVERLESS_PACKAGE_DIR,
    _SERVERLESS_RESOLVED,
    _TERRAFORM_NAMES,
    _TERRAFORM_SUFFIX,
    MAX_TEMPLATE_BYTES,
    MAX_TERRAFORM_JSON_BYTES,
    FunctionTarget,
    TemplateError,
    _Nesting,
)
from lambda_glibc_gate.templates.nested import _nested_functions
from lambda_glibc_gate.templates.parsing import (
    _json_line_finder,
    _load_json,
    _load_yaml,
    _read_text,
    _too_large,
    _yaml_line_of,
)
from lambda_glibc_gate.templates.serverless import _is_serverless, _serverless_functions
from lambda_glibc_gate.templates.terraform import _is_terraform, _terraform_functions


def find_templates(directory: str) -> list[str]:
    """The template files in `directory`, SAM build output first (it names the built folders).

    `directory` may also be one template file (a Terraform JSON of any name): just that file.
    """
    if os.path.isfile(directory):
        return [directory]
    found: list[str] = []

    def add(path: str) -> None:
        if os.path.isfile(path) and path not in found:
            found.append(path)

    add(os.path.join(directory, ".aws-sam", "build", "template.yaml"))
    for name in ("template.yaml", "template.yml"):
        add(os.path.join(directory, name))
    # the resolved template of `serverless package` settles what serverless.yml leaves to deploy
    # time (and is there for serverless.ts / .js too); serverless.yml is read only without it
    # (both would give the same zip two runtimes)
    resolved = os.path.join(directory, _SERVERLESS_PACKAGE_DIR, _SERVERLESS_RESOLVED)
    if os.path.isfile(resolved):
        add(resolved)
    else:
        for name in ("serverless.yml", "serverless.yaml"):
            add(os.path.join(directory, name))
    add(os.path.join(directory, _SERVERLESS_RESOLVED))  # the directory is itself .serverless
    assemblies = [os.path.join(directory, "cdk.out")]
    if os.path.isfile(os.path.join(directory, "manifest.json")):
        assemblies.append(directory)  # the directory is itself a cloud assembly (cdk.out)
    for assembly in assemblies:
        pattern_root = glob.escape(assembly)
        for pattern in ("*.template.json", os.path.join("assembly-*", "*.template.json")):
            for path in sorted(glob.glob(os.path.join(pattern_root, pattern))):
                add(path)
    for name in _TERRAFORM_NAMES:
        add(os.path.join(directory, name))
    for path in sorted(glob.glob(os.path.join(glob.escape(directory), "*" + _TERRAFORM_SUFFIX))):
        add(path)
    return found


def load_functions(template_path: str, project: str | None = None) -> list[FunctionTarget]:
    """Every Lambda function the template (and the local nested applications it names) declares.

    `project` is the folder paths from the template must stay in (default: the template's
    own folder); a path leading out of it is a note, never read. Raises TemplateError when
    the template cannot be read.
    """
    if project is None:
        project = os.path.dirname(template_path) or "."
    return _load(template_path, project, _Nesting())


def _load(template_path: str, project: str, nesting: _Nesting) -> list[FunctionTarget]:
    name = os.path.basename(template_path).lower()
    is_json = name.endswith(".json")
    # any other JSON may be a Terraform plan, which is larger than a CloudFormation template
    cloudformation_json = name.endswith(".template.json") or name == _SERVERLESS_RESOLVED
    limit = MAX_TERRAFORM_JSON_BYTES if is_json and not cloudformation_json else MAX_TEMPLATE_BYTES
    text = _read_text(template_path, limit)
    document = _load_json(text, template_path) if is_json else _load_yaml(text, template_path)
    if not isinstance(document, dict):
        kind = "empty" if document is None else f"a {type(document).__name__}, not a mapping"
        raise TemplateError(f"{template_path}:1: cannot parse: the document is {kind}")
    if is_json and _is_terraform(document):
        return _terraform_functions(document, template_path, project, text)
    if is_json and _is_terraform_name(template_path):
        return []  # a plan.json of some other tool: not a template
    if limit != MAX_TEMPLATE_BYTES and len(text) > MAX_TEMPLATE_BYTES // 4:
        size = len(text.encode("utf-8"))  # counted only when it may be over (UTF-8 is <= 4 bytes a character)
        if size > MAX_TEMPLATE_BYTES:
            raise TemplateError(_too_large(template_path, size))
    line_of = _json_line_finder(text) if is_json else _yaml_line_of
    if _is_serverless(template_path, document):
        return _serverless_functions(document, template_path, line_of)
    serverless_package = os.path.basename(template_path) == _SERVERLESS_RESOLVED
    targets = _cloudformation_functions(document, template_path, line_of, serverless_package)
    if serverless_package:
        targets = _serverless_custom_artifacts(targets, template_path)
    return targets + _nested_functions(document, template_path, project, line_of, nesting, _load)


def _is_terraform_name(path: str) -> bool:
    name = os.path.basename(path).lower()
    return name in _TERRAFORM_NAMES or name.endswith(_TERRAFORM_SUFFIX)


def _serverless_custom_artifacts(targets: list[FunctionTarget], resolved: str) -> list[FunctionTarget]:
    """A function with its own `package.artifact` keeps that zip where it is: the S3Key names
    only its file name (functions.js), so the path comes from serverless.yml, when it agrees."""
    if all(target.artifact is None or os.path.exists(target.artifact) for target in targets):
        return targets
    service_dir = os.path.dirname(os.path.dirname(resolved))
    declared: dict[str, str] = {}
    for name in ("serverless.yml", "serverless.yaml"):
        path = os.path.join(service_dir, name)
        if os.path.isfile(path):
            try:
                functions = load_functions(path)
            except TemplateError:
                return targets  # the resolved template stands on its own
            for function in functions:
                if function.artifact is not None:
                    # the logical id: getNormalizedFunctionName + "LambdaFunction" (naming.js)
                    normalized = function.name.replace("-", "Dash").replace("_", "Underscore")
                    declared[normalized[:1].upper() + normalized[1:] + "LambdaFunction"] = function.artifact
            break
    result = []
    for target in targets:
        custom = declared.get(target.name)
        if (
            target.artifact is not None
            and not os.path.exists(target.artifact)
            and custom is not None
            and os.path.basename(custom) == os.path.basename(target.artifact)
        ):
            target = replace(target, artifact=custom)
        result.append(target)
    return result
