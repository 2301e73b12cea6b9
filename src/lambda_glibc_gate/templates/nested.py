"""SAM nested applications and nested stacks with a local template: their functions too."""

from __future__ import annotations

import os
from collections.abc import Callable

from lambda_glibc_gate.templates.model import (
    _MAX_NAME_CHARS,
    DEFAULT_ARCHITECTURE,
    MAX_NESTED_DEPTH,
    MAX_NESTED_TEMPLATES,
    FunctionTarget,
    LineOf,
    _inside_project,
    _mapping,
    _Nesting,
    _shown,
    _target,
)

_SAM_APPLICATION = "AWS::Serverless::Application"
_CFN_STACK = "AWS::CloudFormation::Stack"


def _nested_functions(
    document: dict,
    template: str,
    project: str,
    line_of: LineOf,
    nesting: _Nesting,
    load: Callable[[str, str, _Nesting], list[FunctionTarget]],
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
                    targets.extend(load(path, project, nesting))
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
