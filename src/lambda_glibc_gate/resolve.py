"""DT_NEEDED resolved the way ld.so on Lambda resolves it.

Lambda mounts the function package at /var/task and its layers at /opt. For each
needed soname ld.so tries, in order (glibc elf/dl-load.c, _dl_map_object):
DT_RPATH of the object (only when it has no DT_RUNPATH) and of the objects that
loaded it, LD_LIBRARY_PATH, DT_RUNPATH of the object, then the system libraries
(ld.so.cache and /lib64, /usr/lib64). A candidate of the wrong machine or class is
skipped, as ld.so skips it. `$ORIGIN` is the folder of the object on Lambda.
"""

from __future__ import annotations

import posixpath
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lambda_glibc_gate.elf import ElfInfo

TASK_ROOT = "/var/task"
LAYER_ROOT = "/opt"
# Where ld.so looks after the search path: its cache and the default directories.
SYSTEM_DIRS = ("/lib64", "/usr/lib64", "/lib", "/usr/lib")
MAX_LINK_HOPS = 40  # the kernel's own symlink limit
# Work per artifact (one Filesystem): every directory probed for a soname, and every search
# directory computed, spends one. 4,000 DT_NEEDED x 1,300 DT_RPATH entries is 5.2 million
# probes from one 60 KB file; a real package (numpy + pandas + pyarrow, 76 MB) spends 3,038.
MAX_LOOKUPS = 100_000
MAX_SEARCHED_KEPT = 16  # directories kept in a Resolution (and so in a report); then a count


@dataclass
class Tree:
    """One artifact as mounted on Lambda: member name -> facts."""

    mount: str  # TASK_ROOT or LAYER_ROOT
    label: str  # the artifact path, for messages
    names: set[str] = field(default_factory=set)  # every regular member
    elves: dict[str, ElfInfo] = field(default_factory=dict)  # readable ELF members
    symlinks: dict[str, str] = field(default_factory=dict)  # member -> target (untrusted)

    def absolute(self, member: str) -> str:
        return posixpath.join(self.mount, member)


@dataclass(frozen=True)
class Resolution:
    soname: str
    where: str  # "package" | "layer" | "system" | "missing"
    path: str | None = None  # absolute path on Lambda
    member: str | None = None  # member name inside its tree
    tree: Tree | None = None
    info: ElfInfo | None = None  # the ELF that satisfies the need (package / layer)
    library: object | None = None  # runtimes.SystemLibrary for system hits
    searched: tuple[str, ...] = ()  # directories tried, in order (bounded, see _kept)
    known_absent: object | None = None  # the database entry saying the OS lacks it
    searched_count: int = 0  # how many directories were tried in all
    over_budget: bool = False  # not searched to the end: MAX_LOOKUPS was spent


@dataclass(frozen=True)
class LookupBudgetSpent:
    """In `known_absent` when the search stopped at MAX_LOOKUPS: the finding is an error that
    says so (its `note`), whether or not the runtime's library list is complete."""

    note: str = f"not searched to the end: the artifact's budget of {MAX_LOOKUPS} library lookups is spent"


def _kept(searched: list[str]) -> tuple[str, ...]:
    """The first MAX_SEARCHED_KEPT directories, then one entry counting the rest."""
    if len(searched) <= MAX_SEARCHED_KEPT:
        return tuple(searched)
    rest = len(searched) - MAX_SEARCHED_KEPT
    return (*searched[:MAX_SEARCHED_KEPT], f"… and {rest} more directories")


class Filesystem:
    """Lambda's view: the package at /var/task, layers merged at /opt, the OS below."""

    def __init__(
        self,
        trees: Iterable[Tree],
        system_libraries: Mapping[str, object],
        search_path: Iterable[str],
        machine: str,
        elf_class: int = 64,
    ) -> None:
        self.trees = list(trees)
        self.system_libraries = system_libraries
        self.search_path = tuple(search_path)
        self.machine = machine
        self.elf_class = elf_class
        self.lookups = 0  # spent of MAX_LOOKUPS
        # the same object reached from several roots searches the same way: settled once
        self._resolved: dict[tuple[str, int, str, tuple[tuple[str, str], ...]], Resolution] = {}
        self._directories: dict[tuple[str, int, tuple[tuple[str, str], ...]], tuple[str, ...]] = {}

    def lookup(self, path: str) -> tuple[Tree, str] | None:
        """Absolute path -> (tree, member) for an existing regular member, links followed."""
        path = posixpath.normpath(path)
        for _ in range(MAX_LINK_HOPS):
            # Later layers overwrite earlier ones in /opt: search the last tree first.
            for tree in reversed(self.trees):
                prefix = tree.mount + "/"
                if not path.startswith(prefix):
                    continue
                member = path[len(prefix) :]
                if member in tree.names:
                    return tree, member
                if member in tree.symlinks:
                    target = tree.symlinks[member]
                    base = posixpath.dirname(path)
                    path = posixpath.normpath(posixpath.join(base, target))
                    break
            else:
                return None
        return None

    def _compatible(self, info: ElfInfo, wanted_machine: str, wanted_class: int) -> bool:
        return info.machine == wanted_machine and info.elf_class == wanted_class

    def resolve(
        self,
        needer_path: str,
        needer: ElfInfo,
        soname: str,
        loader_rpaths: tuple[tuple[str, str], ...] = (),
    ) -> Resolution:
        """Find `soname` for the object at `needer_path` (absolute path on Lambda).

        `loader_rpaths` are (origin, rpath) pairs of the objects that loaded this one:
        their DT_RPATH applies too when this object has no DT_RUNPATH.
        Past MAX_LOOKUPS for this Filesystem the soname is "missing" with `over_budget` set
        and the searched list saying so: an error finding, never a silent pass.
        """
        key = (needer_path, id(needer), soname, loader_rpaths)  # needers live in the trees
        if key not in self._resolved:
            self._resolved[key] = self._resolve(needer_path, needer, soname, loader_rpaths)
        return self._resolved[key]

    def _resolve(
        self, needer_path: str, needer: ElfInfo, soname: str, loader_rpaths: tuple[tuple[str, str], ...]
    ) -> Resolution:
        if "/" in soname:  # a path in DT_NEEDED is used as is, relative to the cwd
            path = posixpath.join(TASK_ROOT, soname)
            return self._hit(path, soname, needer, [soname]) or Resolution(
                soname, "missing", searched=(soname,), searched_count=1
            )
        searched: list[str] = []
        if not self.spend(0):  # spent already: not even the search list is computed
            return self._over_budget(soname, searched)
        directories = self._search_directories(needer_path, needer, loader_rpaths)
        for directory in directories:
            if not self.spend():
                return self._over_budget(soname, searched)
            searched.append(directory)
            if directory in SYSTEM_DIRS:
                hit = self._system(soname, searched)
                if hit is not None:
                    return hit
                continue
            hit = self._hit(posixpath.join(directory, soname), soname, needer, searched)
            if hit is not None:
                return hit
        tried = set(directories)
        searched += [directory for directory in SYSTEM_DIRS[:2] if directory not in tried]
        hit = self._system(soname, searched)
        if hit is not None:
            return hit
        entry = self.system_libraries.get(soname)
        absent = entry if getattr(entry, "status", None) == "absent" else None
        return Resolution(
            soname, "missing", searched=_kept(searched), known_absent=absent, searched_count=len(searched)
        )

    def _search_directories(
        self, needer_path: str, needer: ElfInfo, loader_rpaths: tuple[tuple[str, str], ...]
    ) -> tuple[str, ...]:
        """ld.so's search list for this object, each directory once, in order (cached)."""
        key = (needer_path, id(needer), loader_rpaths)
        cached = self._directories.get(key)
        if cached is not None:
            return cached
        origin = posixpath.dirname(needer_path)
        directories: list[str] = []
        if not needer.runpath:
            directories += [_expand(d, origin, needer.machine) for d in needer.rpath]
            for loader_origin, rpath in loader_rpaths:
                directories.append(_expand(rpath, loader_origin, needer.machine))
        directories += list(self.search_path)
        directories += [_expand(d, origin, needer.machine) for d in needer.runpath]
        unique = tuple(dict.fromkeys(directories))  # ld.so tries a repeated directory once
        self.lookups += len(directories)  # computing them is work too
        self._directories[key] = unique
        return unique

    def spend(self, count: int = 1) -> bool:
        """Charge `count` units of work to this artifact; False once MAX_LOOKUPS is passed."""
        self.lookups += count
        return self.lookups <= MAX_LOOKUPS

    def _over_budget(self, soname: str, searched: list[str]) -> Resolution:
        spent = LookupBudgetSpent()
        return Resolution(
            soname,
            "missing",
            searched=(*_kept(searched), f"({spent.note})"),
            known_absent=spent,
            searched_count=len(searched),
            over_budget=True,
        )

    def _system(self, soname: str, searched: list[str]) -> Resolution | None:
        library = self.system_libraries.get(soname)
        if library is None or getattr(library, "status", "present") == "absent":
            return None
        return Resolution(
            soname,
            "system",
            posixpath.join("/lib64", soname),
            library=library,
            searched=_kept(searched),
            searched_count=len(searched),
        )

    def _hit(self, path: str, soname: str, needer: ElfInfo, searched: list[str]) -> Resolution | None:
        """The package or layer file at `path`, if ld.so would take it for `needer`.

        A file of another machine or class is passed over, as ld.so passes over it and goes on.
        """
        found = self.lookup(path)
        if found is None:
            return None
        tree, member = found
        info = tree.elves.get(member)
        if info is None or not self._compatible(info, needer.machine, needer.elf_class):
            return None
        where = "package" if tree.mount == TASK_ROOT else "layer"
        return Resolution(
            soname, where, tree.absolute(member), member, tree, info,
            searched=_kept(searched), searched_count=len(searched),
        )


def _expand(directory: str, origin: str, machine: str) -> str:
    """Dynamic string tokens ($ORIGIN, $LIB, $PLATFORM) as ld.so expands them."""
    platform = {"x86_64": "x86_64", "aarch64": "aarch64"}.get(machine, machine)
    for token, value in (("$ORIGIN", origin), ("$LIB", "lib64"), ("$PLATFORM", platform)):
        directory = directory.replace("${" + token[1:] + "}", value).replace(token, value)
    if not directory.startswith("/"):
        # A relative RPATH is relative to the process's cwd, /var/task on Lambda.
        directory = posixpath.join(TASK_ROOT, directory)
    return posixpath.normpath(directory)


MAX_LOADED_OBJECTS = 4096  # per root: far above any real dependency tree


@dataclass
class Loaded:
    """One object as ld.so loads it for some root, and how its DT_NEEDED resolved there."""

    path: str  # absolute path on Lambda
    info: ElfInfo
    tree: Tree
    member: str
    resolutions: dict[str, Resolution]


def load_trees(filesystem: Filesystem, roots: list[tuple[Tree, str]]) -> dict[str, list[Loaded]]:
    """Walk each root's dependencies breadth-first, as ld.so's _dl_map_object_deps does.

    A soname already loaded for this root is reused (ld.so matches loaded objects by
    soname before searching), and DT_RPATH is inherited down the loader chain while the
    loader has no DT_RUNPATH — which is why a bundled library without RPATH of its own
    still finds its siblings. Returns absolute path -> every context it was loaded in.
    """
    contexts: dict[str, list[Loaded]] = {}
    for root_tree, root_member in roots:
        root_info = root_tree.elves[root_member]
        root_path = root_tree.absolute(root_member)
        loaded: dict[str, Resolution] = {}
        if root_info.soname:
            loaded[root_info.soname] = Resolution(
                root_info.soname, "package", root_path, root_member, root_tree, root_info
            )
        queue = deque([(root_path, root_info, root_tree, root_member, ())])
        seen = {root_path}
        # past the budget the walk stops: what it did not reach is judged on its own, and its
        # resolutions are over-budget errors (never a pass)
        while queue and len(seen) <= MAX_LOADED_OBJECTS and filesystem.lookups <= MAX_LOOKUPS:
            path, info, tree, member, chain = queue.popleft()
            resolutions: dict[str, Resolution] = {}
            for soname in info.needed:
                if soname not in loaded:
                    loaded[soname] = filesystem.resolve(path, info, soname, chain)
                resolution = loaded[soname]
                resolutions[soname] = resolution
                child = resolution.info
                if child is None or resolution.path in seen or resolution.tree is None:
                    continue
                seen.add(resolution.path)
                # The child inherits this object's RPATH (ignored when it has RUNPATH) and the chain;
                # a pair already in the chain adds nothing (ld.so would try it once), so chains
                # stay as long as the distinct RPATH entries, not the depth times them.
                own = () if info.runpath else tuple((posixpath.dirname(path), d) for d in info.rpath)
                child_chain = tuple(dict.fromkeys(own + chain))
                filesystem.spend(len(child_chain))  # building it is work, within the same budget
                queue.append((resolution.path, child, resolution.tree, resolution.member, child_chain))
            contexts.setdefault(path, []).append(Loaded(path, info, tree, member, resolutions))
    return contexts


def roots_of(tree: Tree) -> list[tuple[Tree, str]]:
    """Where loading starts: executables, extension modules, and libraries nothing needs."""
    needed = {soname for info in tree.elves.values() for soname in info.needed}
    roots = []
    for member, info in sorted(tree.elves.items()):
        name = posixpath.basename(member)
        entry_point = info.is_executable or bool(info.exports)
        if entry_point or (info.soname not in needed and name not in needed):
            roots.append((tree, member))
    return roots
