"""The fix for a finding, chosen from the facts: toolchain, runtime, architecture, need.

Nothing here is a fixed string: `runs-on: ubuntu-22.04` is offered only when that
image's glibc is at or below the runtime's, the glibc suffix for zig / cargo-lambda is
the runtime's own, and a newer runtime is named only when it would accept the binary.
Recipes and their sources: reference/runtimes.md §6.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lambda_glibc_gate.report import Fix
from lambda_glibc_gate.versions import glibc_key

# Lambda architecture -> target triples / names each toolchain uses.
RUST_TRIPLE = {"x86_64": "x86_64-unknown-linux-gnu", "arm64": "aarch64-unknown-linux-gnu"}
RUST_MUSL = {"x86_64": "x86_64-unknown-linux-musl", "arm64": "aarch64-unknown-linux-musl"}
ZIG_TRIPLE = {"x86_64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}
GOARCH = {"x86_64": "amd64", "arm64": "arm64"}
NPM_CPU = {"x86_64": "x64", "arm64": "arm64"}
MANYLINUX_ARCH = {"x86_64": "x86_64", "arm64": "aarch64"}


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


@dataclass(frozen=True)
class RunnerImage:
    label: str  # "ubuntu-22.04"
    glibc: str
    deprecated: date | None = None
    unsupported: date | None = None


def glibc_fixes(
    ctx: Context, required: str, newer_runtime: object | None, runners: list[RunnerImage]
) -> tuple[Fix, ...]:
    """Fixes for a binary that needs glibc `required` on a runtime that has less."""
    fixes: list[Fix] = []
    target = ctx.glibc_available
    if ctx.toolchain == "python-extension":
        fixes.append(_pip_fix(ctx))
    elif ctx.toolchain == "node-addon":
        fixes.append(_npm_fix(ctx))
    elif ctx.toolchain == "rust":
        fixes += _rust_fixes(ctx, target)
    elif ctx.toolchain == "go":
        fixes.append(
            Fix(
                "Build without cgo: a pure-Go binary needs no glibc at all",
                f"CGO_ENABLED=0 GOOS=linux GOARCH={GOARCH[ctx.architecture]} \\\n"
                "  go build -tags lambda.norpc -o bootstrap .",
            )
        )
    else:
        fixes += _c_fixes(ctx, target)
    runner = _runner_that_fits(runners, target)
    if runner is not None and ctx.toolchain not in ("python-extension", "node-addon"):
        note = f"# {runner.label} has glibc {runner.glibc} (<= {target})"
        if runner.deprecated:
            note += f"; GitHub deprecated this image on {runner.deprecated.isoformat()}"
        if runner.unsupported:
            note += f" and drops it on {runner.unsupported.isoformat()}"
        fixes.append(
            Fix(
                f"Build on {runner.label}, whose glibc the runtime has",
                f"runs-on: {runner.label}  {note}",
                "yaml",
            )
        )
    if newer_runtime is not None:
        fixes.append(runtime_fix(newer_runtime))
    return tuple(fixes)


def _runner_that_fits(runners: list[RunnerImage], target: str) -> RunnerImage | None:
    """The newest GitHub-hosted Ubuntu image whose glibc is <= the runtime's, if any."""
    fitting = [r for r in runners if glibc_key(r.glibc) <= glibc_key(target)]
    return max(fitting, key=lambda r: glibc_key(r.glibc), default=None)


def _rust_fixes(ctx: Context, target: str) -> list[Fix]:
    triple = RUST_TRIPLE[ctx.architecture]
    return [
        Fix(
            f"Link against glibc {target} with cargo-lambda (zig picks the version)",
            f"cargo lambda build --release --target {triple}.{target}",
        ),
        Fix(
            "Or with cargo-zigbuild directly",
            f"cargo zigbuild --release --target {triple}.{target}",
        ),
        Fix(
            "Or link statically with musl (no glibc needed at runtime)",
            f"rustup target add {RUST_MUSL[ctx.architecture]}\n"
            f"cargo lambda build --release --target {RUST_MUSL[ctx.architecture]}",
        ),
        Fix(
            "Or link glibc statically: .cargo/config.toml (not Cargo.toml; not with zigbuild)",
            f'[target.{triple}]\nrustflags = ["-C", "target-feature=+crt-static"]',
            "toml",
        ),
    ]


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


def _c_fixes(ctx: Context, target: str) -> list[Fix]:
    compiler = "c++" if ctx.toolchain == "c++" else "cc"
    return [
        Fix(
            f"Compile against glibc {target} with zig (pip install ziglang)",
            f"python -m ziglang {compiler} -target {ZIG_TRIPLE[ctx.architecture]}.{target} …",
        ),
        *_build_image_fix(target),
    ]


def _pip_fix(ctx: Context) -> Fix:
    """The AWS recipe: pip picks wheels for the runtime's platform, never the build host's."""
    arch = MANYLINUX_ARCH[ctx.architecture]
    glibc = ctx.glibc_available.replace(".", "_")
    platforms = [f"manylinux_{glibc}_{arch}"]
    if glibc != "2_17":
        platforms.append(f"manylinux2014_{arch}")
    python = ctx.language_version or "3.12"
    package = getattr(ctx.package, "name", None)
    requirement = package if package else "-r requirements.txt"
    flags = " ".join(f"--platform {p}" for p in platforms)
    return Fix(
        f"Install wheels built for glibc {ctx.glibc_available} ({ctx.runtime_id})",
        f"pip install {flags} \\\n  --only-binary=:all: --implementation cp "
        f"--python-version {python} \\\n  --target package/ {requirement}",
    )


def _npm_fix(ctx: Context) -> Fix:
    cpu = NPM_CPU[ctx.architecture]
    return Fix(
        f"Install the prebuilt binaries for Lambda's platform ({cpu}, glibc)",
        f"npm install --os=linux --cpu={cpu} --libc=glibc",
    )


def runtime_fix(runtime: object) -> Fix:
    runtime_id = getattr(runtime, "id", str(runtime))
    deprecation = getattr(runtime, "deprecation", None)
    when = f" (supported until {deprecation.isoformat()})" if deprecation else ""
    return Fix(f"Or move the function to {runtime_id}{when}", f"Runtime: {runtime_id}", "yaml")


def bootstrap_fix(found_in: str | None) -> Fix:
    if found_in:
        return Fix(
            "Put bootstrap at the root of the zip",
            f"cd {found_in.rsplit('/', 1)[0]} && zip -j ../function.zip bootstrap",
        )
    return Fix(
        "Name the executable bootstrap, at the root of the zip",
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
        if binary_arch in RUST_TRIPLE
        else []
    )
    build = {
        "rust": Fix(
            f"Build for {function_arch}",
            f"cargo lambda build --release --{'arm64' if function_arch == 'arm64' else 'x86-64'}",
        ),
        "go": Fix(
            f"Build for {function_arch}",
            f"GOOS=linux GOARCH={GOARCH[function_arch]} go build -o bootstrap .",
        ),
        "python-extension": Fix(
            f"Install {function_arch} wheels",
            f"pip install --platform manylinux_{glibc.replace('.', '_')}_{MANYLINUX_ARCH[function_arch]} "
            "--only-binary=:all: --target package/ -r requirements.txt",
        ),
        "node-addon": Fix(
            f"Install {function_arch} binaries",
            f"npm install --os=linux --cpu={NPM_CPU[function_arch]} --libc=glibc",
        ),
    }
    default = Fix(
        f"Compile for {function_arch}",
        f"python -m ziglang cc -target {ZIG_TRIPLE[function_arch]}.{glibc} …",
    )
    return (build.get(toolchain, default), *fixes)


def musl_fixes(toolchain: str, architecture: str) -> tuple[Fix, ...]:
    if toolchain == "rust":
        return (
            Fix(
                "Build a glibc binary for the runtime instead",
                f"cargo lambda build --release --target {RUST_TRIPLE[architecture]}",
            ),
        )
    return (
        Fix(
            "Link musl statically, so no loader is needed",
            f"python -m ziglang cc -target {architecture.replace('arm64', 'aarch64')}-linux-musl -static …",
        ),
    )


def libstdcxx_fixes(ctx: Context) -> tuple[Fix, ...]:
    """A C++ library newer than the runtime's libstdc++."""
    if ctx.toolchain == "python-extension":
        return (_pip_fix(ctx),)
    if ctx.toolchain == "node-addon":
        return (_npm_fix(ctx),)
    return (
        Fix(
            "Link libstdc++ and libgcc statically",
            "-static-libstdc++ -static-libgcc   # add to the link flags",
            "text",
        ),
        *_build_image_fix(ctx.glibc_available),
    )
