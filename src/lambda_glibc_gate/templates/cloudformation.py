"""CloudFormation, SAM and CDK templates (and the Serverless Framework's resolved stack): each
function's runtime, architecture, code path and layers."""

from __future__ import annotations

import os
import re
from typing import Any

from lambda_glibc_gate.templates.model import (
    _OVER_BUDGET_NOTE,
    _SHOWN_CHARS,
    DEFAULT_ARCHITECTURE,
    MAX_RESOLVED_CHARS,
    FunctionTarget,
    LineOf,
    _architecture,
    _local_path,
    _mapping,
    _Resolver,
    _runtime_id,
    _target,
)

_SAM_FUNCTION = "AWS::Serverless::Function"
_CFN_FUNCTION = "AWS::Lambda::Function"
_SAM_LAYER = "AWS::Serverless::LayerVersion"
_CFN_LAYER = "AWS::Lambda::LayerVersion"


def _image_note(declared_by: str) -> str:
    return (
        f"container image ({declared_by}): the image brings its own runtime and glibc; scan the image's files instead"
    )


class _CloudFormationScope(_Resolver):
    """What a value in the template may refer to: parameter defaults and mappings.

    string() is the literal string a value stands for, or None when it depends on deploy time.
    """

    def __init__(self, document: dict) -> None:
        super().__init__()
        self.parameters = _mapping(document.get("Parameters"))
        self.mappings = _mapping(document.get("Mappings"))
        self.used_defaults: list[str] = []  # parameters whose Default decided a value

    def string(self, value: Any) -> str | None:
        before = len(self.used_defaults)
        result = super().string(value)
        if self.refused:  # a value not settled took nothing from any Default
            del self.used_defaults[before:]
        return result

    def _string(self, value: Any, depth: int) -> str | None:
        self._budget.spend(depth, len(value) if isinstance(value, str) else 0)
        if isinstance(value, str):
            return value
        if not isinstance(value, dict) or len(value) != 1:
            return None
        ((function, argument),) = value.items()
        if function == "Ref":
            return self._parameter_default(argument, depth)
        if function == "Fn::Sub":
            return self._sub(argument, depth)
        if function == "Fn::Join":
            return self._join(argument, depth)
        if function == "Fn::FindInMap":
            return self._find_in_map(argument, depth)
        return None  # Fn::If, Fn::GetAtt, Fn::ImportValue, …: known only at deploy time

    def _parameter_default(self, name: Any, depth: int) -> str | None:
        if not isinstance(name, str):
            return None
        default = _mapping(self.parameters.get(name)).get("Default")
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            default = str(default)
        resolved = self._string(default, depth + 1) if isinstance(default, str) else None
        if resolved is not None and name not in self.used_defaults:
            self.used_defaults.append(name)
        return resolved

    def _sub(self, argument: Any, depth: int) -> str | None:
        variables: dict = {}
        if isinstance(argument, list) and len(argument) == 2:
            argument, variables = argument[0], _mapping(argument[1])
        if not isinstance(argument, str):
            return None
        unresolved = False
        size = len(argument)

        def replace(match: re.Match) -> str:
            nonlocal unresolved, size
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} is the escape for "${Literal}"
            if name in variables:
                resolved = self._string(variables[name], depth + 1)
            else:
                resolved = self._parameter_default(name, depth + 1)
            if resolved is None:
                unresolved = True
                return ""
            size += len(resolved)  # checked as it grows: no fan-out is ever built whole
            self._budget.spend(depth, size)
            return resolved

        result = re.sub(r"\$\{([^}]*)\}", replace, argument)
        return None if unresolved else result

    def _join(self, argument: Any, depth: int) -> str | None:
        if not (isinstance(argument, list) and len(argument) == 2):
            return None
        separator, items = argument
        if not isinstance(separator, str) or not isinstance(items, list):
            return None
        parts = []
        size = 0
        for item in items:
            part = self._string(item, depth + 1)
            if part is None:
                return None
            size += len(part) + len(separator)
            self._budget.spend(depth, size)
            parts.append(part)
        return separator.join(parts)

    def _find_in_map(self, argument: Any, depth: int) -> str | None:
        if not (isinstance(argument, list) and len(argument) == 3):
            return None
        names = [self._string(part, depth + 1) for part in argument]
        table = _mapping(self.mappings.get(names[0]))
        if names[1] is not None and names[2] is not None:
            found = _mapping(table.get(names[1])).get(names[2])
            return self._string(found, depth + 1) if isinstance(found, str) else None
        if names[1] is None and names[2] is not None:
            # e.g. [LatestNodeRuntimeMap, !Ref AWS::Region, value] (CDK): known when every
            # region has the same value, unknown otherwise
            values = {_mapping(row).get(names[2]) for row in table.values()}
            if len(values) == 1:
                (only,) = values
                return self._string(only, depth + 1) if isinstance(only, str) else None
        return None


def _cloudformation_functions(
    document: dict, template: str, line_of: LineOf, serverless_package: bool = False
) -> list[FunctionTarget]:
    base = os.path.dirname(template)
    scope = _CloudFormationScope(document)
    resources = _mapping(document.get("Resources"))
    function_globals = _mapping(_mapping(document.get("Globals")).get("Function"))
    targets = []
    for logical_id, resource in resources.items():
        resource = _mapping(resource)
        kind = resource.get("Type")
        if kind not in (_SAM_FUNCTION, _CFN_FUNCTION):
            continue
        properties = _mapping(resource.get("Properties"))
        metadata = _mapping(resource.get("Metadata"))
        if kind == _SAM_FUNCTION:
            properties = _merge_sam_globals(function_globals, properties)
        scope.used_defaults = []
        notes: list[str] = []
        is_image = scope.string(properties.get("PackageType")) == "Image"
        if kind == _CFN_FUNCTION and "ImageUri" in _mapping(properties.get("Code")):
            is_image = True
        runtime = None if is_image else _cloudformation_runtime(properties, scope, notes)
        architecture = _cloudformation_architecture(properties, scope, notes)
        if is_image:
            notes.append(_image_note("PackageType: Image"))
            artifact = None
        elif kind == _SAM_FUNCTION:
            artifact = _sam_code(properties, base, scope, notes)
        else:
            artifact = _lambda_code(properties, metadata, base, scope, notes, serverless_package)
        if scope.used_defaults:
            # a note names a handful, each cut short: a Sub may refer to a thousand parameters
            shown = [
                name[:_SHOWN_CHARS] + ("…" if len(name) > _SHOWN_CHARS else "") for name in scope.used_defaults[:5]
            ]
            more = len(scope.used_defaults) - len(shown)
            names = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
            notes.append(f"values taken from the Default of parameter {names}; a deploy may override")
        build_method = metadata.get("BuildMethod")
        targets.append(
            _target(
                notes,
                name=str(logical_id),
                runtime=runtime,
                architecture=architecture,
                artifact=artifact,
                layers=() if is_image else _layers(properties.get("Layers"), resources, base, serverless_package),
                template=template,
                line=line_of(resources, logical_id),
                build_method=build_method if isinstance(build_method, str) else None,
                framework="serverless" if serverless_package else _framework(kind, resource),
            )
        )
    return targets


def _framework(kind: str, resource: dict) -> str:
    metadata = _mapping(resource.get("Metadata"))
    if "aws:cdk:path" in metadata or "aws:asset:path" in metadata:
        return "cdk"
    return "sam" if kind == _SAM_FUNCTION else "cloudformation"


def _is_intrinsic(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (key,) = value
    return key in ("Ref", "Condition") or str(key).startswith("Fn::")


def _merge_sam_globals(global_value: Any, local_value: Any) -> Any:
    """SAM's Globals rules: maps merge, lists concatenate (global first), anything else: local."""
    global_is_map = isinstance(global_value, dict) and not _is_intrinsic(global_value)
    local_is_map = isinstance(local_value, dict) and not _is_intrinsic(local_value)
    if global_is_map and local_is_map:
        merged = dict(global_value)
        for key, value in local_value.items():
            merged[key] = _merge_sam_globals(merged[key], value) if key in merged else value
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return global_value + local_value
    return local_value


def _cloudformation_runtime(properties: dict, scope: _CloudFormationScope, notes: list[str]) -> str | None:
    if "Runtime" not in properties:
        notes.append("no Runtime in the template")
        return None
    runtime = scope.string(properties["Runtime"])
    if runtime is None:
        if scope.refused:
            notes.append(f"Runtime: {_OVER_BUDGET_NOTE}")
        else:
            notes.append("Runtime is an expression known only at deploy time")
    return _runtime_id(runtime, "Runtime", notes)


def _cloudformation_architecture(properties: dict, scope: _CloudFormationScope, notes: list[str]) -> str:
    value = properties.get("Architectures")
    if value is None:
        return DEFAULT_ARCHITECTURE
    if not isinstance(value, list) or not value:
        notes.append(f"Architectures cannot be read; assuming {DEFAULT_ARCHITECTURE}")
        return DEFAULT_ARCHITECTURE
    # Globals lists concatenate with the function's own; Lambda takes one, so the last
    # (the function's own) is the one meant
    architecture = scope.string(value[-1])
    if architecture is None:
        why = f": {_OVER_BUDGET_NOTE}" if scope.refused else " is known only at deploy time"
        notes.append(f"Architectures{why}; assuming {DEFAULT_ARCHITECTURE}")
        return DEFAULT_ARCHITECTURE
    return _architecture(architecture, notes)


def _sam_code(properties: dict, base: str, scope: _CloudFormationScope, notes: list[str]) -> str | None:
    if "InlineCode" in properties:
        notes.append("inline code (InlineCode)")
        return None
    # SAM CLI treats a missing CodeUri as the template's own folder
    code_uri = properties.get("CodeUri", ".")
    if isinstance(code_uri, dict) and not _is_intrinsic(code_uri):
        notes.append("the code is in S3 (CodeUri Bucket/Key)")
        return None
    return _code_path(scope.string(code_uri), base, "CodeUri", notes, scope.refused)


def _lambda_code(
    properties: dict,
    metadata: dict,
    base: str,
    scope: _CloudFormationScope,
    notes: list[str],
    serverless_package: bool = False,
) -> str | None:
    asset = _asset_path(metadata, "Code", base)
    if asset is not None:
        return asset
    code = properties.get("Code")
    if code is None:
        notes.append("no Code in the template")
        return None
    if serverless_package and isinstance(code, dict):
        packaged = _serverless_packaged(code.get("S3Key"), base)
        if packaged is not None:
            return packaged
    if isinstance(code, dict) and not _is_intrinsic(code):
        notes.append("inline code (Code.ZipFile)" if "ZipFile" in code else "the code is in S3 (Code S3Bucket/S3Key)")
        return None
    return _code_path(scope.string(code), base, "Code", notes, scope.refused)


def _code_path(value: str | None, base: str, field: str, notes: list[str], refused: bool = False) -> str | None:
    if value is None:
        notes.append(f"{field}: {_OVER_BUDGET_NOTE}" if refused else f"{field} is known only at deploy time")
        return None
    path = _local_path(base, value)
    if path is None:
        notes.append(f"{field} is not a local path")
    return path


def _serverless_packaged(s3_key: Any, base: str) -> str | None:
    """The zip beside the resolved template that an S3Key of `serverless package` names.

    The key is `serverless/<service>/<stage>/<timestamp>-<date>/<name>.zip` (artifactDirectoryName
    + the zip's file name, serverless/serverless lib/plugins/aws/package/compile/functions.js);
    the zip itself stays in the package folder, beside the template. Only the last part is
    used, and only when it is a plain file name: nothing outside that folder is named.
    """
    if not isinstance(s3_key, str) or len(s3_key) > MAX_RESOLVED_CHARS:
        return None
    name = s3_key.rsplit("/", 1)[-1]
    if name in ("", ".", "..") or "\\" in name or "\x00" in name:
        return None
    return os.path.join(base, name)


def _asset_path(metadata: dict, asset_property: str, base: str) -> str | None:
    """CDK stages each asset next to the template and names it in the resource's metadata."""
    path = metadata.get("aws:asset:path")
    if metadata.get("aws:asset:property") != asset_property:
        return None
    return _local_path(base, path)


def _layers(value: Any, resources: dict, base: str, serverless_package: bool = False) -> tuple[str, ...]:
    layers = []
    for item in value if isinstance(value, list) else []:
        if not (isinstance(item, dict) and isinstance(item.get("Ref"), str)):
            continue  # an ARN (string, !Sub, parameter): the layer is not in this project
        layer = _mapping(resources.get(item["Ref"]))
        properties = _mapping(layer.get("Properties"))
        path = None
        if layer.get("Type") == _SAM_LAYER:
            path = _local_path(base, properties.get("ContentUri"))
        elif layer.get("Type") == _CFN_LAYER:
            path = _asset_path(_mapping(layer.get("Metadata")), "Content", base)
            content = properties.get("Content")
            if serverless_package and isinstance(content, dict):
                path = path or _serverless_packaged(content.get("S3Key"), base)
            path = path or _local_path(base, content)
        if path is not None and path not in layers:
            layers.append(path)
    return tuple(layers)
