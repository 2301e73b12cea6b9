"""serverless.yml: `${self:}` / `${opt:}` variables resolved within a budget, each function's
runtime, architecture, packaged artifact and layers."""

from __future__ import annotations

import os
import re
from typing import Any

from lambda_glibc_gate.templates.cloudformation import _image_note
from lambda_glibc_gate.templates.model import (
    _OVER_BUDGET_NOTE,
    _SERVERLESS_PACKAGE_DIR,
    DEFAULT_ARCHITECTURE,
    FunctionTarget,
    LineOf,
    _architecture,
    _local_path,
    _mapping,
    _Resolver,
    _runtime_id,
    _shown,
    _target,
)


def _is_serverless(template: str, document: dict) -> bool:
    name = os.path.basename(template).lower()
    return name.startswith("serverless.") or ("service" in document and "provider" in document)


class _ServerlessVariables(_Resolver):
    """`${...}` variables the file itself settles: `${self:a.b}` and `'literal'` fallbacks."""

    _INNERMOST = re.compile(r"\$\{([^${}]*)\}")

    def __init__(self, document: dict) -> None:
        super().__init__()
        self.document = document

    def _string(self, value: Any, depth: int) -> str | None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            return None
        self._budget.spend(depth, len(value))
        while True:  # innermost first; every replacement spends from the budget
            match = self._INNERMOST.search(value)
            if match is None:
                return value
            replacement = self._variable(match.group(1), depth)
            if replacement is None:
                return None
            value = value[: match.start()] + replacement + value[match.end() :]
            self._budget.spend(depth, len(value))

    def _variable(self, body: str, depth: int) -> str | None:
        source, _, fallback = body.partition(",")
        source = source.strip()
        if source.startswith("self:"):
            found = self._lookup(source[len("self:") :])
            if found is not None:
                return self._string(found, depth + 1)
        elif not source.startswith("opt:"):
            return None  # env:, sls:, ssm:, file(), cf:, param:: decided outside this file
        # an absent self: path or a CLI option not given: only a literal fallback settles it
        return _literal(fallback.strip()) if fallback else None

    def _lookup(self, dotted: str) -> Any:
        value: Any = self.document
        for part in dotted.split(".") if dotted else []:
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value if dotted else None


def _literal(text: str) -> str | None:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text if re.fullmatch(r"-?\d+(\.\d+)?", text) else None


def _serverless_functions(document: dict, template: str, line_of: LineOf) -> list[FunctionTarget]:
    provider = _mapping(document.get("provider"))
    cloud = provider.get("name", "aws")
    if isinstance(cloud, str) and cloud != "aws" and "${" not in cloud:
        return []  # another cloud (google, azure, …): no Lambda functions here
    base = os.path.dirname(template)
    variables = _ServerlessVariables(document)
    service = document.get("service")
    if isinstance(service, dict):  # the old form: service: {name: …}
        service = service.get("name")
    service_name = variables.string(service)
    package = _mapping(document.get("package"))
    package_dir = variables.string(package.get("path", _SERVERLESS_PACKAGE_DIR))
    layer_paths = _serverless_layer_paths(document, base, variables)
    functions = document.get("functions")
    if isinstance(functions, list):  # the list form: [{name: {...}}, …]
        merged: dict = {}
        for part in functions:
            merged.update(_mapping(part))
        functions = merged
    targets = []
    for name, function in _mapping(functions).items():
        function = _mapping(function)
        notes: list[str] = []
        is_image = function.get("image") is not None
        if is_image:
            runtime = None
            notes.append(_image_note("image:"))
        else:
            runtime = _serverless_setting(function, provider, "runtime", variables, notes)
        architecture = _architecture(_serverless_setting(function, provider, "architecture", variables, notes), notes)
        artifact = (
            None
            if is_image
            else _serverless_artifact(
                str(name),
                _mapping(function.get("package")),
                package,
                service_name,
                package_dir,
                base,
                variables,
                notes,
            )
        )
        # the function's own list replaces the provider's (compile/functions.js)
        layer_refs = [] if is_image else function.get("layers", provider.get("layers"))
        layers = []
        for item in layer_refs if isinstance(layer_refs, list) else []:
            ref = _mapping(item).get("Ref")
            if isinstance(ref, str) and ref in layer_paths and layer_paths[ref] not in layers:
                layers.append(layer_paths[ref])
        targets.append(
            _target(
                notes,
                name=str(name),
                runtime=runtime,
                architecture=architecture,
                artifact=artifact,
                layers=tuple(layers),
                template=template,
                line=line_of(functions, name),
                framework="serverless",
            )
        )
    return targets


def _serverless_setting(
    function: dict, provider: dict, key: str, variables: _ServerlessVariables, notes: list[str]
) -> str | None:
    raw = function.get(key, provider.get(key))
    if raw is None:
        if key == "runtime":
            notes.append("no runtime in serverless.yml (the Framework's default depends on its version)")
        return None
    value = variables.string(raw)
    if value is None:
        assumed = f"; assuming {DEFAULT_ARCHITECTURE}" if key == "architecture" else ""
        why = f": {_OVER_BUDGET_NOTE}" if variables.refused else " uses a variable settled only at deploy time"
        notes.append(f"{key} {_shown(raw)}{why}{assumed}")
    return _runtime_id(value, key, notes) if key == "runtime" else value


def _serverless_artifact(
    name: str,
    function_package: dict,
    service_package: dict,
    service_name: str | None,
    package_dir: str | None,
    base: str,
    variables: _ServerlessVariables,
    notes: list[str],
) -> str | None:
    """The zip `serverless package` uses for this function (package-service.js, see above)."""
    individually = bool(function_package.get("individually") or service_package.get("individually"))
    if "artifact" in function_package:
        chosen = function_package["artifact"]
    elif "artifact" in service_package and not function_package.get("individually"):
        chosen = service_package["artifact"]
    elif package_dir is None:
        notes.append("package.path uses a variable settled only at deploy time")
        return None
    elif individually:
        chosen = os.path.join(package_dir, f"{name}.zip")
    elif service_name is None:
        notes.append("the service name uses a variable settled only at deploy time")
        return None
    else:
        chosen = os.path.join(package_dir, f"{service_name}.zip")
    resolved = variables.string(chosen)
    if resolved is None:
        why = f": {_OVER_BUDGET_NOTE}" if variables.refused else " uses a variable settled only at deploy time"
        notes.append(f"package.artifact {_shown(chosen)}{why}")
        return None
    path = _local_path(base, resolved)
    if path is None:
        notes.append("package.artifact is not a local path")
    return path


def _serverless_layer_paths(document: dict, base: str, variables: _ServerlessVariables) -> dict[str, str]:
    """Layer logical id -> local path (a zip from package.artifact, else the `path` folder).

    The id is the Framework's: getNormalizedResourceName ("-" -> "Dash", "_" -> "Underscore",
    first letter upper) + "LambdaLayer" (serverless/serverless lib/plugins/aws/lib/naming.js).
    """
    paths = {}
    for name, layer in _mapping(document.get("layers")).items():
        layer = _mapping(layer)
        artifact = _mapping(layer.get("package")).get("artifact", layer.get("path"))
        path = _local_path(base, variables.string(artifact))
        if path is None:
            continue
        normalized = str(name).replace("-", "Dash").replace("_", "Underscore")
        paths[normalized[:1].upper() + normalized[1:] + "LambdaLayer"] = path
    return paths
