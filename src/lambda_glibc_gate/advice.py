"""The fix for a finding, chosen from the facts: toolchain, runtime, architecture, need.

Nothing here is a fixed string, and every code block runs as printed (the tests apply the
fixes and scan the result). What is offered follows from the failing symbols and glibc's
own symbol tables (glibc_symbols): relinking against the runtime's glibc (zig, cargo-lambda's
`.2.34` suffix) only when that glibc has every needed symbol at some version; otherwise the
code or the linking must change (musl, static glibc, replacing the calls). `runs-on:
ubuntu-22.04` (glibc 2.35) only when a build there binds every failing symbol at a version
the runtime has. Recipes and their sources: reference/runtimes.md §6.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from lambda_glibc_gate import glibc_symbols
from lambda_glibc_gate.report import Fix
from lambda_glibc_gate.runtimes import ELF_MACHINE
from lambda_glibc_gate.text import shell_word
from lambda_glibc_gate.versions import glibc_key

# Lambda architecture -> target triples / names each toolchain uses.
RUST_TRIPLE = {"x86_64": "x86_64-unknown-linux-gnu", "arm64": "aarch64-unknown-linux-gnu"}
RUST_MUSL = {"x86_64": "x86_64-unknown-linux-musl", "arm64": "aarch64-unknown-linux-musl"}
ZIG_TRIPLE = {"x86_64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}
ZIG_MUSL = {"x86_64": "x86_64-linux-musl", "arm64": "aarch64-linux-musl"}
GOARCH = {"x86_64": "amd64", "arm64": "arm64"}
NPM_CPU = {"x86_64": "x64", "arm64": "arm64"}
MANYLINUX_ARCH = ELF_MACHINE  # manylinux names the machine as ELF does
# PEP 600: the legacy manylinux names and the glibc they stand for.
MANYLINUX_LEGACY = {"2_17": "manylinux2014", "2_12": "manylinux2010", "2_5": "manylinux1"}
OLDEST_MANYLINUX = "2.17"  # manylinux2014; pip itself adds manylinux2010/1 for it on x86_64
PLATFORMS_PER_LINE = 3


@dataclass(frozen=True)
class Context:
    """What the advice depends on."""

    toolchain: str  # rust | go | c | c++ | python-extension | node-addon
    runtime_id: str
    runtime_family: str  # provided | python | nodejs | …
    language_version: str | None  # "3.11" for python3.11
    architecture: str  # x86_64 | arm64
    glibc_available: str  # the runtime's glibc, "2.34"
    member: str
    package: object | None = None  # packages.PackageInfo when known
    build_method: str | None = None  # SAM Metadata BuildMethod, e.g. rust-cargolambda
    build_command: str | None = None  # the user's own build line, e.g. from the workflow
    artifact_kind: str | None = None  # zip | directory | file (collect.Collected.kind)
    artifact_path: str | None = None  # the scanned path (a folder's members are relative to it)

    @classmethod
    def for_target(cls, target: object, toolchain: str, member: str, **fields: object) -> Context:
        """The context of `member` judged against a checks.Target (runtime, architecture, glibc)."""
        runtime = target.runtime
        fields.setdefault("build_command", getattr(target, "build_command", None))
        return cls(
            toolchain=toolchain,
            runtime_id=runtime.id,
            runtime_family=runtime.family,
            language_version=runtime.language_version,
            architecture=target.architecture,
            glibc_available=target.glibc,
            member=member,
            **fields,
        )


@dataclass(frozen=True)
class RunnerImage:
    label: str  # "ubuntu-22.04"
    glibc: str
    deprecated: date | None = None
    unsupported: date | None = None


@dataclass(frozen=True)
class Needs:
    """The failing version needs, as advice sees them."""

    symbols: tuple[str, ...]  # every symbol bound to a failing version
    complete: bool  # every failing version lists all its symbols (none capped, none symbol-less)
    # Weak undefined symbols: a link against a glibc without them still succeeds (they stay
    # null, as Rust std's statx / gettid expect), so they never make a relink impossible.
    weak: frozenset[str] = frozenset()

    @classmethod
    def of(cls, needs: Sequence[object]) -> Needs:
        symbols: list[str] = []
        weak: set[str] = set()
        complete = bool(needs)
        for need in needs:
            names = tuple(getattr(need, "symbols", ()))
            symbols.extend(names)
            weak.update(getattr(need, "weak_symbols", ()))
            if not names or getattr(need, "symbol_count", 0) > len(names):
                complete = False
        return cls(tuple(dict.fromkeys(symbols)), complete, frozenset(weak))


def glibc_fixes(
    ctx: Context,
    required: str,
    newer_runtime: object | None,
    runners: list[RunnerImage],
    needs: Sequence[object] = (),
) -> tuple[Fix, ...]:
    """Fixes for a binary that needs glibc `required` on a runtime that has less.

    `needs` are the failing elf.VersionNeed entries: their symbols decide whether a relink
    against the runtime's glibc can work, and whether an older build runner would do.
    """
    fixes: list[Fix] = []
    target = ctx.glibc_available
    facts = Needs.of(needs)
    # Symbols the runtime's glibc lacks at every version: no relink against it can link them.
    absent = [s for s in glibc_symbols.missing_at(facts.symbols, target, ctx.architecture) if s not in facts.weak]
    if ctx.toolchain == "python-extension":
        fixes.append(_pip_fix(ctx))
    elif ctx.toolchain == "node-addon":
        fixes.append(_npm_fix(ctx))
    elif ctx.toolchain == "rust":
        fixes += _rust_rewrite_fixes(ctx, absent) if absent else _rust_fixes(ctx, target)
    elif ctx.toolchain == "go":
        fixes += _go_fixes(ctx, target, relink=not absent)
    elif absent:
        fixes += _c_rewrite_fixes(ctx, absent)
    else:
        fixes += _c_fixes(ctx, target)
    if not absent and ctx.toolchain not in ("python-extension", "node-addon"):
        runner = _runner_that_fits(runners, target, facts, ctx.architecture)
        if runner is not None:
            fixes.append(_runner_fix(runner, target))
    if newer_runtime is not None:
        fixes.append(runtime_fix(newer_runtime))
    return tuple(fixes)


def _runner_that_fits(runners: list[RunnerImage], target: str, facts: Needs, arch: str) -> RunnerImage | None:
    """The newest GitHub-hosted image a rebuild on which would load on the runtime.

    A build against glibc G binds each call to its default version in G (the newest <= G);
    the image fits when every failing symbol exists in G and binds <= the runtime's glibc.
    Ubuntu 22.04 (2.35) fits AL2023 (2.34) in the usual case: `__isoc23_strtol@2.38` is
    what `strtol` becomes under glibc >= 2.38 headers, and 2.35 binds it at 2.2.5; not when
    the code calls `strlcpy` (new in 2.38) or needs `_dl_find_object` (2.35).
    """

    def _binds_within(symbol: str, glibc: str) -> bool:
        if glibc_symbols.bound_version(symbol, glibc, arch) is None:
            return symbol in facts.weak  # a weak reference links without it, and needs no version
        return glibc_symbols.binds_within(symbol, glibc, target, arch)

    def fits(runner: RunnerImage) -> bool:
        if not runner.glibc:
            return False
        if facts.complete:
            return all(_binds_within(s, runner.glibc) for s in facts.symbols)
        return glibc_key(runner.glibc) <= glibc_key(target)  # symbols unknown: only a glibc that fits

    fitting = [r for r in runners if fits(r)]
    return max(fitting, key=lambda r: glibc_key(r.glibc), default=None)


def _runner_fix(runner: RunnerImage, target: str) -> Fix:
    if glibc_key(runner.glibc) <= glibc_key(target):
        note = f"# {runner.label} has glibc {runner.glibc} (<= {target})"
        title = f"Or build on {runner.label}, whose glibc the runtime has"
    else:
        note = f"# glibc {runner.glibc}: it binds these symbols at versions <= {target}"
        title = f"Or build on {runner.label}: its glibc {runner.glibc} binds every failing symbol at <= {target}"
    if runner.deprecated:
        note += f"; GitHub deprecated this image on {runner.deprecated.isoformat()}"
    if runner.unsupported:
        note += f" and drops it on {runner.unsupported.isoformat()}"
    return Fix(title, f"runs-on: {runner.label}  {note}", "yaml")


def _absent_phrase(absent: Sequence[str], arch: str) -> str:
    """ "arc4random (glibc 2.36), strlcpy (glibc 2.38)" """
    return ", ".join(f"{s} (glibc {glibc_symbols.oldest_glibc_for(s, arch)})" for s in absent)


def _find_calls_fix(absent: Sequence[str], target: str, arch: str, rust: bool) -> Fix:
    names = sorted({s.removeprefix("__isoc23_") for s in absent})
    pattern = "|".join(names)
    where = ". ~/.cargo/registry/src" if rust else "."
    kinds = "--include='*.rs' --include='*.c' --include='*.h'" if rust else (
        "--include='*.c' --include='*.h' --include='*.cc' --include='*.cpp' --include='*.hpp'"
    )
    return Fix(
        f"Or replace the calls glibc {target} lacks: {_absent_phrase(absent, arch)}; they are here",
        f"grep -rnwE {shell_word(pattern)} {kinds} {where}",
    )


def _rust_build_line(ctx: Context, triple: str) -> str:
    """The user's own `cargo lambda build` line with the target set, or the default one."""
    if ctx.build_command:
        try:
            words = shlex.split(ctx.build_command)
        except ValueError:
            words = []
        if words[:3] == ["cargo", "lambda", "build"]:
            kept: list[str] = []
            skip = False
            for word in words:
                if skip:
                    skip = False
                elif word == "--target":
                    skip = True  # its value follows
                elif word.startswith("--target=") or word in ("--arm64", "--x86-64"):
                    continue  # the architecture shortcuts conflict with --target
                else:
                    kept.append(word)
            return shlex.join([*kept, "--target", triple])
    zipped = " --output-format zip" if ctx.artifact_kind == "zip" else ""
    return f"cargo lambda build --release --target {triple}{zipped}"


def _rust_fixes(ctx: Context, target: str) -> list[Fix]:
    triple = RUST_TRIPLE[ctx.architecture]
    return [
        Fix(
            f"Link against glibc {target} with cargo-lambda (zig picks the version)",
            _rust_build_line(ctx, f"{triple}.{target}"),
        ),
        Fix(
            "Or with cargo-zigbuild directly",
            f"cargo zigbuild --release --target {triple}.{target}",
        ),
        _rust_musl_fix(ctx),
        _rust_static_glibc_fix(ctx),
    ]


def _rust_musl_fix(ctx: Context, title: str = "Or link statically with musl (no glibc needed at runtime)") -> Fix:
    musl = RUST_MUSL[ctx.architecture]
    return Fix(title, f"rustup target add {musl}\n{_rust_build_line(ctx, musl)}")


def _rust_static_glibc_fix(ctx: Context) -> Fix:
    triple = RUST_TRIPLE[ctx.architecture]
    return Fix(
        "Or link glibc statically: .cargo/config.toml (not Cargo.toml), built with plain cargo, not zig",
        f'[target.{triple}]\nrustflags = ["-C", "target-feature=+crt-static"]',
        "toml",
    )


def _rust_rewrite_fixes(ctx: Context, absent: Sequence[str]) -> list[Fix]:
    """glibc {target} lacks a symbol at every version: relinking against it cannot link."""
    target = ctx.glibc_available
    return [
        _rust_musl_fix(
            ctx,
            f"Link statically with musl: glibc {target} has no {', '.join(absent)}, "
            f"so no build against it (cargo lambda --target <triple>.{target}) can link",
        ),
        _rust_static_glibc_fix(ctx),
        _find_calls_fix(absent, target, ctx.architecture, rust=True),
    ]


def _go_fixes(ctx: Context, target: str, relink: bool) -> list[Fix]:
    goarch = GOARCH[ctx.architecture]
    fixes = [
        Fix(
            "Build without cgo: a pure-Go binary needs no glibc at all",
            f"CGO_ENABLED=0 GOOS=linux GOARCH={goarch} go build -tags lambda.norpc -o bootstrap .",
        )
    ]
    if relink:
        fixes.append(
            Fix(
                f"Or keep cgo and link against glibc {target} with zig",
                "pip install ziglang\n"
                f'CGO_ENABLED=1 CC="python -m ziglang cc -target {ZIG_TRIPLE[ctx.architecture]}.{target}" '
                f"GOOS=linux GOARCH={goarch} \\\n  go build -tags lambda.norpc -o bootstrap .",
            )
        )
    return fixes


# The Amazon Linux image whose glibc each Lambda OS has. AL2023 is pinned to a tag from before
# the GCC 14 libstdc++ update, which Lambda's images did not have (reference/runtimes.md §6, [ci132]).
BUILD_IMAGE_FOR_GLIBC = {
    "2.34": "amazonlinux:2023.6.20250317.2",
    "2.26": "amazonlinux:2",
    "2.17": "amazonlinux:2018.03",
}


def _build_image_fix(target: str) -> list[Fix]:
    image = BUILD_IMAGE_FOR_GLIBC.get(target)
    if image is None:
        return []
    return [Fix("Or build inside the runtime's own OS, pinned by tag", f"container: {image}", "yaml")]


def _compiler_env(triple: str, *extra: str) -> str:
    """CC / CXX for make, cmake (a fresh build folder), autotools and the cc crate: no placeholder."""
    flags = "".join(f" {flag}" for flag in extra)
    return (
        "pip install ziglang\n"
        f'export CC="python -m ziglang cc -target {triple}{flags}"\n'
        f'export CXX="python -m ziglang c++ -target {triple}{flags}"\n'
        "# then rebuild from clean: make, cmake (new build folder), ./configure and cargo's cc crate read CC/CXX"
    )


def _c_fixes(ctx: Context, target: str) -> list[Fix]:
    triple = f"{ZIG_TRIPLE[ctx.architecture]}.{target}"
    title = f"Compile against glibc {target} with zig"
    if ctx.toolchain == "c++":
        title += " (zig c++ links LLVM's libc++ statically: the runtime's libstdc++ does not matter)"
    return [Fix(title, _compiler_env(triple)), *_build_image_fix(target)]


def _c_rewrite_fixes(ctx: Context, absent: Sequence[str]) -> list[Fix]:
    """The runtime's glibc lacks a symbol at every version: relinking against it cannot link."""
    target = ctx.glibc_available
    return [
        Fix(
            f"Link glibc statically: glibc {target} has no {', '.join(absent)}, so no build "
            f"against it (zig -target <triple>.{target}, its own OS) can link; a static binary needs none",
            'export CC="cc -static" CXX="c++ -static"\n'
            "# then rebuild from clean; getaddrinfo, dlopen and iconv still want the build host's glibc",
        ),
        Fix(
            "Or link musl statically with zig (the calls must exist in musl)",
            _compiler_env(ZIG_MUSL[ctx.architecture]),
        ),
        _find_calls_fix(absent, target, ctx.architecture, rust=False),
    ]


def pip_fix(
    python: str | None,
    glibc: str,
    architecture: str,
    target_dir: str = "package/",
    title: str | None = None,
) -> Fix:
    """pip picks wheels for the runtime's platform, never the build host's.

    pip takes each --platform literally: only manylinux2014/2010 expand to older legacy tags
    (pip src/pip/_internal/utils/compatibility_tags.py, _get_custom_platforms), so
    `--platform manylinux_2_34_x86_64` alone skips every 2_17..2_33 wheel and silently
    installs an older release. Every tag from manylinux2014 up to the runtime's glibc is named,
    newest first (pip prefers earlier tags). --upgrade: into an existing --target folder pip
    otherwise only warns that the package exists and changes nothing.
    """
    arch = MANYLINUX_ARCH[architecture]
    minor_top = int(glibc.split(".")[1])
    # Down to manylinux2014 (2.17, Lambda's oldest glibc); only an older --glibc goes lower.
    lowest = 17 if glibc_key(glibc) >= glibc_key(OLDEST_MANYLINUX) else 5
    platforms: list[str] = []
    for minor in range(minor_top, lowest - 1, -1):
        tag = f"2_{minor}"
        platforms.append(f"manylinux_{tag}_{arch}")
        if tag in MANYLINUX_LEGACY:
            platforms.append(f"{MANYLINUX_LEGACY[tag]}_{arch}")
    # Without a known Python, pip's own interpreter version is the one it picks wheels for.
    version = f"--python-version {python} " if python else ""
    lines = [
        "pip install --upgrade --only-binary=:all: --implementation cp "
        f"{version}--target {shlex.quote(target_dir)} -r requirements.txt"
    ]
    for start in range(0, len(platforms), PLATFORMS_PER_LINE):
        lines.append("  " + " ".join(f"--platform {p}" for p in platforms[start : start + PLATFORMS_PER_LINE]))
    return Fix(
        title or f"Install the wheels built for glibc {glibc} or older",
        " \\\n".join(lines),
    )


def _pip_target(ctx: Context) -> str:
    """The folder the package was installed into, as the user's build made it."""
    root = getattr(ctx.package, "root", None) or ""
    parent = root.rsplit("/", 1)[0] if "/" in root else ""
    if ctx.artifact_kind in ("directory", "folder") and ctx.artifact_path:  # members are relative to it
        base = ctx.artifact_path.rstrip("/")
        return f"{base}/{parent}/" if parent else f"{base}/"
    return f"{parent}/" if parent else "package/"


def _pip_fix(ctx: Context) -> Fix:
    package = getattr(ctx.package, "name", None)
    what = f"{package}'s wheel" if package else "the wheels"
    return pip_fix(
        ctx.language_version,
        ctx.glibc_available,
        ctx.architecture,
        _pip_target(ctx),
        f"Reinstall {what} for glibc {ctx.glibc_available} or older ({ctx.runtime_id})",
    )


def _npm_fix(ctx: Context) -> Fix:
    cpu = NPM_CPU[ctx.architecture]
    return Fix(
        f"Install the prebuilt binaries for Lambda's platform ({cpu}, glibc)",
        f"npm install --os=linux --cpu={cpu} --libc=glibc",
    )


def runtime_fix(runtime: object, why: str = "", first: bool = False) -> Fix:
    """"Move the function to X": the one wording, wherever a newer runtime is the way out."""
    runtime_id = getattr(runtime, "id", str(runtime))
    deprecation = getattr(runtime, "deprecation", None)
    when = f" (supported until {deprecation.isoformat()})" if deprecation else ""
    title = f"{'Move' if first else 'Or move'} the function to {runtime_id}{when}{f', {why}' if why else ''}"
    return Fix(title, f"Runtime: {runtime_id}", "yaml")


def bootstrap_fix(found_in: str | None) -> Fix:
    if found_in:
        return Fix(
            "Put bootstrap at the root of the zip",
            f"cd {shell_word(found_in.rsplit('/', 1)[0])} && zip -j ../function.zip bootstrap",
        )
    return Fix(
        "Name the executable bootstrap, at the root of the zip (<your-binary>: your executable)",
        "cp target/release/<your-binary> bootstrap && zip function.zip bootstrap",
    )


def exec_bit_fix() -> Fix:
    return Fix(
        "Set the execute bit before zipping (zip keeps Unix modes)",
        "chmod 755 bootstrap && zip function.zip bootstrap",
    )


def arch_fixes(toolchain: str, binary_arch: str, function_arch: str, glibc: str) -> tuple[Fix, ...]:
    fixes = (
        [Fix(f"Or run the function on {binary_arch}", f"Architectures: [{binary_arch}]", "yaml")]
        if binary_arch in RUST_TRIPLE and binary_arch != function_arch  # not for a FreeBSD build of x86_64
        else []
    )
    build = {
        "rust": Fix(
            f"Build for {function_arch}",
            f"cargo lambda build --release --target {RUST_TRIPLE[function_arch]}.{glibc}",
        ),
        "go": Fix(
            f"Build for {function_arch}",
            f"GOOS=linux GOARCH={GOARCH[function_arch]} go build -tags lambda.norpc -o bootstrap .",
        ),
        "python-extension": pip_fix(None, glibc, function_arch, title=f"Install {function_arch} wheels"),
        "node-addon": Fix(
            f"Install {function_arch} binaries",
            f"npm install --os=linux --cpu={NPM_CPU[function_arch]} --libc=glibc",
        ),
    }
    default = Fix(f"Compile for {function_arch} with zig", _compiler_env(f"{ZIG_TRIPLE[function_arch]}.{glibc}"))
    return (build.get(toolchain, default), *fixes)


def musl_fixes(toolchain: str, architecture: str, glibc: str | None = None) -> tuple[Fix, ...]:
    if toolchain == "rust":
        suffix = f".{glibc}" if glibc else ""
        return (
            Fix(
                "Build a glibc binary for the runtime instead",
                f"cargo lambda build --release --target {RUST_TRIPLE[architecture]}{suffix}",
            ),
        )
    return (Fix("Link musl statically, so no loader is needed", _compiler_env(ZIG_MUSL[architecture])),)


def libstdcxx_fixes(ctx: Context, glibc_failing: bool = False) -> tuple[Fix, ...]:
    """A C++ library newer than the runtime's libstdc++.

    `glibc_failing`: the same file also needs a newer glibc. Then -static-libstdc++ does not
    help (the result still needs that glibc): zig c++ against the runtime's glibc fixes both.
    """
    if ctx.toolchain == "python-extension":
        return (_pip_fix(ctx),)
    if ctx.toolchain == "node-addon":
        return (_npm_fix(ctx),)
    target = ctx.glibc_available
    zig = Fix(
        f"Compile with zig c++ against glibc {target}: it links LLVM's libc++ statically, "
        "so the runtime's libstdc++ does not matter",
        _compiler_env(f"{ZIG_TRIPLE[ctx.architecture]}.{target}"),
    )
    if glibc_failing:
        return (zig,)
    # Measured on a glibc 2.36 host (GCC 12): the static libstdc++ and libgcc bind arc4random@2.36
    # (std::random_device) and _dl_find_object@2.35 (the unwinder): so only where glibc <= runtime's.
    return (
        zig,
        *_build_image_fix(target),
        Fix(
            f"Or, on a build host whose glibc is <= {target}, link libstdc++ and libgcc statically "
            "(on a newer one they bind _dl_find_object@GLIBC_2.35 and arc4random@GLIBC_2.36)",
            'export LDFLAGS="-static-libstdc++ -static-libgcc"\n'
            "# then rebuild from clean: make, cmake (new build folder) and ./configure read LDFLAGS",
        ),
    )


def loadable_build_fixes(
    package: str, architecture: str, glibc: str, runtime_id: str | None = None
) -> tuple[Fix, ...]:
    """A package whose native builds are all for other platforms (no-loadable-build).

    A rebuild from source needs Node, npm and a compiler beside the runtime's glibc: the SAM build
    image of a Node runtime has all three (sam build --use-container pulls
    public.ecr.aws/sam/build-<runtime>:latest-<arch>; reference/runtimes.md [sam-bi]); a bare
    amazonlinux image has no npm, so for other runtimes no container is named."""
    cpu = NPM_CPU[architecture]
    fixes = [
        Fix(
            f"Install {package} with the build for Lambda's platform (linux, {cpu}, glibc; npm 10.3+)",
            f"npm install --os=linux --cpu={cpu} --libc=glibc {shell_word(package)}",
        )
    ]
    if runtime_id and runtime_id.startswith("nodejs"):
        image = f"public.ecr.aws/sam/build-{runtime_id}:latest-{architecture}"
        fixes.append(
            Fix(
                f"Or build {package} from source in the runtime's own build image (the job runs in this container)",
                f"container: {image}\n# then, in a run: step\nnpm rebuild {shell_word(package)} --build-from-source",
                "yaml",
            )
        )
    return tuple(fixes)
