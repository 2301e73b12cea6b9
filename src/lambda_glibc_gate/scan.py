"""inputs -> facts -> findings: the one entry point the CLI and the Action share.

The options are checked and each artifact is planned as the function(s) it is code for
(templates); collect.py reads each artifact once, judge.py judges it per function, and the
rules that look at the package as a whole (size with layers, the runtime hint) are here."""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from lambda_glibc_gate.archive import Limits, expand_paths
from lambda_glibc_gate.collect import Collected, collect
from lambda_glibc_gate.errors import UsageError
from lambda_glibc_gate.options import ScanOptions, checked
from lambda_glibc_gate.report import ArtifactReport, Finding, Report
from lambda_glibc_gate.resolve import LAYER_ROOT, TASK_ROOT, Tree
from lambda_glibc_gate.text import one_line as safe_name

# The runtime database and the judging modules are imported by _plan_jobs, which runs while the
# artifacts are read (parallel.collect_many's `meanwhile`), not before: this module imports
# only what reading needs.
if TYPE_CHECKING:
    from lambda_glibc_gate import checks

__all__ = ["Collected", "Job", "ScanOptions", "collect", "scan", "target_for"]  # collect re-exported



@dataclass
class Job:
    """One verdict to give: an artifact judged as one function (or with the given runtime)."""

    path: str
    runtime: object | None  # runtimes.Runtime; None when it could not be settled
    architecture: str
    function: object | None = None  # templates.FunctionTarget for --runtime auto
    problem: str | None = None  # why the runtime is unknown
    unclaimed: bool = False  # no template names it: a custom runtime if it has a bootstrap


def scan(paths: Sequence[str], options: ScanOptions) -> Report:
    """Scan every artifact; raises a GateError (UsageError, UnknownRuntimeError) for unusable
    arguments."""
    options = checked(options)
    architecture = options.architecture
    today = options.today or date.today()
    artifact_paths = expand_paths(paths)
    layers = [_layer(path, options.root) for path in (expand_paths(options.layers) if options.layers else [])]

    mount = LAYER_ROOT if options.as_layer else TASK_ROOT
    from lambda_glibc_gate.parallel import collect_many  # imported here: it starts worker processes

    # Reading is most of the cost: artifacts are read in parallel (within a memory budget), once
    # each even when several functions share one, and the jobs are planned while they are read
    # (the runtime database, the templates: none of it needs the artifacts' contents).
    unique_paths = list(dict.fromkeys(artifact_paths))
    outside = [path for path in unique_paths if _outside(path, options.root)]
    to_read = [path for path in unique_paths if path not in outside]
    planned: list[list[Job]] = []
    collected = collect_many(to_read, mount, progress=options.progress,
                             meanwhile=lambda: planned.append(_plan_jobs(artifact_paths, options)))
    collected_once = dict(zip(to_read, collected, strict=True))
    collected_once.update((path, _not_read(path, mount)) for path in outside)
    jobs = planned[0]
    for path in dict.fromkeys(job.path for job in jobs):  # a template may name more than was given
        if path not in collected_once:
            collected_once[path] = _not_read(path, mount) if _outside(path, options.root) else collect(path, mount)
    from lambda_glibc_gate import runtimes
    from lambda_glibc_gate.judge import judge

    reports = []
    for job in jobs:
        collected = collected_once[job.path]
        function_name = getattr(job.function, "name", None)
        fallback_note = None
        if job.runtime is None and job.unclaimed and _has_root_bootstrap(collected):
            job = replace(job, runtime=runtimes.get_runtime(CUSTOM_RUNTIME_FALLBACK))
            fallback_note = Finding(
                "runtime-assumed",
                "note",
                f"no template names {job.path}; it has a bootstrap at its root, so it is judged as a custom "
                f"runtime on {CUSTOM_RUNTIME_FALLBACK}: set the runtime to judge it as another",
                details={"runtime": CUSTOM_RUNTIME_FALLBACK},
            )
        if job.runtime is None:
            report = ArtifactReport(job.path, collected.kind, "unknown", job.architecture, function=function_name)
            # What is wrong with the package itself does not depend on the runtime.
            report.findings += collected.findings
            report.findings.append(Finding("no-runtime", "error", job.problem or "runtime unknown: pass --runtime"))
            reports.append(report)
            continue
        function_layers = [_layer(p, options.root) for p in getattr(job.function, "layers", ()) if os.path.exists(p)]
        job_layers = layers + function_layers
        target = target_for(job.runtime, job.architecture, options, today)
        report = judge(
            collected,
            [tree for tree, _, _ in job_layers],
            target,
            options.as_layer,
            build_method=getattr(job.function, "build_method", None),
        )
        report.function = function_name
        report.template = getattr(job.function, "template", None)
        report.template_line = getattr(job.function, "line", None)
        if fallback_note is not None:
            report.findings.insert(0, fallback_note)
        report.findings[:0] = [finding for _, findings, _ in job_layers for finding in findings]
        report.findings += _too_large_with_layers(collected, job_layers)
        reports.append(report)

    runtime_json = (
        {"id": "auto"}
        if options.runtime == "auto"
        else _runtime_json(target_for(runtimes.get_runtime(options.runtime), architecture, options, today))
    )
    result = Report(runtime=runtime_json, artifacts=reports, fail_on=options.fail_on)
    result.notices.extend(_once_per_runtime(reports, "deprecated-runtime"))
    result.notices.extend(runtime_hint(result))
    return result


CUSTOM_RUNTIME_FALLBACK = "provided.al2023"  # what `sam init` and cargo lambda default to


def _has_root_bootstrap(collected: Collected) -> bool:
    """A root entry named bootstrap, even one the reader refused (a FIFO, a bad link)."""
    return "bootstrap" in collected.modes or any(f.member == "bootstrap" for f in collected.findings)


def _once_per_runtime(reports: list[ArtifactReport], rule: str) -> list[Finding]:
    """A finding about the runtime itself (deprecated-runtime) once per runtime, as a report
    notice, not once per artifact judged on it."""
    once: dict[str, Finding] = {}
    for report in reports:
        for finding in [f for f in report.findings if f.rule == rule]:
            report.findings.remove(finding)
            once.setdefault(finding.message, finding)
    return list(once.values())


def _outside(path: str, root: str | None) -> bool:
    if root is None:
        return False
    real, boundary = os.path.realpath(path), os.path.realpath(root)
    return real != boundary and not real.startswith(boundary.rstrip(os.sep) + os.sep)


def _not_read(path: str, mount: str) -> Collected:
    """An artifact whose real path is outside the workspace: named, never walked or read."""
    collected = Collected(path, "directory" if os.path.isdir(path) else "file", Tree(mount=mount, label=path))
    collected.findings.append(
        Finding(
            "unsafe-archive",
            "error",
            f"{safe_name(path)} leads outside the workspace (to {safe_name(os.path.realpath(path))}) through a "
            "link: it was not read; build the package inside the workspace",
            details={"problem": "outside-workspace"},
        )
    )
    return collected


def _layer(path: str, root: str | None = None) -> tuple[Tree, list[Finding], int]:
    """A layer as Lambda mounts it at /opt, what was wrong with reading it, and its size."""
    collected = _not_read(path, LAYER_ROOT) if _outside(path, root) else collect(path, LAYER_ROOT)
    findings = [replace(f, message=f"layer {path}: {f.message}") for f in collected.findings]
    return collected.tree, findings, collected.unpacked_size


def _too_large_with_layers(collected: Collected, layers: list[tuple[Tree, list[Finding], int]]) -> list[Finding]:
    """Lambda's 250 MB unzipped limit counts the function's code and all its layers together."""
    limit = Limits().lambda_unzipped_limit
    total = collected.unpacked_size + sum(size for _, _, size in layers)
    if not layers or total <= limit or collected.unpacked_size > limit:
        return []  # no layers, within the limit, or already reported for the package alone
    return [
        Finding(
            "package-too-large",
            "error",
            f"the package and its {len(layers)} layer(s) unpack to {total / 1e6:.1f} MB ({total:,} bytes), "
            f"above Lambda's limit of {limit:,} bytes for a function's code and layers together",
            details={"unpacked_size": total, "limit": limit},
        )
    ]


def _plan_jobs(artifact_paths: list[str], options: ScanOptions) -> list[Job]:
    """The verdicts to give: each artifact as the given runtime, or (auto) as each function its
    code is. Imports the runtime database and the judging modules (see the imports above)."""
    from lambda_glibc_gate import runtimes
    from lambda_glibc_gate.judge import judge  # noqa: F401 - imported now, while the artifacts are read

    if options.runtime == "auto":
        return _jobs_from_templates(artifact_paths, options)
    runtime = runtimes.get_runtime(options.runtime)
    return [Job(path, runtime, options.architecture) for path in artifact_paths]


def _jobs_from_templates(artifact_paths: list[str], options: ScanOptions) -> list[Job]:
    """--runtime auto: one job per function whose code an artifact is, holds or lies in."""
    from lambda_glibc_gate import runtimes, templates

    try:
        plan = templates.plan_artifacts(artifact_paths, list(options.template_dirs))
    except templates.TemplateError as error:
        raise UsageError(str(error)) from None
    jobs = []
    where = ", ".join(options.template_dirs)
    for path, function in plan:
        if function is None:
            problem = (
                f"no function in the templates found in {where} uses {path}, and it has no bootstrap "
                "at its root, so its runtime is unknown: set the runtime (the Action's `runtime` "
                "input, the CLI's --runtime), or the template folder (`template-dir` / --template-dir)"
            )
            jobs.append(Job(path, None, options.architecture, problem=problem, unclaimed=True))
            continue
        try:
            architecture = runtimes.normalize_architecture(function.architecture)
        except runtimes.UnknownArchitectureError:
            architecture = "x86_64"  # Lambda's default; the template reader has already noted the oddity
        label = f"function {function.name} ({function.template}:{function.line})"
        if function.runtime is None:
            note = function.note or "its runtime is not in the template"
            jobs.append(Job(path, None, architecture, function, problem=f"{label}: {note}"))
            continue
        try:
            runtime = runtimes.get_runtime(function.runtime)
        except runtimes.UnknownRuntimeError as error:
            jobs.append(Job(path, None, architecture, function, problem=f"{label}: {error}"))
            continue
        jobs.append(Job(path, runtime, architecture, function))
    return jobs


def target_for(runtime, architecture: str, options: ScanOptions, today: date) -> checks.Target:
    from lambda_glibc_gate import advice, checks, runtimes

    limits = runtime.limits_for(architecture)
    limits = runtimes.with_overrides(limits, options.glibc, options.glibcxx)
    # Only runners of the function's architecture that GitHub still supports, real labels not aliases.
    runners = [
        advice.RunnerImage(label, image.glibc, image.deprecated, image.unsupported)
        for label, image in runtimes.runner_images().items()
        if image.arch == architecture and image.alias_of is None and image.docker_actions and image.is_supported(today)
    ]
    return checks.Target(
        runtime=runtime,
        architecture=architecture,
        limits=limits,
        glibcxx_overridden=options.glibcxx is not None,
        glibc_overridden=options.glibc is not None,
        today=today,
        newer_runtimes=tuple(runtimes.newer_runtimes(runtime, today)),
        runners=tuple(runners),
        library_list_complete=runtimes.library_list_complete(runtime.os, architecture),
        build_command=options.build_command,
    )


def _runtime_json(target: checks.Target) -> dict:
    runtime = target.runtime
    data = runtime.to_json()
    data.update(
        {
            "architecture": target.architecture,
            "glibc": target.limits.glibc,
            "glibcxx": target.limits.glibcxx,
            "cxxabi": target.limits.cxxabi,
            "gcc": target.limits.gcc,
        }
    )
    return data


def runtime_hint(report: Report) -> list[Finding]:
    """When one newer runtime would clear every error, say it once at the top."""
    from lambda_glibc_gate import runtimes
    from lambda_glibc_gate.versions import glibc_key

    errors = [f for f in report.all_findings() if f.severity == "error"]
    if not errors or any(f.details.get("newer_runtime") is None for f in errors):
        return []
    candidates = [runtimes.get_runtime(f.details["newer_runtime"]) for f in errors]
    # The newest of the runtimes each error needs clears them all (same language, newer OS).
    runtime = max(candidates, key=lambda r: (glibc_key(r.glibc or "0"), r.id))
    until = f" (supported until {runtime.deprecation.isoformat()})" if runtime.deprecation else ""
    return [
        Finding(
            "runtime-hint",
            "note",
            f"every error here goes away on {runtime.id}{until}: moving the function there is the smallest fix",
            details={"runtime": runtime.id},
        )
    ]


class _CallableModule(types.ModuleType):
    """`from lambda_glibc_gate import scan` is the public API, and this module is also named scan:
    the import system binds the package attribute to the module, so the module itself calls
    scan() (and keeps ScanOptions and collect as attributes)."""

    def __call__(self, paths: Sequence[str], options: ScanOptions) -> Report:
        return scan(paths, options)


sys.modules[__name__].__class__ = _CallableModule
