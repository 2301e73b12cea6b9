"""Runtime, architecture and code path of each Lambda function, read from the project's templates.

`--runtime auto` uses this module: it reads SAM / CloudFormation templates (YAML with the
intrinsic short-form tags, or JSON) and the local nested applications they name, the Serverless
Framework's resolved `.serverless/cloudformation-template-update-stack.json` (else
`serverless.yml`), CDK's `cdk.out/*.template.json`, and Terraform's `terraform show -json`
output, turns every function into a FunctionTarget, and matches the scanned artifacts to them.

A template is data, never code: YAML goes through a SafeLoader subclass (no Python tags), a
file over MAX_TEMPLATE_BYTES is refused, and aliases may not expand a document by more than
MAX_ALIAS_EXPANSION nodes (billion laughs). Nothing is evaluated that the template does not
spell out literally: a parameter's Default, a `${self:...}` path, a `${opt:x, 'default'}`
fallback; anything else leaves the runtime unknown with a note, never a guess.
"""

from __future__ import annotations

import bisect
import glob
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import yaml

from lambda_glibc_gate.runtimes import ARCHITECTURES  # Lambda's own names, one owner

# CloudFormation's own limit: a template deployed from S3 may be 1 MB at most ("The URL must
# point to a template (max size: 1 MB) that's located in an Amazon S3 bucket", TemplateURL,
# https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/cloudformation/aws.sdk.kotlin.services.
# cloudformation.model/-get-template-summary-request/template-url.html; inline bodies: 51,200
# bytes). SAM, CDK and the Serverless Framework all deploy through it: a larger file never deploys.
MAX_TEMPLATE_BYTES = 1024 * 1024
# pyyaml composes the whole document (about 50 us and hundreds of bytes per node): a 1 MB
# one-line flow list is 500k nodes (42 s, 394 MB). Real templates have a few thousand.
MAX_YAML_NODES = 100_000
MAX_ALIAS_EXPANSION = 100_000  # nodes that aliases may add on top of the written ones

DEFAULT_ARCHITECTURE = "x86_64"  # what Lambda uses when Architectures is absent
_MAX_RESOLVE_DEPTH = 10  # parameter -> Sub -> Ref ... chains and ${self:} indirections
# Budget for settling one value (a runtime, an architecture, a code path): each level of
# `${self:a}${self:a}` or of a Sub with a repeated variable multiplies the size, so a 2 KB
# file could otherwise expand to tens of millions of characters (and minutes).
MAX_RESOLVE_STEPS = 1_000  # references and literals visited for one value
MAX_RESOLVED_CHARS = 4_096  # longest literal or expansion: real paths and ids are far shorter
# AWS runtime ids are short tokens (python3.12, provided.al2023): anything else is not one,
# and is never passed on (into a message, a lookup) whole.
_RUNTIME_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_SHOWN_CHARS = 60  # how much of an untrusted value a note quotes

# Serverless Framework defaults, from serverless/serverless lib/plugins/package/package.js
# (packagePath = --package || package.path || "<serviceDir>/.serverless") and
# lib/plugins/package/lib/package-service.js (packageAll: "<service>.zip";
# packageFunction: "<functionName>.zip" when package.individually).
_SERVERLESS_PACKAGE_DIR = ".serverless"
# What `serverless package` writes there: the CloudFormation template with every variable
# (${env:}, ${ssm:}, ${param:}, …) already resolved ("packages your entire infrastructure into
# the .serverless directory", https://www.serverless.com/framework/docs/providers/aws/cli-reference/package)
_SERVERLESS_RESOLVED = "cloudformation-template-update-stack.json"

# `terraform show -json plan.out > plan.json` (or of a state): the names looked for in a
# template folder; any other name can be given as a file to --template-dir.
_TERRAFORM_NAMES = ("plan.json", "tfplan.json", "terraform.json")
_TERRAFORM_SUFFIX = ".tfplan.json"
# A plan's JSON carries the configuration, prior state and every change, so it is far larger
# than the CloudFormation template it is not bound by: 8 MB is a couple of thousand resources.
# Python objects cost 10-30x their JSON text (16 MB of `{},` peaked at 507 MB), so objects
# and arrays are counted before parsing too: a hostile 8 MB file stays near 150 MB and a second.
MAX_TERRAFORM_JSON_BYTES = 8 * 1024 * 1024
MAX_JSON_CONTAINERS = 400_000  # `{` and `[` in one file (strings' too); real JSON has 1 per 30-100 bytes
MAX_TERRAFORM_RESOURCES = 100_000  # resources and modules walked in one file
# SAM: "The maximum number of applications that can be nested in a serverless application is
# 200" (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/
# serverless-sam-template-nested-applications.html); nesting deeper than 5 is not a real project.
MAX_NESTED_TEMPLATES = 200
MAX_NESTED_DEPTH = 5
_MAX_NAME_CHARS = 200  # a function name / address from a file, as kept on a FunctionTarget

LineOf = Callable[[Any, str], "int | None"]


class TemplateError(Exception):
    """A template that cannot be used. str() is one line: "template.yaml:12: cannot parse: …"."""


class _OverBudget(Exception):
    """Settling one value went past MAX_RESOLVE_STEPS / MAX_RESOLVED_CHARS / the depth."""


class _Budget:
    """The work left for settling one value; every reader call and expansion spends from it."""

    def __init__(self) -> None:
        self.steps = 0

    def spend(self, depth: int, size: int = 0) -> None:
        self.steps += 1
        if self.steps > MAX_RESOLVE_STEPS or size > MAX_RESOLVED_CHARS or depth > _MAX_RESOLVE_DEPTH:
            raise _OverBudget


class _Resolver:
    """Settles one value at a time, each within a fresh _Budget."""

    def __init__(self) -> None:
        self.refused = False  # the last string() went over its budget
        self._budget = _Budget()

    def string(self, value: Any) -> str | None:
        """The string `value` settles to, or None; `refused` is set when over the budget."""
        self._budget = _Budget()
        try:
            result = self._string(value, 0)
        except _OverBudget:
            self.refused = True
            return None
        self.refused = False
        return result

    def _string(self, value: Any, depth: int) -> str | None:
        raise NotImplementedError


_OVER_BUDGET_NOTE = (
    f"its references go past the resolution budget ({_MAX_RESOLVE_DEPTH} levels, "
    f"{MAX_RESOLVE_STEPS} references, {MAX_RESOLVED_CHARS} characters); not resolved"
)


def _shown(value: Any) -> str:
    """An untrusted value quoted in a note: its repr, cut to a few dozen characters."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= _SHOWN_CHARS:
        return repr(text) if isinstance(value, str) else text
    cut = repr(text[:_SHOWN_CHARS]) if isinstance(value, str) else text[:_SHOWN_CHARS]
    return f"{cut}… ({len(text)} characters)"


def _runtime_id(value: str | None, field: str, notes: list[str]) -> str | None:
    """`value` when it can be a runtime id; a bounded note and None for anything longer/odd."""
    if value is None or _RUNTIME_TOKEN.fullmatch(value):
        return value
    notes.append(f"{field} {_shown(value)} is not a runtime id")
    return None


@dataclass(frozen=True)
class FunctionTarget:
    """One Lambda function as a template declares it."""

    name: str  # logical id (SAM / CloudFormation / CDK) or function key (Serverless)
    runtime: str | None  # AWS runtime id; None for container images or when not resolvable
    architecture: str  # "x86_64" | "arm64"
    artifact: str | None  # code folder or zip, relative to the template's folder; None: S3/inline
    layers: tuple[str, ...]  # local layer folders / zips; ARNs are skipped
    template: str  # the template file it comes from
    line: int | None  # 1-based line of the function's definition, for messages
    build_method: str | None = None  # SAM Metadata.BuildMethod, e.g. "rust-cargolambda"
    framework: str = ""  # "sam" | "cloudformation" | "cdk" | "serverless" | "terraform"
    note: str | None = None  # why runtime / artifact / architecture is unknown or assumed


# ---------------------------------------------------------------------------------------------
# Finding and loading template files


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


class _Nesting:
    """Nested templates loaded so far under one top template: bounded in number and depth."""

    def __init__(self) -> None:
        self.loaded = 0
        self.chain: list[str] = []  # real paths of the templates being loaded (cycles)


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
    return targets + _nested_functions(document, template_path, project, line_of, nesting)


def _is_terraform_name(path: str) -> bool:
    name = os.path.basename(path).lower()
    return name in _TERRAFORM_NAMES or name.endswith(_TERRAFORM_SUFFIX)


def _read_text(path: str, limit: int = MAX_TEMPLATE_BYTES) -> str:
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise TemplateError(f"{path}: cannot read: not a regular file")
        if info.st_size > limit:
            raise TemplateError(_too_large(path, info.st_size, limit))
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:  # grew while we looked
        raise TemplateError(_too_large(path, None, limit))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TemplateError(f"{path}:{line}: cannot parse: not UTF-8 text") from None


def _too_large(path: str, size: int | None, limit: int = MAX_TEMPLATE_BYTES) -> str:
    actual = f" ({size} bytes)" if size is not None else ""
    if limit != MAX_TEMPLATE_BYTES:
        return f"{path}: larger than the {limit // (1024 * 1024)} MB read for a Terraform JSON{actual}: not read"
    return (
        f"{path}: larger than CloudFormation's 1 MB limit for a template{actual}: "
        "it cannot deploy, and is not read"
    )


def _load_json(text: str, path: str) -> Any:
    if text.count("{") + text.count("[") > MAX_JSON_CONTAINERS:  # an upper bound, counted in C
        raise TemplateError(f"{path}:1: cannot parse: more than {MAX_JSON_CONTAINERS} JSON objects and arrays")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError(f"{path}:{exc.lineno}: cannot parse: {exc.msg}") from None
    except RecursionError:
        raise TemplateError(f"{path}:1: cannot parse: nested too deeply") from None


class _LinedDict(dict):
    """A YAML mapping that remembers the 1-based line of each of its keys."""

    key_lines: dict[Any, int]


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short-form tags as their long form and keeps lines."""

    nodes_composed = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        # Counted as composed, so a huge flow list is refused before it is all in memory.
        self.nodes_composed += 1
        if self.nodes_composed > MAX_YAML_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"more than {MAX_YAML_NODES} YAML nodes", self.peek_event().start_mark
            )
        return super().compose_node(parent, index)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # SafeConstructor lets Python errors escape for bad typed scalars (!!int xyz, an empty
        # !!int, !!bool maybe): turn them into a YAML error that carries the node's line
        try:
            return super().construct_object(node, deep)
        except (yaml.YAMLError, RecursionError):
            raise
        except Exception as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {node.tag} value: {exc}", node.start_mark
            ) from None


def _construct_intrinsic(loader: _TemplateLoader, suffix: str, node: yaml.Node) -> dict:
    # !Ref X -> {"Ref": X}, !Condition X -> {"Condition": X}, !Sub s -> {"Fn::Sub": s}, …
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)  # !GetAtt A.B is the short form of [A, B]
    key = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    return {key: value}


def _construct_lined_mapping(loader: _TemplateLoader, node: yaml.MappingNode):
    data = _LinedDict()
    data.key_lines = {}
    yield data
    data.update(loader.construct_mapping(node))
    for key_node, _ in node.value:  # merged (<<) keys come first, so a local key wins
        if isinstance(key_node, yaml.ScalarNode):
            data.key_lines[key_node.value] = key_node.start_mark.line + 1


_TemplateLoader.add_multi_constructor("!", _construct_intrinsic)
_TemplateLoader.add_constructor("tag:yaml.org,2002:map", _construct_lined_mapping)
# CloudFormation reads 2010-09-09 as a string; a date object (or a bad date) helps no one
_TemplateLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)


def _load_yaml(text: str, path: str) -> Any:
    loader = None
    try:
        loader = _TemplateLoader(text)  # the reader already rejects control characters
        node = loader.get_single_node()
        if node is None:
            return None
        _check_alias_expansion(node, path)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        raise TemplateError(f"{path}:{line}: cannot parse: {reason}") from None
    except yaml.reader.ReaderError as exc:
        line = text[: max(exc.position, 0)].count("\n") + 1
        raise TemplateError(f"{path}:{line}: cannot parse: {exc.reason}") from None
    except yaml.YAMLError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
        raise TemplateError(f"{path}:1: cannot parse: {first_line}") from None
    except RecursionError:
        raise TemplateError(f"{path}:1: cannot parse: nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()


def _check_alias_expansion(root: yaml.Node, path: str) -> None:
    """Refuse documents whose aliases expand them far beyond what is written (billion laughs).

    The node graph shares aliased nodes, so its expanded size is computed once per distinct
    node (iteratively: no recursion limit), and a node that contains itself is refused too.
    """
    expanded: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            expanded[key] = 1 + sum(expanded[id(child)] for child in _children(node))
            continue
        if key in expanded:
            continue
        if key in on_path:
            line = node.start_mark.line + 1
            raise TemplateError(f"{path}:{line}: cannot parse: an alias refers to itself")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))
    if expanded[id(root)] - len(expanded) > MAX_ALIAS_EXPANSION:
        raise TemplateError(
            f"{path}:1: cannot parse: aliases expand the document by more than "
            f"{MAX_ALIAS_EXPANSION} nodes"
        )


def _children(node: yaml.Node) -> Iterable[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            yield key_node
            yield value_node
    elif isinstance(node, yaml.SequenceNode):
        yield from node.value


def _yaml_line_of(mapping: Any, key: str) -> int | None:
    return getattr(mapping, "key_lines", {}).get(key)


_JSON_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')


def _json_line_finder(text: str) -> LineOf:
    """JSON has no marks: the line of `"key":` after "Resources" (logical ids are unique).

    One pass over the text (every key's first place, line starts for bisect), so a template
    of thousands of functions costs a dict lookup per function, not a search of the file each.
    """
    start = max(text.find('"Resources"'), 0)
    first_at: dict[str, int] = {}
    for match in _JSON_KEY.finditer(text, start):
        first_at.setdefault(match.group(1), match.start())
    line_starts = [0] + [index + 1 for index, char in enumerate(text) if char == "\n"]

    def line_of(_mapping: Any, key: str) -> int | None:
        position = first_at.get(json.dumps(key)[1:-1])
        return None if position is None else bisect.bisect_right(line_starts, position)

    return line_of


# ---------------------------------------------------------------------------------------------
# Small helpers shared by the readers


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _local_path(base: str, value: Any) -> str | None:
    """A code location that is a local path, resolved against the template's folder."""
    if not isinstance(value, str) or not value.strip() or "://" in value:
        return None  # s3://…, https://…: the code is not here
    return os.path.normpath(os.path.join(base, value.strip()))


def _inside_project(
    project: str, base: str, value: Any, field: str, notes: list[str]
) -> str | None:
    """A local path from an untrusted file, only when it stays inside the project folder.

    An absolute path or a `..` that leads out of `project` (symbolic links followed) is a
    note: nothing outside the folder the user named is matched or read.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    if len(value) > MAX_RESOLVED_CHARS or "\x00" in value:
        notes.append(f"{field} {_shown(value)} is not a usable path")
        return None
    path = _local_path(base, value)
    if path is None:
        notes.append(f"{field} is not a local path")
        return None
    if not _is_within(os.path.realpath(path), os.path.realpath(project)):
        notes.append(f"{field} {_shown(value)} lies outside the project folder; not read")
        return None
    return path


def _architecture(value: str | None, notes: list[str]) -> str:
    if value is None:
        return DEFAULT_ARCHITECTURE
    if value in ARCHITECTURES:
        return value
    notes.append(
        f"architecture {_shown(value)} is not one of {', '.join(ARCHITECTURES)}; "
        f"assuming {DEFAULT_ARCHITECTURE}"
    )
    return DEFAULT_ARCHITECTURE


def _target(notes: list[str], **fields: Any) -> FunctionTarget:
    return FunctionTarget(note="; ".join(notes) or None, **fields)


# ---------------------------------------------------------------------------------------------
# SAM, CloudFormation and CDK (one reader: CDK output is CloudFormation with asset metadata)

_SAM_FUNCTION = "AWS::Serverless::Function"
_CFN_FUNCTION = "AWS::Lambda::Function"
_SAM_LAYER = "AWS::Serverless::LayerVersion"
_CFN_LAYER = "AWS::Lambda::LayerVersion"


def _image_note(declared_by: str) -> str:
    return (
        f"container image ({declared_by}): the image brings its own runtime and glibc; "
        "scan the image's files instead"
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
            shown = [name[:_SHOWN_CHARS] + ("…" if len(name) > _SHOWN_CHARS else "")
                     for name in scope.used_defaults[:5]]
            more = len(scope.used_defaults) - len(shown)
            names = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
            notes.append(
                f"values taken from the Default of parameter {names}; a deploy may override"
            )
        build_method = metadata.get("BuildMethod")
        targets.append(
            _target(
                notes,
                name=str(logical_id),
                runtime=runtime,
                architecture=architecture,
                artifact=artifact,
                layers=()
                if is_image
                else _layers(properties.get("Layers"), resources, base, serverless_package),
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


def _cloudformation_runtime(
    properties: dict, scope: _CloudFormationScope, notes: list[str]
) -> str | None:
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


def _cloudformation_architecture(
    properties: dict, scope: _CloudFormationScope, notes: list[str]
) -> str:
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


def _sam_code(
    properties: dict, base: str, scope: _CloudFormationScope, notes: list[str]
) -> str | None:
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
        notes.append(
            "inline code (Code.ZipFile)"
            if "ZipFile" in code
            else "the code is in S3 (Code S3Bucket/S3Key)"
        )
        return None
    return _code_path(scope.string(code), base, "Code", notes, scope.refused)


def _code_path(
    value: str | None, base: str, field: str, notes: list[str], refused: bool = False
) -> str | None:
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


def _serverless_custom_artifacts(
    targets: list[FunctionTarget], resolved: str
) -> list[FunctionTarget]:
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


def _asset_path(metadata: dict, asset_property: str, base: str) -> str | None:
    """CDK stages each asset next to the template and names it in the resource's metadata."""
    path = metadata.get("aws:asset:path")
    if metadata.get("aws:asset:property") != asset_property:
        return None
    return _local_path(base, path)


def _layers(
    value: Any, resources: dict, base: str, serverless_package: bool = False
) -> tuple[str, ...]:
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


# ---------------------------------------------------------------------------------------------
# Nested applications (SAM AWS::Serverless::Application, CloudFormation AWS::CloudFormation::Stack)

_SAM_APPLICATION = "AWS::Serverless::Application"
_CFN_STACK = "AWS::CloudFormation::Stack"


def _nested_functions(
    document: dict, template: str, project: str, line_of: LineOf, nesting: _Nesting
) -> list[FunctionTarget]:
    """The functions of the local nested applications / stacks the template names.

    A local `Location` (SAM) or `TemplateURL` (a nested stack) is a file path relative to the
    template. `sam build` copies each nested template to `.aws-sam/build/<AppId>/template.yaml`
    with its functions' built folders beside it, and points the built parent's Location there
    (aws/aws-sam-cli#2531, #2662: ".aws-sam/build/Child/template.yaml",
    ".aws-sam/build/Child/StockCheckerFunction"); `<AppId>/template.yaml` beside the built
    parent is also tried when the Location does not lead to a file.
    """
    base = os.path.dirname(template)
    targets: list[FunctionTarget] = []
    for logical_id, resource in _mapping(document.get("Resources")).items():
        resource = _mapping(resource)
        kind = resource.get("Type")
        if kind not in (_SAM_APPLICATION, _CFN_STACK):
            continue
        field = "Location" if kind == _SAM_APPLICATION else "TemplateURL"
        location = _mapping(resource.get("Properties")).get(field)
        if not isinstance(location, str) or "://" in location:
            continue  # the Serverless Application Repository, S3, a URL: not in this project
        notes: list[str] = []
        path = _inside_project(project, base, location, field, notes)
        beside = os.path.join(base, str(logical_id), "template.yaml")
        if (path is None or not os.path.isfile(path)) and not notes and os.path.isfile(beside):
            path = beside
        if path is not None and not os.path.isfile(path):
            notes.append(f"{field} {_shown(location)} is not a file here (run `sam build`?)")
            path = None
        if path is not None:
            real = os.path.realpath(path)
            if real == os.path.realpath(template) or real in nesting.chain:
                notes.append(f"{field} names a template that contains this one; not read again")
            elif len(nesting.chain) >= MAX_NESTED_DEPTH:
                notes.append(f"nested more than {MAX_NESTED_DEPTH} levels deep; not read")
            elif nesting.loaded >= MAX_NESTED_TEMPLATES:
                notes.append(f"more than {MAX_NESTED_TEMPLATES} nested applications; not read")
            else:
                nesting.loaded += 1
                nesting.chain.append(os.path.realpath(template))
                try:
                    targets.extend(_load(path, project, nesting))
                finally:
                    nesting.chain.pop()
                continue
        # a nested application that is not read: its note is kept on a code-less target
        targets.append(
            _target(
                notes,
                name=str(logical_id)[:_MAX_NAME_CHARS],
                runtime=None,
                architecture=DEFAULT_ARCHITECTURE,
                artifact=None,
                layers=(),
                template=template,
                line=line_of(_mapping(document.get("Resources")), logical_id),
                framework="sam" if kind == _SAM_APPLICATION else "cloudformation",
            )
        )
    return targets


# ---------------------------------------------------------------------------------------------
# Serverless Framework


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
        architecture = _architecture(
            _serverless_setting(function, provider, "architecture", variables, notes), notes
        )
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
            notes.append(
                "no runtime in serverless.yml (the Framework's default depends on its version)"
            )
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


def _serverless_layer_paths(
    document: dict, base: str, variables: _ServerlessVariables
) -> dict[str, str]:
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


# ---------------------------------------------------------------------------------------------
# Terraform: `terraform show -json` of a plan or a state (no HCL is read)
#
# The format (https://developer.hashicorp.com/terraform/internals/json-format): a plan has
# `planned_values.root_module`, a state `values.root_module`; a module has `resources` (each
# with `address`, `mode`, `type`, `values`) and `child_modules` (each a module, recursively).
# `format_version` is "1.x": "Reject any input which reports an unsupported major version."
# Values Terraform knows only after apply are absent from `values` (a plan's after_unknown).

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
        raise TemplateError(
            f"{template}:1: cannot parse: Terraform JSON format_version {_shown(version)} "
            "is not 1.x"
        )
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
                f"{template}:1: more than {MAX_TERRAFORM_RESOURCES} Terraform resources and "
                "modules: not read"
            )
    return resources


def _terraform_functions(
    document: dict, template: str, project: str, text: str
) -> list[FunctionTarget]:
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
        return _architecture(value[0][:_SHOWN_CHARS * 2], notes)
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


# ---------------------------------------------------------------------------------------------
# Matching artifacts to functions


def functions_by_artifact(
    artifacts: Sequence[str], search_dirs: Sequence[str]
) -> dict[str, list[FunctionTarget]]:
    """Each artifact (as given) -> every function whose code it is, best match first.

    Best: the function's code path is the artifact; then functions whose code lies inside
    the artifact (`.aws-sam/build` holds several); then functions whose code folder holds the
    artifact (`.aws-sam/build/HelloFn/bootstrap`), deepest folder first. Several functions
    sharing one artifact (Serverless without `individually`) all appear.
    Raises TemplateError for a template that cannot be read.
    """
    targets = _targets_in(search_dirs)
    result: dict[str, list[FunctionTarget]] = {}
    for artifact in artifacts:
        ranked = _ranked_matches(artifact, targets)
        if ranked:
            result[artifact] = [target for _, target in ranked]
    return result


def functions_for_artifacts(
    artifacts: Sequence[str], search_dirs: Sequence[str]
) -> dict[str, FunctionTarget]:
    """Each artifact (as given) -> the function it best matches; unmatched artifacts are absent.

    See functions_by_artifact for the order, and plan_artifacts for artifacts that hold
    several functions.
    """
    return {
        artifact: found[0]
        for artifact, found in functions_by_artifact(artifacts, search_dirs).items()
    }


def plan_artifacts(
    artifacts: Sequence[str], search_dirs: Sequence[str]
) -> list[tuple[str, FunctionTarget | None]]:
    """What to scan, and as which function, so that each function gets its own verdict.

    - an artifact that is (or lies inside) a function's code: (artifact, function), once per
      distinct runtime and architecture among the functions sharing that code;
    - a folder that holds several functions' code (`.aws-sam/build`, a project folder): one
      (code path, function) per function whose code exists there;
    - anything else: (artifact, None), for the scanner to report as unmatched.
    Raises TemplateError for a template that cannot be read.
    """
    targets = _targets_in(search_dirs)
    plan: list[tuple[str, FunctionTarget | None]] = []
    for artifact in artifacts:
        ranked = _ranked_matches(artifact, targets)
        best_kind = ranked[0][0][0] if ranked else None
        if best_kind in (_EXACT, _INSIDE_CODE):
            best_code = os.path.realpath(ranked[0][1].artifact or "")
            seen_settings: set[tuple[str | None, str]] = set()
            for rank, target in ranked:
                settings = (target.runtime, target.architecture)
                same_code = os.path.realpath(target.artifact or "") == best_code
                if rank[0] == best_kind and same_code and settings not in seen_settings:
                    seen_settings.add(settings)
                    plan.append((artifact, target))
        elif best_kind == _HOLDS_CODE:
            seen_code: set[tuple[str, str | None, str]] = set()
            for rank, target in ranked:
                if rank[0] != _HOLDS_CODE:
                    continue  # a broader folder that also holds the artifact (CodeUri: .)
                code = target.artifact or ""
                key = (os.path.realpath(code), target.runtime, target.architecture)
                if os.path.exists(code) and key not in seen_code:
                    seen_code.add(key)
                    plan.append((code, target))
            if not seen_code:
                plan.append((artifact, None))
        else:
            plan.append((artifact, None))
    return plan


def _ranked_matches(
    artifact: str, targets: Sequence[FunctionTarget]
) -> list[tuple[tuple[int, int], FunctionTarget]]:
    artifact_path = os.path.realpath(artifact)
    ranked = []
    for order, target in enumerate(targets):
        if target.artifact is None:
            continue
        rank = _match_rank(artifact_path, os.path.realpath(target.artifact))
        if rank is not None:
            ranked.append(((rank[0], rank[1], order), target))
    ranked.sort(key=lambda item: item[0])
    return [((rank[0], rank[1]), target) for rank, target in ranked]


def _targets_in(search_dirs: Sequence[str]) -> list[FunctionTarget]:
    seen: set[str] = set()
    targets: list[FunctionTarget] = []
    for directory in search_dirs:
        # the folder the user named bounds every path a template gives (a file: its folder)
        project = (os.path.dirname(directory) or ".") if os.path.isfile(directory) else directory
        for template in find_templates(directory):
            key = os.path.realpath(template)
            if key not in seen:
                seen.add(key)
                targets.extend(load_functions(template, project))
    return targets


# How an artifact relates to a function's code path, best first
_EXACT = 0  # the artifact is the code
_HOLDS_CODE = 1  # the code lies inside the artifact folder: the user meant these functions
_INSIDE_CODE = 2  # the artifact lies inside the code folder (a file, or CodeUri: .)


def _match_rank(artifact: str, code: str) -> tuple[int, int] | None:
    if artifact == code:
        return (_EXACT, 0)
    if _is_within(code, artifact):
        return (_HOLDS_CODE, 0)
    if _is_within(artifact, code):
        return (_INSIDE_CODE, -len(code))  # the deepest enclosing code folder is closest
    return None


def _is_within(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # different drives
        return False
