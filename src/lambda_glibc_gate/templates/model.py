"""What a template says about a function (FunctionTarget), the budgets every reader shares, and
the small field readers (paths inside the project, architectures, runtime ids)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


class _Nesting:
    """Nested templates loaded so far under one top template: bounded in number and depth."""

    def __init__(self) -> None:
        self.loaded = 0
        self.chain: list[str] = []  # real paths of the templates being loaded (cycles)


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _local_path(base: str, value: Any) -> str | None:
    """A code location that is a local path, resolved against the template's folder."""
    if not isinstance(value, str) or not value.strip() or "://" in value:
        return None  # s3://…, https://…: the code is not here
    return os.path.normpath(os.path.join(base, value.strip()))


def _inside_project(project: str, base: str, value: Any, field: str, notes: list[str]) -> str | None:
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
        f"architecture {_shown(value)} is not one of {', '.join(ARCHITECTURES)}; assuming {DEFAULT_ARCHITECTURE}"
    )
    return DEFAULT_ARCHITECTURE


def _target(notes: list[str], **fields: Any) -> FunctionTarget:
    return FunctionTarget(note="; ".join(notes) or None, **fields)


def _is_within(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # different drives
        return False
