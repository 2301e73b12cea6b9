"""inputs -> facts -> findings: the one entry point the CLI and the Action share."""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from lambda_glibc_gate import advice, checks, loaders, runtimes
from lambda_glibc_gate.archive import Limits, UsageError, expand_paths, open_artifact, safe_name
from lambda_glibc_gate.elf import MalformedElf, read_elf
from lambda_glibc_gate.report import ArtifactReport, BinaryReport, Finding, Report, severity_rank
from lambda_glibc_gate.resolve import LAYER_ROOT, TASK_ROOT, Filesystem, Tree, load_trees, roots_of
from lambda_glibc_gate.versions import glibc_key

_VERSION = re.compile(r"^\d+(\.\d+){1,3}$")


@dataclass
class ScanOptions:
    # AWS runtime id, or "auto" (the CLI's and the Action's default): each artifact as the
    # templates declare its function, and provided.al2023 for one no template claims that has
    # a bootstrap at its root.
    runtime: str = "provided.al2023"
    architecture: str = "x86_64"
    glibc: str | None = None  # override the runtime's glibc, "2.39"
    glibcxx: str | None = None  # override the runtime's GLIBCXX, "3.4.33"
    fail_on: str = "error"
    layers: tuple[str, ...] = ()
    as_layer: bool = False
    today: date | None = None  # for tests of dates; None = today
    template_dirs: tuple[str, ...] = (".",)  # where --runtime auto looks for templates
    progress: Callable[[int, int, str], None] | None = None  # (done, total, path) before each artifact
    build_command: str | None = None  # the user's build line (a workflow's `cargo lambda build …`), for fixes


@dataclass
class Collected:
    """What one artifact holds, read once."""

    artifact_path: str
    kind: str
    tree: Tree
    modes: dict[str, int | None] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)  # declared sizes, for dead-weight notes
    heads: dict[str, bytes] = field(default_factory=dict)  # first bytes of bootstrap
    bootstrap_target: str | None = None  # the member a symlinked bootstrap leads to, if any
    findings: list[Finding] = field(default_factory=list)
    packages: object | None = None  # packages.PackageIndex
    unpacked_size: int = 0


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
    """Scan every artifact; raises UsageError / UnknownRuntimeError for unusable arguments."""
    architecture = _architecture(options.architecture)
    for label, value in (("--glibc", options.glibc), ("--glibcxx", options.glibcxx)):
        if value and not _VERSION.match(value):
            raise UsageError(f"{label} takes a version such as 2.34, not {value!r}")
    if options.fail_on not in ("error", "warning", "never"):
        raise UsageError(f"--fail-on takes error, warning or never, not {options.fail_on!r}")
    today = options.today or date.today()
    artifact_paths = expand_paths(paths)
    layers = [_layer(path) for path in (expand_paths(options.layers) if options.layers else [])]

    if options.runtime == "auto":
        jobs = _jobs_from_templates(artifact_paths, options)
    else:
        runtime = runtimes.get_runtime(options.runtime)
        jobs = [Job(path, runtime, architecture) for path in artifact_paths]

    mount = LAYER_ROOT if options.as_layer else TASK_ROOT
    from lambda_glibc_gate.parallel import collect_many  # imported here: parallel imports this module

    # Reading is most of the cost: artifacts are read in parallel (within a memory budget), once
    # each even when several functions share one.
    unique_paths = list(dict.fromkeys(job.path for job in jobs))
    collected_once = dict(zip(unique_paths, collect_many(unique_paths, mount, progress=options.progress), strict=True))
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
        function_layers = [_layer(p) for p in getattr(job.function, "layers", ()) if os.path.exists(p)]
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
    result.notices.extend(runtime_hint(result))
    return result


CUSTOM_RUNTIME_FALLBACK = "provided.al2023"  # what `sam init` and cargo lambda default to


def _has_root_bootstrap(collected: Collected) -> bool:
    """A root entry named bootstrap, even one the reader refused (a FIFO, a bad link)."""
    return "bootstrap" in collected.modes or any(f.member == "bootstrap" for f in collected.findings)


def _layer(path: str) -> tuple[Tree, list[Finding], int]:
    """A layer as Lambda mounts it at /opt, what was wrong with reading it, and its size."""
    collected = collect(path, LAYER_ROOT)
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


def _architecture(value: str) -> str:
    try:
        return runtimes.normalize_architecture(value)
    except runtimes.UnknownArchitectureError:
        raise UsageError(f"--arch takes x86_64 or arm64, not {value!r}") from None


def _jobs_from_templates(artifact_paths: list[str], options: ScanOptions) -> list[Job]:
    """--runtime auto: one job per function whose code an artifact is, holds or lies in."""
    from lambda_glibc_gate import templates

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
            jobs.append(Job(path, None, _architecture(options.architecture), problem=problem, unclaimed=True))
            continue
        try:
            architecture = runtimes.normalize_architecture(function.architecture)
        except runtimes.UnknownArchitectureError:
            architecture = "x86_64"  # Lambda's default; templates.py has already noted the oddity
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


# -- facts ----------------------------------------------------------------------------
def collect(path: str, mount: str) -> Collected:
    """Read an artifact once: every ELF parsed, modes and metadata kept, nothing extracted."""
    from lambda_glibc_gate.packages import METADATA_NAMES, PackageIndex, read_limit

    try:
        opened = open_artifact(path)
    except UsageError as error:
        # expand_paths found it, so it is there but no file or folder (a FIFO, a socket) or gone
        # since: a finding on this artifact, as archive.py does for one it cannot read; the
        # others are still scanned.
        kind = "zip" if path.lower().endswith(".zip") else "file"
        collected = Collected(path, kind, Tree(mount=mount, label=path))
        collected.findings.append(
            Finding("unreadable-archive", "error", f"{error}: it was not scanned", details={"problem": "not-a-file"})
        )
        return collected
    with opened as artifact:
        tree = Tree(mount=mount, label=path)
        collected = Collected(path, artifact.kind, tree)
        metadata = {}
        names: list[str] = []
        regular: dict[str, object] = {}  # name -> Member, for a symlinked bootstrap's target
        for member in artifact.members():
            if member.is_dir:
                continue
            names.append(member.name)
            collected.modes[member.name] = member.mode
            collected.sizes[member.name] = member.size
            if member.is_symlink:
                tree.symlinks[member.name] = member.link_target or ""
                continue
            tree.names.add(member.name)
            regular[member.name] = member
            if member.name.rsplit("/", 1)[-1] in METADATA_NAMES:
                metadata[member.name] = member
            data = artifact.read_if_elf(member)
            if data is None:
                if member.name == "bootstrap":
                    collected.heads[member.name] = artifact.read_head(member, 256) or b""
                continue
            try:
                tree.elves[member.name] = read_elf(data)
            except MalformedElf as error:
                collected.findings.append(
                    Finding(
                        "malformed-elf",
                        "error",
                        f"{safe_name(member.name)} looks like ELF but cannot be loaded: {error}",
                        member=member.name,
                    )
                )
            del data  # one member's bytes at a time

        _follow_bootstrap_link(collected, artifact, regular)

        def read_text(name: str) -> bytes | None:
            member = metadata.get(name)
            # the index's own limit; past it the file is cut, never an unsafe-archive finding
            return artifact.read_head(member, read_limit(name)) if member is not None else None

        collected.packages = PackageIndex.build(names, read_text)
        collected.findings[:0] = list(artifact.problems)
        collected.unpacked_size = artifact.unpacked_size
    return collected


def _follow_bootstrap_link(collected: Collected, artifact, regular: dict) -> None:
    """Lambda execs /var/task/bootstrap through its links: find the file they lead to, and read
    its first bytes when it is no ELF file (a script)."""
    tree = collected.tree
    if "bootstrap" not in tree.symlinks:
        return
    found = Filesystem([tree], {}, (), "").lookup(tree.absolute("bootstrap"))
    if found is None:
        return
    collected.bootstrap_target = found[1]
    if found[1] not in tree.elves and found[1] in regular:
        collected.heads["bootstrap"] = artifact.read_head(regular[found[1]], 256) or b""


# -- judgement ------------------------------------------------------------------------
def judge(
    collected: Collected,
    layers: list[Tree],
    target: checks.Target,
    as_layer: bool = False,
    build_method: str | None = None,
) -> ArtifactReport:
    runtime = target.runtime
    report = ArtifactReport(
        collected.artifact_path,
        collected.kind,
        runtime.id,
        target.architecture,
        unpacked_size=collected.unpacked_size,
    )
    report.glibc = target.glibc
    report.findings += collected.findings
    report.findings += checks.check_runtime_architecture(target)
    report.findings += checks.check_deprecated(target)
    tree = collected.tree
    if not as_layer:
        layer_bootstrap = any("bootstrap" in t.names or "bootstrap" in t.symlinks for t in layers)
        unreadable = not collected.modes and any(
            f.rule == "unreadable-archive" and f.severity == "error" for f in collected.findings
        )
        modes = collected.modes
        if "bootstrap" in tree.symlinks:
            report.findings += checks.check_bootstrap_link(tree.symlinks["bootstrap"], collected.bootstrap_target)
            # what is exec'd is the file the link leads to, with that file's mode
            modes = {**modes, "bootstrap": modes.get(collected.bootstrap_target or "", 0o120777)}
        if not unreadable and not (tree.symlinks.get("bootstrap") is not None and collected.bootstrap_target is None):
            # a zip that could not be opened says nothing about its bootstrap
            report.findings += checks.check_bootstrap(modes, layer_bootstrap, target, collected.kind)
        if "bootstrap" in collected.heads:
            report.findings += checks.check_bootstrap_program(
                "bootstrap", collected.heads["bootstrap"], _interpreter_status(collected.tree, layers, runtime)
            )
    trees = [tree] if as_layer else [tree, *layers]
    machine = checks.ELF_MACHINE[target.architecture]
    filesystem = Filesystem(
        trees,
        runtimes.system_libraries(runtime.os, target.architecture),
        runtimes.library_search_path(runtime),
        machine,
    )
    # What the function's own loaders (Node, Python) pass over never reaches ld.so.
    selection = loaders.select(
        tree.names, tree.elves, collected.packages, loaders.platform_for(runtime, target.architecture)
    )
    report.findings += checks.check_loadable_builds(selection.missing, target)
    report.findings += checks.not_loaded_notes(selection.unused, collected.sizes, target)
    roots = [(t, member) for t, member in roots_of(tree) if member not in selection.unused]
    contexts = load_trees(filesystem, roots)
    for member, info in sorted(tree.elves.items()):
        path = tree.absolute(member)
        if member in selection.unused and not contexts.get(path):
            report.binaries.append(_binary_report(member, info, collected, build_method, "not-loaded"))
            continue
        loaded = [c.resolutions for c in contexts.get(path, [])]
        if not loaded:  # reached from nowhere (a dlopen'ed plugin?): judged on its own
            loaded = [{soname: filesystem.resolve(path, info, soname) for soname in info.needed}]
        binary, findings = _judge_binary(member, info, loaded, target, collected, build_method)
        report.binaries.append(binary)
        report.findings += findings
    # Libraries from layers that this package loads are checked too: they fail it just the same.
    for path, loaded_contexts in sorted(contexts.items()):
        first = loaded_contexts[0]
        if first.tree is tree:
            continue
        _, findings = _judge_binary(
            path, first.info, [c.resolutions for c in loaded_contexts], target, collected, build_method
        )
        report.findings += [f for f in findings if f.severity != "note"]
    return report


def _interpreter_status(tree: Tree, layers: list[Tree], runtime) -> Callable[[str], str]:
    """path -> "present" | "absent" | "unknown": in the package (/var/task), a layer (/opt), or
    the runtime's image as the database lists it."""
    known = runtimes.interpreters(runtime.os, runtime.id)

    def status(path: str) -> str:
        absolute = path if path.startswith("/") else posixpath.join(TASK_ROOT, path)
        for candidate in (tree, *layers):
            prefix = candidate.mount.rstrip("/") + "/"
            if absolute.startswith(prefix) and absolute[len(prefix) :] in candidate.names:
                return "present"
        if absolute.startswith((TASK_ROOT + "/", LAYER_ROOT + "/")):
            return "absent"
        return known.get(absolute, "unknown")

    return status


def _judge_binary(
    member: str,
    info,
    contexts: list[dict],
    target: checks.Target,
    collected: Collected,
    build_method: str | None = None,
) -> tuple[BinaryReport, list[Finding]]:
    """Findings for one ELF file: as exec sees it, then as ld.so loads it in each context."""
    package = collected.packages.owner(member) if collected.packages is not None else None
    toolchain = checks.toolchain_of(member, info, build_method)
    target = checks.for_member(target, member)
    shown = safe_name(member)
    findings: list[Finding] = []
    findings += checks.check_architecture(shown, info, target, toolchain)
    if not findings:
        findings += checks.check_interpreter(shown, info, target, toolchain)
        # A file a wheel or npm package installed is fixed by installing another build of it.
        ecosystem = getattr(package, "ecosystem", None)
        advised = {"pypi": "python-extension", "npm": "node-addon"}.get(ecosystem, toolchain)
        ctx = advice.Context(
            toolchain=advised,
            runtime_id=target.runtime.id,
            runtime_family=target.runtime.family,
            language_version=target.runtime.language_version,
            architecture=target.architecture,
            glibc_available=target.glibc,
            member=shown,
            package=package,
            build_method=build_method,
            build_command=target.build_command,
            artifact_kind=collected.kind,
            artifact_path=collected.artifact_path,
        )
        seen: set[tuple[str, str]] = set()
        for resolutions in contexts:
            for finding in checks.check_libraries(
                shown, list(resolutions.values()), target, ctx
            ) + checks.check_versions(shown, info, resolutions, target, ctx):
                if (finding.rule, finding.message) not in seen:
                    seen.add((finding.rule, finding.message))
                    findings.append(finding)
        findings += checks.check_python_abi(shown, target, toolchain)
        findings += checks.static_note(shown, info)
    for finding in findings:
        finding.member = member
        if package is not None:
            finding.details.setdefault("package", package.describe())
    return _binary_report(member, info, collected, build_method, _result(findings)), findings


def _binary_report(member: str, info, collected: Collected, build_method: str | None, result: str) -> BinaryReport:
    package = collected.packages.owner(member) if collected.packages is not None else None
    return BinaryReport(
        member=member,
        machine=info.machine,
        elf_class=info.elf_class,
        interpreter=info.interpreter,
        static=info.static,
        needed=info.needed,
        glibc_required=checks.glibc_required(info),
        toolchain=checks.toolchain_of(member, info, build_method),
        versions_required=checks.versions_required(info),
        package=package.describe() if package is not None else None,
        result=result,
    )


def _result(findings: list[Finding]) -> str:
    worst = max((severity_rank(f.severity) for f in findings), default=0)
    return {2: "fail", 1: "warning"}.get(worst, "pass")


def runtime_hint(report: Report) -> list[Finding]:
    """When one newer runtime would clear every error, say it once at the top."""
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
