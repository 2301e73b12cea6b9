"""Which native files the function's own loaders would pick, and which they never load.

npm packages ship a prebuilt addon for every platform (`prebuilds/linux-arm64/x.node`,
`prebuilds/linux-x64/x.musl.node`, `prebuilds/freebsd-x64/…`), platform packages for the
other C libraries (`@rollup/rollup-linux-x64-musl`) and wheels ship a module per CPython.
ld.so never sees the ones the language's loader passes over, so judging them as if loaded
cries wolf. This module repeats each loader's selection from member names and package
metadata alone:

- node-gyp-build (prebuildify layouts): `build/Release/*.node` first, then the
  `prebuilds/<platform>-<arch>[+arch]` folder with the fewest architectures, then the file
  whose tags (runtime, abi / napi, uv, armv, libc) match, most specific first;
- node-pre-gyp: the package.json `binary.module_path` template, evaluated for Lambda;
- npm platform packages: package.json `os` / `cpu` / `libc` (npm installs, and the parent's
  loader requires, only the matching one);
- CPython's importer: `EXTENSION_SUFFIXES` in order (`.cpython-312-x86_64-linux-gnu.so`,
  `.abi3.so`, `.so`), then `.py`.

Facts (Node ABI numbers, CPython suffixes) live in data/loaders.yaml with their sources.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from lambda_glibc_gate.data_files import load_data

__all__ = ["Platform", "Selection", "MissingCandidate", "platform_for", "select"]


@dataclass(frozen=True)
class Platform:
    """What the loaders on the function's runtime select native files by."""

    node_arch: str  # os.arch(): x64 | arm64
    armv: str  # node-gyp-build's ARM version: "8" on arm64, "" on x64
    node_abi: str | None  # NODE_MODULE_VERSION; None when the runtime's Node is unknown
    uv: str  # libuv major
    python_suffixes: tuple[str, ...] | None  # EXTENSION_SUFFIXES; None: no known CPython
    label: str  # "linux-x64 glibc", for messages
    os: str = "linux"
    libc: str = "glibc"


@dataclass(frozen=True)
class MissingCandidate:
    """A package with native builds, none of which the function's platform would load."""

    package: str  # the package's folder in the artifact
    name: str  # npm package name
    found: tuple[str, ...]  # what is there instead ("darwin-arm64", "linux-x64 musl")
    how: str  # the loader's words for what it looked for


@dataclass
class Selection:
    unused: dict[str, str] = field(default_factory=dict)  # member -> why it is never loaded
    missing: list[MissingCandidate] = field(default_factory=list)


@lru_cache(maxsize=1)
def _facts() -> dict:
    return load_data("loaders.yaml")


def platform_for(runtime: object, architecture: str) -> Platform:
    """The loaders' view of a Lambda runtime on one architecture."""
    facts = _facts()
    node, python = facts["node"], facts["python"]
    family = getattr(runtime, "family", None)
    version = getattr(runtime, "language_version", None) or ""
    node_abi = node["module_versions"].get(version) if family == "nodejs" else None
    suffixes = None
    if family == "python" and re.fullmatch(r"3\.\d+", version):
        tag = version.replace(".", "")
        suffixes = (f".cpython-{tag}-{python['multiarch'][architecture]}.so", ".abi3.so", ".so")
    arch = node["arch"][architecture]
    return Platform(
        node_arch=arch,
        armv=node["armv"][architecture],
        node_abi=node_abi,
        uv=node["libuv_major"],
        python_suffixes=suffixes,
        label=f"linux-{arch} glibc",
    )


def select(names: Iterable[str], elves: Iterable[str], packages: object, platform: Platform) -> Selection:
    """Which ELF members (`elves`) the loaders never load, and packages with no usable build.

    `names` is every regular member (a loader's directory listing); `packages` is the
    artifact's packages.PackageIndex (or None).
    """
    names = set(names)
    elves = sorted(elves)
    selection = Selection()
    _platform_packages(elves, packages, platform, selection)
    _prebuilds(names, elves, platform, selection)
    _pre_gyp(names, elves, packages, platform, selection)
    if platform.python_suffixes is not None:
        _python_modules(names, elves, platform.python_suffixes, selection)
    return selection


# -- npm platform packages (os / cpu / libc) -------------------------------------------------
def _accepts(allowed: tuple[str, ...], value: str) -> bool:
    """npm-install-checks: a `!x` entry excludes x; other entries, if any, must include it."""
    if f"!{value}" in allowed:
        return False
    wanted = [entry for entry in allowed if not entry.startswith("!")]
    return not wanted or value in wanted


def _fits(info: object, platform: Platform) -> bool:
    return (
        _accepts(getattr(info, "npm_os", ()), platform.os)
        and _accepts(getattr(info, "npm_cpu", ()), platform.node_arch)
        and _accepts(getattr(info, "npm_libc", ()), platform.libc)
    )


def _platform_label(info: object) -> str:
    parts = [",".join(getattr(info, key)) for key in ("npm_os", "npm_cpu", "npm_libc") if getattr(info, key)]
    return "-".join(parts) or info.name


def _platform_packages(elves: list[str], packages: object, platform: Platform, selection: Selection) -> None:
    if packages is None:
        return
    restricted = [
        info
        for info in packages.packages()
        if info.ecosystem == "npm" and (info.npm_os or info.npm_cpu or info.npm_libc)
    ]
    by_parent: dict[str, list] = {}
    for info in restricted:
        if info.platform_package_of:
            by_parent.setdefault(info.platform_package_of, []).append(info)
        if _fits(info, platform):
            continue
        reason = (
            f"npm package {info.name} is for {_platform_label(info)}, not {platform.label}: npm does not "
            f"install it there and {info.platform_package_of or 'its parent'} never requires it"
        )
        prefix = info.root + "/"
        for member in elves:
            if member.startswith(prefix) and packages.owner(member) is info:
                selection.unused.setdefault(member, reason)
    passed_over = {info.name for info in restricted if not _fits(info, platform)}
    roots = {info.name: info.root for info in packages.packages() if info.ecosystem == "npm"}
    for parent, family in sorted(by_parent.items()):
        if parent in passed_over:
            continue  # the parent is itself another platform's build: it is never loaded either
        if not any(_fits(info, platform) for info in family):
            selection.missing.append(
                MissingCandidate(
                    package=roots.get(parent, family[0].root),
                    name=parent,
                    found=tuple(sorted(f"{info.name} ({_platform_label(info)})" for info in family)),
                    how=f"an optional platform package of {parent} for {platform.label}",
                )
            )


# -- node-gyp-build / prebuildify ------------------------------------------------------------
def _tuple(name: str) -> tuple[str, tuple[str, ...]] | None:
    """node-gyp-build parseTuple: "darwin-x64+arm64" -> ("darwin", ("x64", "arm64"))."""
    parts = name.split("-")
    if len(parts) != 2 or not parts[0]:
        return None
    architectures = tuple(parts[1].split("+"))
    return (parts[0], architectures) if all(architectures) else None


def _tags(file: str) -> dict | None:
    """node-gyp-build parseTags: "bcrypt.glibc.node" -> {"libc": "glibc", "specificity": 1}."""
    parts = file.split(".")
    if parts.pop() != "node":
        return None
    tags: dict = {"file": file, "specificity": 0}
    for tag in parts:
        if tag in ("node", "electron", "node-webkit"):
            tags["runtime"] = tag
        elif tag == "napi":
            tags["napi"] = True
        elif tag.startswith("abi"):
            tags["abi"] = tag[3:]
        elif tag.startswith("uv"):
            tags["uv"] = tag[2:]
        elif tag.startswith("armv"):
            tags["armv"] = tag[4:]
        elif tag in ("glibc", "musl"):
            tags["libc"] = tag
        else:
            continue
        tags["specificity"] += 1
    return tags


def _tag_mismatch(tags: dict, platform: Platform) -> str | None:
    """node-gyp-build matchTags for runtime "node", as a reason (None: a match)."""
    if tags.get("runtime") and tags["runtime"] != "node":
        return f"built for {tags['runtime']}"
    if tags.get("abi") and not tags.get("napi") and platform.node_abi is not None and tags["abi"] != platform.node_abi:
        return f"built for Node ABI {tags['abi']}, the runtime's Node has {platform.node_abi}"
    if tags.get("uv") and tags["uv"] != platform.uv:
        return f"built for libuv {tags['uv']}"
    if tags.get("armv") and tags["armv"] != platform.armv:
        return f"built for ARMv{tags['armv']}"
    if tags.get("libc") and tags["libc"] != platform.libc:
        return f"built for {tags['libc']}, Lambda runs glibc"
    return None


def _preference(tags: dict) -> tuple:
    """node-gyp-build compareTags for runtime "node": the runtime named, abi over napi, most tags."""
    return (tags.get("runtime") != "node", not tags.get("abi"), -tags["specificity"])


def _prebuilds(names: set[str], elves: list[str], platform: Platform, selection: Selection) -> None:
    # package folder -> tuple folder -> files in it
    layouts: dict[str, dict[str, list[str]]] = {}
    for name in names:
        parts = name.split("/")
        if len(parts) >= 3 and parts[-3] == "prebuilds":
            package = "/".join(parts[:-3])
            layouts.setdefault(package, {}).setdefault(parts[-2], []).append(parts[-1])
    for package, tuples in sorted(layouts.items()):
        prefix = _inside(package, "prebuilds/")
        in_package = [member for member in elves if member.startswith(prefix)]
        if not in_package:
            continue
        release = _release_build(names, package)
        chosen = set() if release else _chosen_prebuild(package, tuples, platform)
        chosen_folders = {posixpath.dirname(member) for member in chosen}
        for member in in_package:
            if member in chosen or member in selection.unused:
                continue
            if not member.endswith(".node") and posixpath.dirname(member) in chosen_folders:
                continue  # a library beside the addon node-gyp-build loads: ld.so decides (RPATH $ORIGIN)
            if release:
                selection.unused[member] = f"node-gyp-build loads {release} first, never prebuilds/"
            else:
                selection.unused[member] = _why_not(member[len(prefix) :], chosen, platform)
        if not chosen and not release:
            found = sorted(f"{folder} {_libc_of(files)}".strip() for folder, files in tuples.items() if _tuple(folder))
            selection.missing.append(
                MissingCandidate(
                    package=package,
                    name=posixpath.basename(package) or package,
                    found=tuple(found),
                    how=f"node-gyp-build looks for prebuilds/linux-{platform.node_arch}/*.node for {platform.label}",
                )
            )


def _inside(package: str, path: str) -> str:
    """`path` in the package folder (the artifact root when the package is the whole artifact)."""
    return f"{package}/{path}" if package else path


def _libc_of(files: list[str]) -> str:
    libcs = sorted({tags["libc"] for tags in map(_tags, files) if tags and "libc" in tags})
    return "/".join(libcs)


def _release_build(names: set[str], package: str) -> str | None:
    prefix = _inside(package, "build/Release/")
    built = sorted(n for n in names if n.startswith(prefix) and n.endswith(".node") and "/" not in n[len(prefix) :])
    return built[0] if built else None


def _chosen_prebuild(package: str, tuples: dict[str, list[str]], platform: Platform) -> set[str]:
    """The file(s) node-gyp-build would load from prebuilds/, as member names."""
    matching = [
        (len(parsed[1]), folder)
        for folder in tuples
        if (parsed := _tuple(folder)) and parsed[0] == platform.os and platform.node_arch in parsed[1]
    ]
    if not matching:
        return set()
    folder = min(matching)[1]
    candidates = [tags for tags in map(_tags, tuples[folder]) if tags and _tag_mismatch(tags, platform) is None]
    if not candidates:
        return set()
    candidates.sort(key=_preference)
    base = _inside(package, f"prebuilds/{folder}/")
    if platform.node_abi is None:
        # The runtime's Node is unknown (a custom runtime): any ABI-tagged build may be the one.
        best = _preference(candidates[0])[0]
        return {base + tags["file"] for tags in candidates if _preference(tags)[0] == best}
    return {base + candidates[0]["file"]}


def _why_not(relative: str, chosen: set[str], platform: Platform) -> str:
    folder, _, file = relative.partition("/")
    winner = min(chosen) if chosen else None
    loads = f"; node-gyp-build loads {winner}" if winner else ""
    parsed = _tuple(folder)
    if parsed is None or parsed[0] != platform.os or platform.node_arch not in parsed[1]:
        return f"prebuilt for {folder}, not {platform.label}: node-gyp-build never loads it{loads}"
    tags = _tags(file.rsplit("/", 1)[-1])
    reason = _tag_mismatch(tags, platform) if tags else None
    if reason:
        return f"{reason}: node-gyp-build passes it over{loads}"
    return f"a less specific build than the one node-gyp-build picks{loads}"


# -- node-pre-gyp ----------------------------------------------------------------------------
def _pre_gyp(names: set[str], elves: list[str], packages: object, platform: Platform, selection: Selection) -> None:
    if packages is None:
        return
    for info in packages.packages():
        binary = getattr(info, "npm_binary", None)
        if info.ecosystem != "npm" or binary is None:
            continue
        module_path, module_name, napi_versions = binary
        template = posixpath.normpath(posixpath.join(info.root, module_path))
        static_root = template.split("{", 1)[0].rsplit("/", 1)[0]
        pattern = _pre_gyp_pattern(f"{template}/{module_name}.node", platform, napi_versions)
        inside = static_root + "/"
        built = [m for m in elves if m.startswith(inside) and m.endswith(".node") and m not in selection.unused]
        if not built:
            continue
        loaded = [m for m in built if pattern.fullmatch(m)]
        for member in built:
            if member not in loaded:
                selection.unused[member] = (
                    f"node-pre-gyp loads {module_path}/{module_name}.node for {platform.label}, not this file"
                )
        if not loaded:
            how = f"node-pre-gyp's {module_path} for {platform.label}"
            selection.missing.append(MissingCandidate(info.root, info.name, tuple(built), how))


def _pre_gyp_pattern(template: str, platform: Platform, napi_versions: tuple[str, ...]) -> re.Pattern:
    values = {
        "platform": re.escape(platform.os),
        "arch": re.escape(platform.node_arch),
        "libc": re.escape(platform.libc),
        "configuration": "Release",
        "node_abi": f"node-v{platform.node_abi}" if platform.node_abi else r"node-v\d+",
        "napi_build_version": "|".join(map(re.escape, napi_versions)) or r"\d+",
    }
    values["node_napi_label"] = f"(?:napi-v(?:{values['napi_build_version']})|{values['node_abi']})"
    out, position = [], 0
    for match in re.finditer(r"\{(\w+)\}", template):
        out.append(re.escape(template[position : match.start()]))
        out.append(f"(?:{values.get(match.group(1), '[^/]*')})")
        position = match.end()
    out.append(re.escape(template[position:]))
    return re.compile("".join(out))


# -- CPython's importer ----------------------------------------------------------------------
def _python_modules(names: set[str], elves: list[str], suffixes: tuple[str, ...], selection: Selection) -> None:
    """Of `x.cpython-311-….so`, `x.cpython-312-….so`, `x.abi3.so`, `x.so`, `x.py` in one folder,
    FileFinder imports the first that EXTENSION_SUFFIXES (then .py) names; the rest are never
    imported."""
    groups: dict[tuple[str, str], list[str]] = {}
    for member in elves:
        folder, base = posixpath.split(member)
        if base.endswith(".so"):
            groups.setdefault((folder, base.split(".", 1)[0]), []).append(member)
    for (folder, module), members in sorted(groups.items()):
        stem = posixpath.join(folder, module)
        winner = next((stem + suffix for suffix in suffixes if stem + suffix in names), None)
        if winner is None and f"{stem}.py" in names:
            winner = f"{stem}.py"
        if winner is None:
            continue
        for member in members:
            if member != winner and member not in selection.unused:
                selection.unused[member] = (
                    f"the runtime's Python imports {posixpath.basename(winner)} for module {module} "
                    "(its import suffixes come first), never this file"
                )
