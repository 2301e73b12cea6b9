"""Which function an artifact is the code of: the plan of verdicts to give (one per function)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from lambda_glibc_gate.templates.loading import find_templates, load_functions
from lambda_glibc_gate.templates.model import FunctionTarget, _is_within


def functions_by_artifact(artifacts: Sequence[str], search_dirs: Sequence[str]) -> dict[str, list[FunctionTarget]]:
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


def functions_for_artifacts(artifacts: Sequence[str], search_dirs: Sequence[str]) -> dict[str, FunctionTarget]:
    """Each artifact (as given) -> the function it best matches; unmatched artifacts are absent.

    See functions_by_artifact for the order, and plan_artifacts for artifacts that hold
    several functions.
    """
    return {artifact: found[0] for artifact, found in functions_by_artifact(artifacts, search_dirs).items()}


def plan_artifacts(artifacts: Sequence[str], search_dirs: Sequence[str]) -> list[tuple[str, FunctionTarget | None]]:
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


def _ranked_matches(artifact: str, targets: Sequence[FunctionTarget]) -> list[tuple[tuple[int, int], FunctionTarget]]:
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
