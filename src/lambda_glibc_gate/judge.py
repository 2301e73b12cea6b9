"""Facts of one artifact + the runtime it is judged against -> an ArtifactReport: what exec and
ld.so on Lambda would do with every file the runtime loads."""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from lambda_glibc_gate import advice, checks, loaders, runtimes
from lambda_glibc_gate.binary_facts import glibc_required, toolchain_of, versions_required
from lambda_glibc_gate.collect import Collected
from lambda_glibc_gate.report import ArtifactReport, BinaryReport, Finding, severity_rank
from lambda_glibc_gate.resolve import LAYER_ROOT, TASK_ROOT, Filesystem, Tree, load_trees, roots_of
from lambda_glibc_gate.text import one_line as safe_name


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
            f.rule in ("unreadable-archive", "unsafe-archive") and f.severity == "error" for f in collected.findings
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
    toolchain = toolchain_of(member, info, build_method)
    target = checks.for_member(target, member)
    shown = safe_name(member)
    findings: list[Finding] = []
    findings += checks.check_architecture(shown, info, target, toolchain)
    if not findings:
        findings += checks.check_interpreter(shown, info, target, toolchain)
        # A file a wheel or npm package installed is fixed by installing another build of it.
        ecosystem = getattr(package, "ecosystem", None)
        advised = {"pypi": "python-extension", "npm": "node-addon"}.get(ecosystem, toolchain)
        ctx = advice.Context.for_target(
            target,
            advised,
            shown,
            package=package,
            build_method=build_method,
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
        glibc_required=glibc_required(info),
        toolchain=toolchain_of(member, info, build_method),
        versions_required=versions_required(info),
        package=package.describe() if package is not None else None,
        result=result,
    )


def _result(findings: list[Finding]) -> str:
    worst = max((severity_rank(f.severity) for f in findings), default=0)
    return {2: "fail", 1: "warning"}.get(worst, "pass")
