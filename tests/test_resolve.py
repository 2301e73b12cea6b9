"""Library resolution follows ld.so's search order (glibc elf/dl-load.c)."""

from __future__ import annotations

from lambda_glibc_gate.elf import ElfInfo
from lambda_glibc_gate.resolve import LAYER_ROOT, TASK_ROOT, Filesystem, Tree, load_trees, roots_of
from lambda_glibc_gate.runtimes import get_runtime, library_search_path, system_libraries

AL2023 = get_runtime("provided.al2023")


def elf(needed=(), rpath=(), runpath=(), soname=None, machine="x86_64", interpreter=None, elf_type="dyn"):
    return ElfInfo(
        machine=machine,
        elf_class=64,
        endian="little",
        elf_type=elf_type,
        interpreter=interpreter,
        needed=tuple(needed),
        rpath=tuple(rpath),
        runpath=tuple(runpath),
        soname=soname,
        has_dynamic=True,
    )


def executable(**kwargs):
    return elf(interpreter="/lib64/ld-linux-x86-64.so.2", elf_type="exec", **kwargs)


def tree(mount=TASK_ROOT, **members):
    result = Tree(mount=mount, label="test")
    for name, info in members.items():
        result.names.add(name)
        result.elves[name] = info
    return result


def filesystem(*trees):
    return Filesystem(trees, system_libraries("al2023", "x86_64"), library_search_path(AL2023), "x86_64")


def test_rpath_is_inherited_down_the_loader_chain():
    # GIVEN bootstrap (RPATH $ORIGIN/vendor) -> liba.so (no RPATH) -> libb.so, both in vendor/
    package = tree(bootstrap=executable(needed=["liba.so"], rpath=["$ORIGIN/vendor"]))
    package.elves["vendor/liba.so"] = elf(needed=["libb.so"], soname="liba.so")
    package.elves["vendor/libb.so"] = elf(soname="libb.so")
    package.names = set(package.elves)
    fs = filesystem(package)
    # WHEN loaded from the executable
    contexts = load_trees(fs, roots_of(package))
    # THEN libb.so is found through the executable's RPATH, as ld.so finds it
    liba = contexts["/var/task/vendor/liba.so"][0]
    assert liba.resolutions["libb.so"].path == "/var/task/vendor/libb.so"
    # AND on its own, liba.so could not find libb.so (vendor/ is on no search path)
    alone = fs.resolve("/var/task/vendor/liba.so", package.elves["vendor/liba.so"], "libb.so")
    assert alone.where == "missing"


def test_runpath_is_not_inherited():
    package = tree(bootstrap=executable(needed=["liba.so"], runpath=["$ORIGIN/vendor"]))
    package.elves["vendor/liba.so"] = elf(needed=["libb.so"], soname="liba.so")
    package.elves["vendor/libb.so"] = elf(soname="libb.so")
    package.names = set(package.elves)
    contexts = load_trees(filesystem(package), roots_of(package))
    assert contexts["/var/task/bootstrap"][0].resolutions["liba.so"].where == "package"
    assert contexts["/var/task/vendor/liba.so"][0].resolutions["libb.so"].where == "missing"


def test_lambda_library_path_finds_lib_folder_and_layers():
    package = tree(bootstrap=executable(needed=["libfoo.so.1", "libbar.so"]))
    package.elves["lib/libfoo.so.1"] = elf(soname="libfoo.so.1")
    package.names = set(package.elves)
    layer = tree(mount=LAYER_ROOT)
    layer.elves["lib/libbar.so"] = elf(soname="libbar.so")
    layer.names = set(layer.elves)
    fs = filesystem(package, layer)
    bootstrap = package.elves["bootstrap"]
    assert fs.resolve("/var/task/bootstrap", bootstrap, "libfoo.so.1").path == "/var/task/lib/libfoo.so.1"
    found = fs.resolve("/var/task/bootstrap", bootstrap, "libbar.so")
    assert (found.where, found.path) == ("layer", "/opt/lib/libbar.so")


def test_system_library_comes_before_the_package_on_lambda_library_path():
    # /lib64 precedes /var/task/lib in LD_LIBRARY_PATH: a bundled libssl.so.3 is shadowed
    package = tree(bootstrap=executable(needed=["libssl.so.3"]))
    package.elves["lib/libssl.so.3"] = elf(soname="libssl.so.3")
    package.names = set(package.elves)
    found = filesystem(package).resolve("/var/task/bootstrap", package.elves["bootstrap"], "libssl.so.3")
    assert found.where == "system"


def test_a_candidate_of_another_machine_is_skipped_like_ld_so_does():
    package = tree(bootstrap=executable(needed=["libfoo.so"], rpath=["$ORIGIN/arm"]))
    package.elves["arm/libfoo.so"] = elf(soname="libfoo.so", machine="aarch64")
    package.elves["lib/libfoo.so"] = elf(soname="libfoo.so")
    package.names = set(package.elves)
    found = filesystem(package).resolve("/var/task/bootstrap", package.elves["bootstrap"], "libfoo.so")
    assert found.path == "/var/task/lib/libfoo.so"


def test_symlinks_inside_the_package_are_followed():
    package = tree(bootstrap=executable(needed=["libfoo.so.1"]))
    package.elves["lib/libfoo.so.1.2.3"] = elf(soname="libfoo.so.1")
    package.names = set(package.elves)
    package.symlinks["lib/libfoo.so.1"] = "libfoo.so.1.2.3"
    found = filesystem(package).resolve("/var/task/bootstrap", package.elves["bootstrap"], "libfoo.so.1")
    assert found.member == "lib/libfoo.so.1.2.3"


def test_cyclic_dependencies_terminate():
    package = tree(bootstrap=executable(needed=["liba.so"]))
    package.elves["lib/liba.so"] = elf(needed=["libb.so"], soname="liba.so")
    package.elves["lib/libb.so"] = elf(needed=["liba.so"], soname="libb.so")
    package.names = set(package.elves)
    contexts = load_trees(filesystem(package), roots_of(package))
    assert set(contexts) == {"/var/task/bootstrap", "/var/task/lib/liba.so", "/var/task/lib/libb.so"}
