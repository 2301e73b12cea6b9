"""Terraform's `terraform show -json` output (plan or state): aws_lambda_function resources,
modules included; no HCL is read."""

from __future__ import annotations

import bisect
import json
import os
import re
from collections.abc import Callable
from typing import Any

from lambda_glibc_gate.templates.cloudformation import _image_note
from lambda_glibc_gate.templates.model import (
    _MAX_NAME_CHARS,
    _SHOWN_CHARS,
    DEFAULT_ARCHITECTURE,
    MAX_TERRAFORM_RESOURCES,
    FunctionTarget,
    TemplateError,
    _architecture,
    _inside_project,
    _mapping,
    _runtime_id,
    _shown,
    _target,
)

_TF_FUNCTION = "aws_lambda_function"
_TF_LAYER = "aws_lambda_layer_version"
_TF_S3_OBJECTS = ("aws_s3_object", "aws_s3_bucket_object")


def _is_terraform(document: dict) -> bool:
    return "format_version" in document and (
        isinstance(document.get("planned_values"), dict) or isinstance(document.get("values"), dict)
    )


def _terraform_resources(document: dict, template: str) -> list[dict]:
    """Every managed resource of the root module and its child modules, walked without recursion."""
    version = document.get("format_version")
    if not (isinstance(version, str) and version.split(".", 1)[0] == "1"):
        raise TemplateError(f"{template}:1: cannot parse: Terraform JSON format_version {_shown(version)} is not 1.x")
    values = document.get("planned_values", document.get("values"))
    stack = [_mapping(_mapping(values).get("root_module"))]
    resources: list[dict] = []
    visited = 0
    while stack:
        module = stack.pop()
        module_resources = module.get("resources")
        children = module.get("child_modules")
        for item in module_resources if isinstance(module_resources, list) else []:
            visited += 1
            if isinstance(item, dict) and item.get("mode", "managed") == "managed":
                resources.append(item)
        for child in reversed(children) if isinstance(children, list) else []:
            visited += 1
            if isinstance(child, dict):
                stack.append(child)
        if visited > MAX_TERRAFORM_RESOURCES:
            raise TemplateError(
                f"{template}:1: more than {MAX_TERRAFORM_RESOURCES} Terraform resources and modules: not read"
            )
    return resources


def _terraform_functions(document: dict, template: str, project: str, text: str) -> list[FunctionTarget]:
    resources = _terraform_resources(document, template)
    # `filename` is relative to where terraform ran: the plan's JSON is written there
    base = os.path.dirname(template)
    line_of = _terraform_line_finder(text)
    layer_files: dict[str, Any] = {}  # layer version ARN (known in a state) -> its filename
    s3_sources: dict[str, list[tuple[Any, Any]]] = {}  # key -> [(bucket, local source)]
    for resource in resources:
        values = _mapping(resource.get("values"))
        if resource.get("type") == _TF_LAYER and isinstance(values.get("arn"), str):
            layer_files[values["arn"]] = values.get("filename")
        elif resource.get("type") in _TF_S3_OBJECTS and isinstance(values.get("key"), str):
            s3_sources.setdefault(values["key"], []).append((values.get("bucket"), values.get("source")))
    targets = []
    for resource in resources:
        if resource.get("type") != _TF_FUNCTION:
            continue
        values = _mapping(resource.get("values"))
        address = resource.get("address")
        name = address if isinstance(address, str) else f"{_TF_FUNCTION}.{resource.get('name')}"
        notes: list[str] = []
        is_image = values.get("package_type") == "Image" or values.get("image_uri") is not None
        runtime = None
        artifact = None
        layers: list[str] = []
        if is_image:
            notes.append(_image_note("package_type = Image"))
        else:
            runtime = _terraform_runtime(values, notes)
            artifact = _terraform_code(values, base, project, s3_sources, notes)
            arns = values.get("layers")
            for arn in arns if isinstance(arns, list) else []:
                if isinstance(arn, str) and arn in layer_files:
                    layer = _inside_project(project, base, layer_files[arn], "layer filename", notes)
                    if layer is not None and layer not in layers:
                        layers.append(layer)
        targets.append(
            _target(
                notes,
                name=name[:_MAX_NAME_CHARS],
                runtime=runtime,
                architecture=_terraform_architecture(values.get("architectures"), notes),
                artifact=artifact,
                layers=tuple(layers),
                template=template,
                line=line_of(name),
                framework="terraform",
            )
        )
    return targets


def _terraform_runtime(values: dict, notes: list[str]) -> str | None:
    runtime = values.get("runtime")
    if runtime is None:
        notes.append("no runtime in the Terraform JSON (unset, or known only after apply)")
        return None
    if not isinstance(runtime, str):
        notes.append(f"runtime {_shown(runtime)} is not a runtime id")
        return None
    return _runtime_id(runtime, "runtime", notes)


def _terraform_architecture(value: Any, notes: list[str]) -> str:
    if value is None:
        return DEFAULT_ARCHITECTURE  # not set, or known only after apply: Lambda's default
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        return _architecture(value[0][: _SHOWN_CHARS * 2], notes)
    notes.append(f"architectures cannot be read; assuming {DEFAULT_ARCHITECTURE}")
    return DEFAULT_ARCHITECTURE


def _terraform_code(
    values: dict,
    base: str,
    project: str,
    s3_sources: dict[str, list[tuple[Any, Any]]],
    notes: list[str],
) -> str | None:
    filename = values.get("filename")
    if isinstance(filename, str) and filename:
        return _inside_project(project, base, filename, "filename", notes)
    key = values.get("s3_key")
    if isinstance(key, str):
        # the zip uploaded by an aws_s3_object of the same plan (same key, and bucket when known)
        bucket = values.get("s3_bucket")
        sources = [
            source
            for object_bucket, source in s3_sources.get(key, [])
            if bucket is None or object_bucket is None or object_bucket == bucket
        ]
        if len(sources) == 1 and isinstance(sources[0], str):
            return _inside_project(project, base, sources[0], "aws_s3_object source", notes)
        notes.append("the code is in S3 (s3_bucket/s3_key), uploaded by nothing in this plan")
        return None
    notes.append("no filename or s3_key in the Terraform JSON (known only after apply?)")
    return None


_TF_ADDRESS = re.compile(r'"address"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _terraform_line_finder(text: str) -> Callable[[str], int | None]:
    """The line of each resource's `"address": "…"` in the values part (one pass, as for JSON)."""
    start = text.find('"planned_values"')
    if start < 0:
        start = max(text.find('"values"'), 0)
    first_at: dict[str, int] = {}
    for match in _TF_ADDRESS.finditer(text, start):
        first_at.setdefault(match.group(1), match.start())
    line_starts = [0] + [index + 1 for index, char in enumerate(text) if char == "\n"]

    def line_of(address: str) -> int | None:
        position = first_at.get(json.dumps(address)[1:-1])
        return None if position is None else bisect.bisect_right(line_starts, position)

    return line_of
