"""Which Python distribution (wheel) or npm package owns a file in a Lambda package.

A finding about `cryptography/hazmat/bindings/_rust.abi3.so` is only actionable when it can say
"cryptography 44.0.0 (wheel cp311-abi3-manylinux_2_34_x86_64)" and the fix can name the pip or
npm command. This module reads only small metadata files (`*.dist-info/` RECORD, WHEEL,
METADATA headers, top_level.txt; `node_modules/**/package.json`) and answers `owner(member)`
with dict lookups, so a 20k-member zip costs one pass.

Everything here comes from an untrusted archive: unreadable or malformed metadata is ignored
(never raised), names are bounded and printable, and no RECORD entry may claim a file outside
its own site-packages folder.
"""

from __future__ import annotations

import csv
import itertools
import json
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

__all__ = ["PackageIndex", "PackageInfo", "site_packages_root"]

ReadText = Callable[[str], "bytes | None"]

METADATA_LIMIT = 1 << 20  # WHEEL, METADATA headers, top_level.txt, package.json
RECORD_LIMIT = 16 << 20  # the RECORD of a big distribution (torch, scipy) runs to megabytes
# The files the index reads; the scanner reads them (and only these) with read_limit().
METADATA_NAMES = frozenset({"RECORD", "WHEEL", "METADATA", "top_level.txt", "package.json"})


def read_limit(name: str) -> int:
    """The bytes of metadata file `name` the index uses: the one limit the scanner reads by."""
    return RECORD_LIMIT if name.rsplit("/", 1)[-1] == "RECORD" else METADATA_LIMIT
LABEL_LIMIT = 214  # npm's name limit; also bounds Python names, versions and tags in messages
LIST_LIMIT = 64  # wheel tags, npm os/cpu/libc entries: real ones have a handful

# PEP 600 / 599 / 571 / 513: the glibc each platform tag promises to be enough.
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_MANYLINUX = re.compile(r"manylinux_(\d+)_(\d+)_\w+", re.ASCII)
_LEGACY = re.compile(r"(manylinux1|manylinux2010|manylinux2014)_\w+", re.ASCII)
_TAG = re.compile(r"[\w.]+-[\w.]+-[\w.]+", re.ASCII)
_SEPARATORS = re.compile(r"[-_.]+")

# Top-level names shared by many distributions: never evidence of ownership.
_SHARED_TOP_LEVEL = frozenset({"__pycache__", "bin", "include", "share", "lib"})


@dataclass(frozen=True)
class PackageInfo:
    """One installed Python distribution or npm package, as its own metadata describes it."""

    ecosystem: str  # "pypi" | "npm"
    name: str  # as written in METADATA Name / package.json name
    version: str | None
    wheel_tags: tuple[str, ...]  # WHEEL "Tag:" lines, expanded, in file order
    root: str  # the .dist-info folder / the package folder inside the artifact
    platform_package_of: str | None = None  # npm: "sharp" for "@img/sharp-linux-x64"
    npm_os: tuple[str, ...] = ()
    npm_cpu: tuple[str, ...] = ()
    npm_libc: tuple[str, ...] = ()
    # node-pre-gyp: package.json "binary" (module_path template, module_name, napi_versions)
    npm_binary: tuple[str, str, tuple[str, ...]] | None = None

    def describe(self) -> str:
        """One line for messages.

        E.g. "cryptography 44.0.0 (wheel cp311-abi3-manylinux_2_34_x86_64)", "sharp 0.33.5 (npm)".
        """
        label = self.name if self.version is None else f"{self.name} {self.version}"
        if self.ecosystem == "npm":
            return f"{label} (npm)"
        if self.wheel_tags:
            return f"{label} (wheel {_compress_tags(self.wheel_tags)})"
        return f"{label} (pypi)"

    @property
    def platform_tags(self) -> tuple[str, ...]:
        """The wheel's platform tags: ("manylinux_2_17_x86_64", "manylinux2014_x86_64")."""
        return _unique(tag.split("-")[2] for tag in self.wheel_tags)

    @property
    def manylinux_glibc(self) -> str | None:
        """The glibc the wheel's manylinux tags declare it needs ("2.28"); None without one.

        A wheel tagged for several glibc levels installs on the lowest of them, so that is
        what it promises to need (legacy names: manylinux2014 = 2.17, 2010 = 2.12, 1 = 2.5).
        """
        floors = [floor for floor in map(_manylinux_floor, self.platform_tags) if floor]
        if not floors:
            return None
        major, minor = min(floors)
        return f"{major}.{minor}"

    @property
    def is_musllinux(self) -> bool:
        """Built for musl only (no manylinux tag): it cannot load on glibc-based Lambda."""
        musl = any(tag.startswith("musllinux_") for tag in self.platform_tags)
        return musl and self.manylinux_glibc is None

    @property
    def python_tag(self) -> str | None:
        """The first wheel tag's interpreter part: "cp311", "py3"."""
        return self.wheel_tags[0].split("-")[0] if self.wheel_tags else None

    @property
    def abi_tag(self) -> str | None:
        """The first wheel tag's ABI part: "abi3", "cp311", "none"."""
        return self.wheel_tags[0].split("-")[1] if self.wheel_tags else None


class PackageIndex:
    """member path -> owning package, built once from the artifact's member names."""

    def __init__(
        self,
        dist_infos: dict[str, PackageInfo],
        record_owner: dict[str, PackageInfo],
        top_level_owner: dict[tuple[str, str], PackageInfo | None],
        npm_packages: dict[str, PackageInfo],
    ) -> None:
        self._dist_infos = dist_infos  # .dist-info folder -> dist
        self._record_owner = record_owner  # member listed in a RECORD -> dist
        self._top_level_owner = top_level_owner  # (site, module key) -> dist; None = ambiguous
        self._sites = {site for site, _ in top_level_owner}
        self._npm_packages = npm_packages  # package folder -> package

    @classmethod
    def build(cls, names: Iterable[str], read_text: ReadText) -> PackageIndex:
        """Index every member name; `read_text(name)` is called only for metadata files."""
        members: dict[str, str] = {}  # normalised path -> name as the artifact spells it
        dist_info_dirs: set[str] = set()
        npm_roots: set[str] = set()
        for name in names:
            path = _clean(name)
            if path is None:
                continue
            members.setdefault(path, name)
            parent, base = posixpath.split(path)
            if _is_dist_info_dir(parent):
                dist_info_dirs.add(parent)
            if base == "package.json":
                root = _npm_package_root(parent)
                if root is not None:
                    npm_roots.add(root)
        read = _bounded_reader(read_text, members)
        dist_infos, record_owner, top_level_owner = _index_python(dist_info_dirs, members, read)
        npm_packages = _index_npm(npm_roots, read)
        return cls(dist_infos, record_owner, top_level_owner, npm_packages)

    def owner(self, member: str) -> PackageInfo | None:
        """The package that installed `member`, or None when nothing in the artifact says."""
        path = _clean(member)
        if path is None:
            return None
        ancestors = list(_ancestors(path))  # innermost first, ends with "" (the root)
        for folder in (path, *ancestors):  # a dist's own metadata is always its own
            if folder in self._dist_infos:
                return self._dist_infos[folder]
        listed = self._record_owner.get(path)
        if listed is not None:
            return listed
        npm = self._npm_owner(path)
        if npm is not None:
            return npm
        # No RECORD names it: match its top-level folder / module in each site-packages
        # folder holding it, outermost first (an installed dist beats one vendored inside it).
        for site in reversed(ancestors):
            if site in self._sites:
                relative = path[len(site) + 1 :] if site else path
                found = self._top_level_owner.get((site, _module_key(relative.split("/")[0])))
                if found is not None:
                    return found
        return None

    def packages(self) -> list[PackageInfo]:
        """Every distribution and npm package found, ordered by root."""
        found = {*self._dist_infos.values(), *self._npm_packages.values()}
        return sorted(found, key=lambda info: (info.root, info.ecosystem))

    def _npm_owner(self, path: str) -> PackageInfo | None:
        # Nearest enclosing node_modules/<name> or node_modules/@scope/<name>: innermost wins.
        parts = path.split("/")
        for index in range(len(parts) - 2, -1, -1):
            if parts[index] != "node_modules":
                continue
            depth = index + 3 if parts[index + 1].startswith("@") else index + 2
            if depth <= len(parts):
                found = self._npm_packages.get("/".join(parts[:depth]))
                if found is not None:
                    return found
        return None


def site_packages_root(member: str) -> str | None:
    """The folder that holds `.dist-info` folders for a member, by Lambda's layouts.

    "python/lib/python3.12/site-packages/" and "python/" for layers, "" for a flat
    `pip install -t .` zip; None for Node layouts (node_modules/, nodejs/) and unsafe paths.
    """
    path = _clean(member)
    if path is None:
        return None
    parts = path.split("/")
    for index, part in enumerate(parts[:-1]):
        if part in ("site-packages", "dist-packages"):
            return "/".join(parts[: index + 1]) + "/"
    if parts[0] == "python" and len(parts) > 1:
        return "python/"
    if parts[0] == "nodejs" or "node_modules" in parts:
        return None
    return ""


# --- Python ---------------------------------------------------------------------------------


def _index_python(
    dist_info_dirs: set[str], members: dict[str, str], read: Callable[[str, int], bytes | None]
) -> tuple[
    dict[str, PackageInfo], dict[str, PackageInfo], dict[tuple[str, str], PackageInfo | None]
]:
    dist_infos: dict[str, PackageInfo] = {}
    record_owner: dict[str, PackageInfo] = {}
    top_level_owner: dict[tuple[str, str], PackageInfo | None] = {}
    # Outermost site first, so a file claimed twice goes to the installed dist, not to one
    # vendored inside it (setuptools/_vendor/*.dist-info); then by path, for determinism.
    for dist_info in sorted(dist_info_dirs, key=lambda d: (d.count("/"), d)):
        site = posixpath.dirname(dist_info)
        info = _read_dist(dist_info, read)
        dist_infos[dist_info] = info
        claimed = _record_members(dist_info, site, members, read)
        for path in claimed:
            record_owner.setdefault(path, info)
        keys = {_module_key(_first_component(site, path)) for path in claimed}
        if not claimed:  # no usable RECORD: fall back to what top_level.txt says
            keys.update(_top_level_names(read(f"{dist_info}/top_level.txt", METADATA_LIMIT)))
        keys.add(_normalise_name(info.name))
        keys.add(_normalise_name(_split_dist_info_name(dist_info)[0]))
        for key in keys - _SHARED_TOP_LEVEL - {""}:
            slot = (site, key)
            if slot in top_level_owner and top_level_owner[slot] is not info:
                top_level_owner[slot] = None  # two dists claim it: say nothing rather than guess
            else:
                top_level_owner[slot] = info
    return dist_infos, record_owner, top_level_owner


def _read_dist(dist_info: str, read: Callable[[str, int], bytes | None]) -> PackageInfo:
    dir_name, dir_version = _split_dist_info_name(dist_info)
    name, version = _metadata_name_version(read(f"{dist_info}/METADATA", METADATA_LIMIT))
    tags = _wheel_tags(read(f"{dist_info}/WHEEL", METADATA_LIMIT))
    return PackageInfo("pypi", name or dir_name, version or dir_version, tags, dist_info)


def _record_members(
    dist_info: str, site: str, members: dict[str, str], read: Callable[[str, int], bytes | None]
) -> list[str]:
    """Members listed in RECORD, outside the dist-info folder and inside the site folder."""
    data = read(f"{dist_info}/RECORD", RECORD_LIMIT)
    if not data:
        return []
    claimed = []
    for entry in _record_paths(data):
        path = _inside(site, entry)
        if path is not None and path in members and not path.startswith(dist_info + "/"):
            claimed.append(path)
    return claimed


def _record_paths(data: bytes) -> Iterator[str]:
    # Line by line, so one malformed row (bad quoting, NUL) costs that row only. A line with no
    # quote and no NUL is split as csv splits it, without a csv reader per line (thousands of
    # lines in a large wheel's RECORD).
    for line in data.decode("utf-8", errors="replace").splitlines():
        if '"' not in line and "\0" not in line:
            path = line.split(",", 1)[0]
            if path:
                yield path
            continue
        try:
            row = next(csv.reader([line]), None)
        except csv.Error:
            continue
        if row and row[0]:
            yield row[0]


def _inside(site: str, entry: str) -> str | None:
    """RECORD entry -> member path, or None when it leaves the site folder (`../../bin/x`)."""
    if entry.startswith("/"):
        return None
    path = posixpath.normpath(posixpath.join(site, entry))
    if site:
        return path if path.startswith(site + "/") else None
    return None if path in (".", "..") or path.startswith(("../", "/")) else path


def _metadata_name_version(data: bytes | None) -> tuple[str | None, str | None]:
    text = _decode(data)
    name = version = None
    for line in (text or "").splitlines():
        if not line.strip():
            break  # end of the headers; the long description follows
        key, colon, value = line.partition(":")
        if not colon or line[0] in " \t":
            continue
        key = key.strip().lower()
        if key == "name" and name is None:
            name = _label(value)
        elif key == "version" and version is None:
            version = _label(value)
    return name, version


def _wheel_tags(data: bytes | None) -> tuple[str, ...]:
    tags: dict[str, None] = {}  # insertion-ordered set
    for line in (_decode(data) or "").splitlines():
        key, colon, value = line.partition(":")
        if colon and key.strip().lower() == "tag":
            for tag in _expand_tag(value.strip(), LIST_LIMIT - len(tags)):
                tags.setdefault(tag)
            if len(tags) >= LIST_LIMIT:
                break  # the cap is reached: later lines cannot change the first LIST_LIMIT
    return tuple(tags)


def _expand_tag(tag: str, wanted: int = LIST_LIMIT) -> list[str]:
    """The first `wanted` tags of a compressed set ("cp311-abi3-a.b"), in wheel order.

    A compressed set is a product: 35 names per part in 214 characters is 42,875 tags, so it
    is never built whole; only the first `wanted` of it (parts deduplicated first).
    """
    if wanted <= 0 or len(tag) > LABEL_LIMIT or not _TAG.fullmatch(tag):
        return []
    # after the fullmatch, every non-empty dotted name is [\w]+: each product is a valid tag
    pythons, abis, platforms = (_unique(n for n in part.split(".") if n) for part in tag.split("-"))
    combinations = itertools.product(pythons, abis, platforms)
    return ["-".join(three) for three in itertools.islice(combinations, wanted)]


def _compress_tags(tags: tuple[str, ...]) -> str:
    """Wheel-filename form when the tags are a full product, else the tags joined by ", "."""
    parts = [tag.split("-") for tag in tags]
    pythons, abis, platforms = (_unique(part[i] for part in parts) for i in range(3))
    if len(set(tags)) == len(pythons) * len(abis) * len(platforms):
        return "-".join(".".join(group) for group in (pythons, abis, platforms))
    return ", ".join(tags)


def _manylinux_floor(platform: str) -> tuple[int, int] | None:
    match = _MANYLINUX.fullmatch(platform)
    if match:
        return int(match.group(1)), int(match.group(2))
    legacy = _LEGACY.fullmatch(platform)
    return _LEGACY_MANYLINUX[legacy.group(1)] if legacy else None


def _top_level_names(data: bytes | None) -> set[str]:
    lines = (_decode(data) or "").splitlines()[:LIST_LIMIT]
    return {_module_key(line.strip().split("/")[0]) for line in lines if _label(line)}


def _split_dist_info_name(dist_info: str) -> tuple[str, str | None]:
    """E.g. "foo_bar-1.0.dist-info" -> ("foo_bar", "1.0"): names there never contain "-"."""
    stem = posixpath.basename(dist_info)[: -len(".dist-info")]
    name, _, version = stem.partition("-")
    return (_label(name) or "unknown"), _label(version)


def _is_dist_info_dir(folder: str) -> bool:
    base = posixpath.basename(folder)
    return base.endswith(".dist-info") and len(base) > len(".dist-info")


def _first_component(site: str, path: str) -> str:
    relative = path[len(site) + 1 :] if site else path
    return relative.split("/")[0]


def _module_key(component: str) -> str:
    """What a top-level entry is called: numpy.libs, numpy/, numpy.py, numpy.cpython-...so,
    and the dist name "NumPy" all give "numpy"."""
    if component.endswith(".dist-info"):
        return ""  # a dist's own folder is matched exactly, never by name
    if component.endswith(".libs"):  # auditwheel's folder of grafted libraries
        return _normalise_name(component[: -len(".libs")])
    return _normalise_name(component.split(".")[0])  # foo.py, _foo.cpython-311-...so


def _normalise_name(name: str) -> str:
    """PEP 503 style: "Zope.Interface" and "zope_interface" are one name."""
    return _SEPARATORS.sub("_", name).lower()


# --- npm ------------------------------------------------------------------------------------


def _index_npm(roots: set[str], read: Callable[[str, int], bytes | None]) -> dict[str, PackageInfo]:
    packages: dict[str, PackageInfo] = {}
    dependents: dict[str, list[PackageInfo]] = {}  # name -> packages listing it as optional
    for root in sorted(roots):
        parsed = _read_package_json(root, read(f"{root}/package.json", METADATA_LIMIT))
        if parsed is None:
            continue
        info, optional = parsed
        packages[root] = info
        for dependency in optional:
            dependents.setdefault(dependency, []).append(info)
    for root, info in packages.items():
        if not (info.npm_os or info.npm_cpu or info.npm_libc):
            continue
        parents = [p for p in dependents.get(info.name, ()) if p is not info]
        if parents:
            # The installer puts a platform package next to (or under) its parent: nearest wins.
            parent = max(parents, key=lambda p: (_shared_depth(p.root, root), p.root))
            packages[root] = replace(info, platform_package_of=parent.name)
    return packages


def _read_package_json(root: str, data: bytes | None) -> tuple[PackageInfo, list[str]] | None:
    if data is None:
        return None
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):  # bad JSON or encoding, absurd nesting
        return None
    if not isinstance(document, dict):
        return None
    folder = root.split("node_modules/")[-1]  # "sharp", "@img/sharp-linux-x64"
    name = _label(document.get("name")) or _label(folder)
    if name is None:
        return None
    optional = document.get("optionalDependencies")
    optional_names = [dep for dep in optional if _label(dep)] if isinstance(optional, dict) else []
    info = PackageInfo(
        "npm",
        name,
        _label(document.get("version")),
        (),
        root,
        npm_os=_label_list(document.get("os")),
        npm_cpu=_label_list(document.get("cpu")),
        npm_libc=_label_list(document.get("libc")),
        npm_binary=_pre_gyp_binary(document.get("binary")),
    )
    return info, optional_names


def _pre_gyp_binary(value: object) -> tuple[str, str, tuple[str, ...]] | None:
    """node-pre-gyp's `binary` object: (module_path, module_name, napi_versions), or None."""
    if not isinstance(value, dict):
        return None
    module_path, module_name = _label(value.get("module_path")), _label(value.get("module_name"))
    if module_path is None or module_name is None:
        return None
    versions = value.get("napi_versions")
    napi = _label_list([str(v) for v in versions if isinstance(v, int)] if isinstance(versions, list) else [])
    return module_path, module_name, napi


def _npm_package_root(folder: str) -> str | None:
    """The package folder when `folder/package.json` is a package manifest, else None."""
    parts = folder.split("/")
    if len(parts) >= 2 and parts[-2] == "node_modules" and not parts[-1].startswith((".", "@")):
        return folder
    scoped = len(parts) >= 3 and parts[-3] == "node_modules" and parts[-2].startswith("@")
    if scoped and len(parts[-2]) > 1 and not parts[-1].startswith("."):
        return folder
    return None


def _shared_depth(left: str, right: str) -> int:
    depth = 0
    for a, b in zip(left.split("/"), right.split("/"), strict=False):
        if a != b:
            break
        depth += 1
    return depth


# --- shared helpers -------------------------------------------------------------------------


def _bounded_reader(
    read_text: ReadText, members: dict[str, str]
) -> Callable[[str, int], bytes | None]:
    def read(path: str, limit: int) -> bytes | None:
        name = members.get(path)
        if name is None:
            return None  # never ask the artifact for a file it does not list
        try:
            data = read_text(name)
        except Exception:  # any reader error on a corrupt member: missing metadata, not a crash
            return None
        return bytes(data[:limit]) if isinstance(data, (bytes, bytearray)) else None

    return read


def _clean(name: str) -> str | None:
    """Normalised relative POSIX path, or None for absolute / escaping / empty names."""
    if not isinstance(name, str) or not name or name.startswith("/") or "\x00" in name:
        return None
    path = posixpath.normpath(name)
    if path in (".", "..") or path.startswith("../"):
        return None
    return path


def _ancestors(path: str) -> Iterator[str]:
    """E.g. "a/b/c" -> "a/b", "a", "" (the artifact root)."""
    while path:
        path = posixpath.dirname(path)
        yield path


def _decode(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _label(value: object) -> str | None:
    """A name / version fit for a one-line message: printable, bounded, else None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > LABEL_LIMIT or not value.isprintable():
        return None
    return value


def _label_list(value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return _unique(label for label in map(_label, items[:LIST_LIMIT]) if label)


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
