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

The package: model.py (FunctionTarget, budgets, field readers), parsing.py (safe YAML / JSON),
loading.py (which reader a file needs), cloudformation.py, serverless.py, terraform.py, nested.py
(one reader per format) and matching.py (which function an artifact is the code of).
"""

from __future__ import annotations

from lambda_glibc_gate.templates.loading import find_templates, load_functions
from lambda_glibc_gate.templates.matching import functions_by_artifact, functions_for_artifacts, plan_artifacts
from lambda_glibc_gate.templates.model import (
    ARCHITECTURES,
    MAX_ALIAS_EXPANSION,
    MAX_RESOLVED_CHARS,
    MAX_TEMPLATE_BYTES,
    MAX_TERRAFORM_JSON_BYTES,
    MAX_YAML_NODES,
    FunctionTarget,
    TemplateError,
)

__all__ = [
    "ARCHITECTURES",
    "FunctionTarget",
    "MAX_ALIAS_EXPANSION",
    "MAX_RESOLVED_CHARS",
    "MAX_TEMPLATE_BYTES",
    "MAX_TERRAFORM_JSON_BYTES",
    "MAX_YAML_NODES",
    "TemplateError",
    "find_templates",
    "functions_by_artifact",
    "functions_for_artifacts",
    "load_functions",
    "plan_artifacts",
]
