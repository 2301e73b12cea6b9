"""Find the `runs-on:` line of the job that built the binaries, to place annotations on it.

The build machine's glibc is what leaks into the binary, so the line to change is that job's
`runs-on:`. We read the workflow file the runner is executing (GITHUB_WORKFLOW_REF) with
pyyaml's composed nodes: they keep line numbers, and they keep `on:` a string (plain
safe_load turns it into True). Anything we cannot point at precisely gives None, never an error.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

MAX_WORKFLOW_BYTES = 1024 * 1024  # a workflow file is small; anything bigger is not one

# A `run:` script that builds a deployment package.
BUILD_COMMAND = re.compile(
    r"\b(?:cargo\s+(?:lambda|build|zigbuild)"
    r"|sam\s+build"
    r"|(?:serverless|sls)\s+(?:package|deploy)"
    r"|npm\s+(?:ci|install)"
    r"|pip3?\s+install"
    r"|go\s+build)\b"
)


@dataclass(frozen=True)
class WorkflowLocation:
    """Where a build job's `runs-on:` is: annotation file + line, and what it says."""

    path: str  # relative to the repository root, `/` separators
    line: int  # 1-based line of the `runs-on:` key
    column: int  # 1-based column of the `runs-on:` key
    value: str  # the runs-on label, e.g. "ubuntu-latest" (render.markdown.WorkflowLine)
    job: str  # the job's key under `jobs:`
    container: str | None = None  # the job's `container:` image: then it, not runs-on, builds


def workflow_path(workflow_ref: str, repository: str = "") -> str | None:
    """`owner/repo/.github/workflows/build.yml@refs/heads/main` -> `.github/workflows/build.yml`."""
    ref = workflow_ref.strip()
    if repository and ref.startswith(repository + "/"):
        ref = ref[len(repository) + 1 :]
    else:
        parts = ref.split("/", 2)
        if len(parts) < 3:
            return None
        ref = parts[2]
    # Cut at the `@` that follows the file name: refs may themselves contain `@`.
    match = re.match(r"(.+?\.ya?ml)@", ref)
    path = match.group(1) if match else ref.split("@", 1)[0]
    if not path or path.startswith("/") or ".." in Path(path).parts:
        return None
    return path


def find_runs_on(
    workspace: str | os.PathLike[str],
    workflow_ref: str | None,
    job_id: str | None,
    repository: str = "",
) -> WorkflowLocation | None:
    """The `runs-on:` of job `job_id` (or of the job that runs the build) in the workflow file.

    None when the file or job cannot be found, the file is not valid YAML, or `runs-on` is an
    expression (`${{ matrix.os }}`), a list or a group: nothing we can point a reader at.
    """
    found = _read_workflow(workspace, workflow_ref, repository)
    return locate_runs_on(found[1], found[0], job_id) if found is not None else None


def find_build_line(
    workspace: str | os.PathLike[str],
    workflow_ref: str | None,
    job_id: str | None,
    repository: str = "",
) -> str | None:
    """The `cargo lambda build …` line the build job runs (continuation lines joined), so that a
    fix can be the user's own command with the glibc target added; None when there is none."""
    found = _read_workflow(workspace, workflow_ref, repository)
    if found is None:
        return None
    jobs = _jobs(found[1])
    job_key = _pick_job(jobs, job_id) if jobs else None
    if job_key is None:
        return None
    for script in _run_scripts(jobs[job_key]):
        for line in script.replace("\\\n", " ").splitlines():
            command = line.strip()
            if CARGO_LAMBDA_BUILD.match(command) and "${{" not in command:
                return " ".join(command.split())
    return None


CARGO_LAMBDA_BUILD = re.compile(r"cargo\s+lambda\s+build\b")


def _read_workflow(
    workspace: str | os.PathLike[str], workflow_ref: str | None, repository: str
) -> tuple[str, str] | None:
    """(path relative to the repository, text) of the workflow file the run executes, or None."""
    if not workflow_ref:
        return None
    relative = workflow_path(workflow_ref, repository)
    if relative is None:
        return None
    root = Path(workspace)
    try:
        path = (root / relative).resolve()
        path.relative_to(root.resolve())
        if not path.is_file() or path.stat().st_size > MAX_WORKFLOW_BYTES:
            return None
        return relative, path.read_text(encoding="utf-8")
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def locate_runs_on(text: str, path: str, job_id: str | None) -> WorkflowLocation | None:
    """Like find_runs_on, on the workflow text itself."""
    job_nodes = _jobs(text)
    job_key = _pick_job(job_nodes, job_id)
    if job_key is None:
        return None
    return _runs_on(job_nodes[job_key], path, job_key)


def _jobs(text: str) -> dict[str, yaml.MappingNode]:
    """The workflow's jobs as composed nodes (they keep line numbers); {} when it is no workflow."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return {}
    jobs = _mapping_get(root, "jobs")
    if not isinstance(jobs, yaml.MappingNode):
        return {}
    return {
        key.value: value
        for key, value in jobs.value
        if isinstance(key, yaml.ScalarNode) and isinstance(value, yaml.MappingNode)
    }


def _pick_job(jobs: dict[str, yaml.MappingNode], job_id: str | None) -> str | None:
    builders = [key for key, node in jobs.items() if _runs_build(node)]
    if job_id and job_id in jobs:
        if job_id in builders:
            return job_id
        # A gate job that downloads what another job built: point at the builder it needs.
        needed = [key for key in _needs_closure(jobs, job_id) if key in builders]
        return needed[0] if len(needed) == 1 else job_id
    return builders[0] if builders else None


def _needs_closure(jobs: dict[str, yaml.MappingNode], job_id: str) -> list[str]:
    seen: list[str] = []
    pending = [job_id]
    while pending:
        for need in _needs(jobs.get(pending.pop())):
            if need in jobs and need not in seen and need != job_id:
                seen.append(need)
                pending.append(need)
    return seen


def _needs(job: yaml.MappingNode | None) -> list[str]:
    node = _mapping_get(job, "needs")
    if isinstance(node, yaml.ScalarNode):
        return [node.value]
    if isinstance(node, yaml.SequenceNode):
        return [item.value for item in node.value if isinstance(item, yaml.ScalarNode)]
    return []


def _runs_build(job: yaml.MappingNode) -> bool:
    return any(BUILD_COMMAND.search(script) for script in _run_scripts(job))


def _run_scripts(job: yaml.MappingNode) -> list[str]:
    steps = _mapping_get(job, "steps")
    if not isinstance(steps, yaml.SequenceNode):
        return []
    runs = [_mapping_get(step, "run") for step in steps.value]
    return [run.value for run in runs if isinstance(run, yaml.ScalarNode)]


def _runs_on(job: yaml.MappingNode, path: str, job_key: str) -> WorkflowLocation | None:
    for key, value in job.value:
        if not (isinstance(key, yaml.ScalarNode) and key.value == "runs-on"):
            continue
        if not isinstance(value, yaml.ScalarNode) or "${{" in value.value or not value.value:
            return None
        return WorkflowLocation(
            path=path,
            line=key.start_mark.line + 1,
            column=key.start_mark.column + 1,
            value=value.value,
            job=job_key,
            container=_container_image(job),
        )
    return None


def _container_image(job: yaml.MappingNode) -> str | None:
    node = _mapping_get(job, "container")
    if isinstance(node, yaml.MappingNode):
        node = _mapping_get(node, "image")
    if isinstance(node, yaml.ScalarNode) and node.value:
        return node.value
    return None


def _mapping_get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value_node
    return None
