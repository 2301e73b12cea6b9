"""Attribution of members to wheels (dist-info) and npm packages, on real zip layouts."""

from __future__ import annotations

import csv
import io
import json
import posixpath
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_glibc_gate.packages import PackageIndex, PackageInfo, site_packages_root

ELF_STUB = b"\x7fELF\x02\x01\x01" + bytes(57)  # attribution never looks inside a member
LAYER_SITE = "python/lib/python3.12/site-packages"
METADATA_FILES = {"RECORD", "WHEEL", "METADATA", "top_level.txt", "package.json"}


def write_zip(path: Path, files: dict[str, bytes | str]) -> Path:
    """A real zip with the given members, plus a directory entry for every folder."""
    folders = {posixpath.dirname(name) for name in files} - {""}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder in sorted(folders):
            archive.writestr(zipfile.ZipInfo(folder + "/"), b"")
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def index_zip(path: Path) -> PackageIndex:
    with zipfile.ZipFile(path) as archive:
        return PackageIndex.build(archive.namelist(), archive.read)


def record(paths: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for entry in paths:
        writer.writerow([entry, "sha256=AAAA", "64"])
    return out.getvalue()


def wheel_dist(
    site: str,
    name: str,
    version: str,
    tags: list[str],
    files: dict[str, bytes | str],
    *,
    with_record: bool = True,
    top_level: list[str] | None = None,
) -> dict[str, bytes | str]:
    """A dist as pip installs it: its files under `site` plus a `.dist-info` folder."""
    prefix = f"{site}/" if site else ""
    dist_info = f"{name.replace('-', '_')}-{version}.dist-info"
    out: dict[str, bytes | str] = {prefix + rel: data for rel, data in files.items()}
    meta = {
        "METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nLong text\n",
        "WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: false\n" + "".join(f"Tag: {tag}\n" for tag in tags),
    }
    if top_level is not None:
        meta["top_level.txt"] = "".join(line + "\n" for line in top_level)
    if with_record:
        listed = [*files, *(f"{dist_info}/{m}" for m in meta), f"{dist_info}/RECORD"]
        meta["RECORD"] = record(listed)
    out.update({f"{prefix}{dist_info}/{m}": data for m, data in meta.items()})
    return out


def package_json(**fields: object) -> str:
    return json.dumps(fields)


# --- Python ---------------------------------------------------------------------------------


def test_cryptography_wheel_at_zip_root(tmp_path: Path) -> None:
    rust = "cryptography/hazmat/bindings/_rust.abi3.so"
    libssl = "cryptography.libs/libssl-abc123.so.3"
    files = wheel_dist(
        "",
        "cryptography",
        "44.0.0",
        ["cp311-abi3-manylinux_2_34_x86_64"],
        {"cryptography/__init__.py": "", rust: ELF_STUB, libssl: ELF_STUB},
    )
    files["lambda_function.py"] = "def handler(event, context): pass\n"
    index = index_zip(write_zip(tmp_path / "fn.zip", files))

    owner = index.owner(rust)
    assert owner is not None
    assert index.owner(libssl) is owner
    assert owner.describe() == "cryptography 44.0.0 (wheel cp311-abi3-manylinux_2_34_x86_64)"
    assert (owner.ecosystem, owner.root) == ("pypi", "cryptography-44.0.0.dist-info")
    assert (owner.manylinux_glibc, owner.python_tag, owner.abi_tag) == ("2.34", "cp311", "abi3")
    assert not owner.is_musllinux
    assert index.owner("lambda_function.py") is None
    assert index.owner("cryptography-44.0.0.dist-info/WHEEL") is owner
    assert index.packages() == [owner]


def test_tag_aliases_are_shown_in_wheel_filename_form(tmp_path: Path) -> None:
    tags = ["cp311-abi3-manylinux_2_17_x86_64", "cp311-abi3-manylinux2014_x86_64"]
    files = wheel_dist("", "bcrypt", "4.2.1", tags, {"bcrypt/_bcrypt.abi3.so": ELF_STUB})
    owner = index_zip(write_zip(tmp_path / "fn.zip", files)).owner("bcrypt/_bcrypt.abi3.so")
    assert owner is not None
    assert owner.wheel_tags == tuple(tags)
    assert owner.describe() == ("bcrypt 4.2.1 (wheel cp311-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64)")
    assert owner.manylinux_glibc == "2.17"


@pytest.mark.parametrize(
    ("platforms", "glibc", "musl"),
    [
        (["manylinux1_x86_64"], "2.5", False),
        (["manylinux2010_x86_64"], "2.12", False),
        (["manylinux2014_aarch64"], "2.17", False),
        (["manylinux_2_28_aarch64"], "2.28", False),
        (["manylinux_2_34_x86_64", "manylinux_2_28_x86_64"], "2.28", False),  # installs on 2.28
        (["musllinux_1_2_x86_64"], None, True),
        (["manylinux_2_17_x86_64", "musllinux_1_1_x86_64"], "2.17", False),
        (["linux_x86_64"], None, False),
        (["any"], None, False),
    ],
)
def test_manylinux_glibc_from_platform_tags(platforms: list[str], glibc: str | None, musl: bool) -> None:
    tags = tuple(f"cp312-cp312-{platform}" for platform in platforms)
    info = PackageInfo("pypi", "pkg", "1.0", tags, "pkg-1.0.dist-info")
    assert info.platform_tags == tuple(platforms)
    assert info.manylinux_glibc == glibc
    assert info.is_musllinux is musl


def test_numpy_layer_with_auditwheel_libs(tmp_path: Path) -> None:
    umath = "numpy/_core/_multiarray_umath.cpython-312-x86_64-linux-gnu.so"
    openblas = "numpy.libs/libscipy_openblas64_-ff651d7f.so"
    tags = ["cp312-cp312-manylinux_2_17_x86_64", "cp312-cp312-manylinux2014_x86_64"]
    files = wheel_dist(LAYER_SITE, "numpy", "2.1.0", tags, {umath: ELF_STUB, openblas: ELF_STUB})
    # Written at run time, so never in RECORD: still numpy's by its top-level folder.
    files[f"{LAYER_SITE}/numpy/_core/__pycache__/_methods.cpython-312.pyc"] = b"\0"
    index = index_zip(write_zip(tmp_path / "layer.zip", files))

    owner = index.owner(f"{LAYER_SITE}/{umath}")
    assert owner is not None and owner.name == "numpy"
    assert owner.root == f"{LAYER_SITE}/numpy-2.1.0.dist-info"
    assert index.owner(f"{LAYER_SITE}/{openblas}") is owner
    assert index.owner(f"{LAYER_SITE}/numpy/_core/__pycache__/_methods.cpython-312.pyc") is owner
    assert index.owner(umath) is None  # the same path outside the layer's site folder
    assert site_packages_root(f"{LAYER_SITE}/{umath}") == posixpath.dirname(owner.root) + "/"


def test_missing_record_falls_back_to_top_level_and_dist_name(tmp_path: Path) -> None:
    imaging = "PIL/_imaging.cpython-311-x86_64-linux-gnu.so"
    jpeg = "pillow.libs/libjpeg-45e70d75.so.62.4.0"
    gfortran = "numpy.libs/libgfortran-040039e1.so.5.0.0"
    files = {
        **wheel_dist(
            "python",
            "Pillow",
            "10.4.0",
            ["cp311-cp311-manylinux_2_28_x86_64"],
            {imaging: ELF_STUB, jpeg: ELF_STUB},
            with_record=False,
            top_level=["PIL"],
        ),
        **wheel_dist(
            "python",
            "numpy",
            "1.26.4",
            ["cp311-cp311-manylinux_2_17_x86_64"],
            {gfortran: ELF_STUB},
            with_record=False,
        ),
    }
    index = index_zip(write_zip(tmp_path / "layer.zip", files))
    pillow = index.owner(f"python/{imaging}")
    assert pillow is not None and pillow.describe().startswith("Pillow 10.4.0 (wheel ")
    assert index.owner(f"python/{jpeg}") is pillow
    numpy = index.owner(f"python/{gfortran}")
    assert numpy is not None and numpy.name == "numpy"
    assert numpy.manylinux_glibc == "2.17"


def test_top_level_shared_by_two_dists_is_not_guessed(tmp_path: Path) -> None:
    files = {}
    for name in ("google-cloud-core", "googleapis-common-protos"):
        files.update(
            wheel_dist(
                "",
                name,
                "1.0",
                ["py3-none-any"],
                {f"google/{name}.py": ""},
                with_record=False,
                top_level=["google"],
            )
        )
    files["google/_upb/_message.abi3.so"] = ELF_STUB
    index = index_zip(write_zip(tmp_path / "fn.zip", files))
    assert index.owner("google/_upb/_message.abi3.so") is None


def test_record_entries_never_leave_their_site_folder(tmp_path: Path) -> None:
    own = "tool/_speedups.cpython-312-x86_64-linux-gnu.so"
    files = wheel_dist(LAYER_SITE, "tool", "1.0", ["cp312-cp312-linux_x86_64"], {own: ELF_STUB})
    dist_info = f"{LAYER_SITE}/tool-1.0.dist-info"
    escaping = ["../../../bin/tool", "../../../../outside.so", "/abs/lib.so", "../other/x.so"]
    files[f"{dist_info}/RECORD"] = record([own, *escaping])
    files["python/bin/tool"] = ELF_STUB
    files["outside.so"] = ELF_STUB
    files["python/lib/python3.12/other/x.so"] = ELF_STUB
    # A flat-root dist whose scripts went to ../bin: the root has no parent to go to.
    files.update(wheel_dist("", "flat", "2.0", ["py3-none-any"], {"flat.py": ""}))
    files["flat-2.0.dist-info/RECORD"] = record(["flat.py", "../bin/flat", "bin/../../evil.so"])
    files["bin/flat"] = ELF_STUB
    index = index_zip(write_zip(tmp_path / "layer.zip", files))

    assert index.owner(f"{LAYER_SITE}/{own}") is not None
    for member in ("python/bin/tool", "outside.so", "python/lib/python3.12/other/x.so"):
        assert index.owner(member) is None, member
    assert index.owner("bin/flat") is None


def test_malformed_record_keeps_its_good_rows(tmp_path: Path) -> None:
    good = "fast/_core.cpython-311-x86_64-linux-gnu.so"
    files = wheel_dist("", "fast", "3.0", ["cp311-cp311-manylinux_2_28_x86_64"], {good: ELF_STUB})
    files["stray/_ext.so"] = ELF_STUB
    files["fast-3.0.dist-info/RECORD"] = (
        b'"unterminated,quote\n\x00\x00\xff\xfe binary\n'
        + record([good]).encode()
        + b"stray/_ext.so\x00,sha256=,1\n,,,\n"
    )
    index = index_zip(write_zip(tmp_path / "fn.zip", files))
    owner = index.owner(good)
    assert owner is not None and owner.name == "fast"
    assert index.owner("stray/_ext.so") is None


def test_unreadable_record_and_metadata_fall_back_to_folder_names(tmp_path: Path) -> None:
    so = "brokenpkg/_c.cpython-311-x86_64-linux-gnu.so"
    files = wheel_dist("", "brokenpkg", "0.9", ["cp311-cp311-manylinux_2_17_x86_64"], {so: ELF_STUB})
    files["brokenpkg-0.9.dist-info/RECORD"] = bytes(range(256)) * 8
    files["brokenpkg-0.9.dist-info/METADATA"] = b"Name: \xff\xfe\nVersion: \x80\n"
    files["brokenpkg-0.9.dist-info/WHEEL"] = "Tag: not a tag\nTag: a-b\nTag: cp311-cp311-\n"
    owner = index_zip(write_zip(tmp_path / "fn.zip", files)).owner(so)
    assert owner is not None
    assert (owner.name, owner.version, owner.wheel_tags) == ("brokenpkg", "0.9", ())
    assert owner.describe() == "brokenpkg 0.9 (pypi)"


def test_corrupt_zip_member_is_missing_metadata(tmp_path: Path) -> None:
    so = "pkg/_c.abi3.so"
    files = wheel_dist("", "pkg", "1.0", ["cp39-abi3-manylinux_2_17_x86_64"], {so: ELF_STUB})
    path = write_zip(tmp_path / "fn.zip", files)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("pkg-1.0.dist-info/RECORD")
    raw = bytearray(path.read_bytes())
    name_len = int.from_bytes(raw[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28 : info.header_offset + 30], "little")
    data_start = info.header_offset + 30 + name_len + extra_len
    for offset in range(data_start, data_start + info.compress_size):
        raw[offset] ^= 0x5A
    path.write_bytes(bytes(raw))
    with zipfile.ZipFile(path) as archive:
        with pytest.raises((zipfile.BadZipFile, zlib.error)):
            archive.read("pkg-1.0.dist-info/RECORD")  # the reader really fails
        owner = PackageIndex.build(archive.namelist(), archive.read).owner(so)
    assert owner is not None and owner.describe() == "pkg 1.0 (wheel cp39-abi3-manylinux_2_17_x86_64)"


def test_vendored_dist_info_does_not_take_the_installed_dists_files(tmp_path: Path) -> None:
    vendored = "setuptools/_vendor/packaging/__init__.py"
    vendor_info = "setuptools/_vendor/packaging-24.2.dist-info"
    files = {
        **wheel_dist(
            "",
            "setuptools",
            "75.0.0",
            ["py3-none-any"],
            {vendored: "", f"{vendor_info}/METADATA": "Name: packaging\nVersion: 24.2\n"},
        ),
        f"{vendor_info}/RECORD": record(["packaging/__init__.py"]),
    }
    index = index_zip(write_zip(tmp_path / "fn.zip", files))
    assert index.owner(vendored).name == "setuptools"
    assert index.owner(f"{vendor_info}/METADATA").name == "packaging"


def test_hundreds_of_dists_each_own_their_files(tmp_path: Path) -> None:
    files: dict[str, bytes | str] = {}
    for number in range(300):
        name = f"pkg{number}"
        files.update(
            wheel_dist(
                "",
                name,
                f"1.{number}",
                [f"cp311-cp311-manylinux_2_{17 + number % 18}_x86_64"],
                {f"{name}/_ext.so": ELF_STUB, f"{name}.libs/libdep-{number}.so": ELF_STUB},
            )
        )
    index = index_zip(write_zip(tmp_path / "big.zip", files))
    assert len(index.packages()) == 300
    for number in range(300):
        owner = index.owner(f"pkg{number}/_ext.so")
        assert owner is not None and owner.version == f"1.{number}"
        assert index.owner(f"pkg{number}.libs/libdep-{number}.so") is owner
        assert owner.manylinux_glibc == f"2.{17 + number % 18}"


@pytest.mark.parametrize(
    ("member", "root"),
    [
        ("cryptography/hazmat/bindings/_rust.abi3.so", ""),
        ("cryptography-44.0.0.dist-info/RECORD", ""),
        (f"{LAYER_SITE}/numpy.libs/libx.so", f"{LAYER_SITE}/"),
        ("python/lib/python3.9/dist-packages/a/b.so", "python/lib/python3.9/dist-packages/"),
        ("python/numpy/_core/x.so", "python/"),
        ("./python/numpy/x.so", "python/"),
        ("node_modules/sharp/build/Release/sharp.node", None),
        ("nodejs/node18/node_modules/x/y.node", None),
        ("../escape.so", None),
        ("/etc/passwd", None),
        ("", None),
    ],
)
def test_site_packages_root(member: str, root: str | None) -> None:
    assert site_packages_root(member) == root


# --- npm ------------------------------------------------------------------------------------


def sharp_layout(prefix: str) -> dict[str, bytes | str]:
    return {
        f"{prefix}sharp/package.json": package_json(
            name="sharp",
            version="0.33.5",
            optionalDependencies={
                "@img/sharp-linux-x64": "0.33.5",
                "@img/sharp-libvips-linux-x64": "1.0.4",
            },
        ),
        f"{prefix}sharp/lib/index.js": "module.exports = {}\n",
        f"{prefix}@img/sharp-linux-x64/package.json": package_json(
            name="@img/sharp-linux-x64",
            version="0.33.5",
            os=["linux"],
            cpu=["x64"],
            libc=["glibc"],
        ),
        f"{prefix}@img/sharp-linux-x64/lib/sharp-linux-x64.node": ELF_STUB,
        f"{prefix}@img/sharp-libvips-linux-x64/package.json": package_json(
            name="@img/sharp-libvips-linux-x64",
            version="1.0.4",
            os=["linux"],
            cpu=["x64"],
            libc=["glibc"],
        ),
        f"{prefix}@img/sharp-libvips-linux-x64/lib/libvips-cpp.so.42": ELF_STUB,
    }


def test_sharp_and_its_platform_packages(tmp_path: Path) -> None:
    files = sharp_layout("node_modules/")
    files["index.mjs"] = "export const handler = async () => {}\n"
    index = index_zip(write_zip(tmp_path / "fn.zip", files))

    addon = index.owner("node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64.node")
    assert addon is not None
    assert addon.describe() == "@img/sharp-linux-x64 0.33.5 (npm)"
    assert (addon.ecosystem, addon.root) == ("npm", "node_modules/@img/sharp-linux-x64")
    assert addon.platform_package_of == "sharp"
    assert (addon.npm_os, addon.npm_cpu, addon.npm_libc) == (("linux",), ("x64",), ("glibc",))
    assert addon.wheel_tags == () and addon.manylinux_glibc is None

    vips = index.owner("node_modules/@img/sharp-libvips-linux-x64/lib/libvips-cpp.so.42")
    assert vips is not None and vips.name == "@img/sharp-libvips-linux-x64"
    assert vips.platform_package_of == "sharp"
    sharp = index.owner("node_modules/sharp/lib/index.js")
    assert sharp is not None and sharp.describe() == "sharp 0.33.5 (npm)"
    assert sharp.platform_package_of is None
    assert index.owner("index.mjs") is None
    assert index.owner("node_modules/@img") is None  # a scope folder is no package


def test_platform_fields_without_a_parent_name_no_parent(tmp_path: Path) -> None:
    files = {
        "node_modules/@esbuild/linux-x64/package.json": package_json(
            name="@esbuild/linux-x64", version="0.24.0", os=["linux"], cpu="x64"
        ),
        "node_modules/@esbuild/linux-x64/bin/esbuild": ELF_STUB,
    }
    owner = index_zip(write_zip(tmp_path / "fn.zip", files)).owner("node_modules/@esbuild/linux-x64/bin/esbuild")
    assert owner is not None
    assert owner.platform_package_of is None
    assert (owner.npm_os, owner.npm_cpu, owner.npm_libc) == (("linux",), ("x64",), ())


def test_nested_node_modules_innermost_package_wins(tmp_path: Path) -> None:
    files = {
        "node_modules/foo/package.json": package_json(name="foo", version="1.0.0"),
        "node_modules/foo/build/Release/foo.node": ELF_STUB,
        "node_modules/foo/node_modules/bar/package.json": package_json(name="bar", version="2.0.0"),
        "node_modules/foo/node_modules/bar/build/Release/bar.node": ELF_STUB,
        "node_modules/foo/node_modules/nomanifest/prebuilt.node": ELF_STUB,
        "node_modules/.pnpm/baz@3.0.0/node_modules/baz/package.json": package_json(name="baz", version="3.0.0"),
        "node_modules/.pnpm/baz@3.0.0/node_modules/baz/baz.node": ELF_STUB,
    }
    index = index_zip(write_zip(tmp_path / "fn.zip", files))
    assert index.owner("node_modules/foo/build/Release/foo.node").describe() == "foo 1.0.0 (npm)"
    bar = index.owner("node_modules/foo/node_modules/bar/build/Release/bar.node")
    assert bar.describe() == "bar 2.0.0 (npm)"
    # No package.json of its own: the nearest enclosing package with one owns it.
    assert index.owner("node_modules/foo/node_modules/nomanifest/prebuilt.node").name == "foo"
    assert index.owner("node_modules/.pnpm/baz@3.0.0/node_modules/baz/baz.node").name == "baz"


@pytest.mark.parametrize("prefix", ["nodejs/node_modules/", "nodejs/node18/node_modules/"])
def test_node_layer_layouts(tmp_path: Path, prefix: str) -> None:
    index = index_zip(write_zip(tmp_path / "layer.zip", sharp_layout(prefix)))
    addon = index.owner(f"{prefix}@img/sharp-linux-x64/lib/sharp-linux-x64.node")
    assert addon is not None and addon.root == f"{prefix}@img/sharp-linux-x64"
    assert addon.platform_package_of == "sharp"


def test_nearest_parent_is_chosen_for_a_platform_package(tmp_path: Path) -> None:
    files = {
        **sharp_layout("nodejs/node_modules/"),
        # Another tree in the same zip with a differently named parent for the same child.
        "other/node_modules/sharp-fork/package.json": package_json(
            name="sharp-fork", optionalDependencies={"@img/sharp-linux-x64": "0.33.5"}
        ),
    }
    index = index_zip(write_zip(tmp_path / "layer.zip", files))
    addon = index.owner("nodejs/node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64.node")
    assert addon.platform_package_of == "sharp"


@pytest.mark.parametrize(
    ("manifest", "expected_name", "expected_version"),
    [
        (b"{not json", None, None),
        (b"[1, 2, 3]", None, None),
        (b'{"name": "caf\xe9"}', None, None),  # Latin-1, not UTF-8
        (b"[" * 100_000 + b"]" * 100_000, None, None),
        (b'\xef\xbb\xbf{"name": "bom", "version": "1.0.0"}', "bom", "1.0.0"),  # npm strips BOMs
        (json.dumps({"name": "evil\n::error::x", "version": 5}).encode(), "pkg", None),
        (json.dumps({"name": ["x"], "version": "1.0.0"}).encode(), "pkg", "1.0.0"),
        (json.dumps({"name": "x" * 500, "version": "v" * 500}).encode(), "pkg", None),
        (json.dumps({"version": "1.2.3", "os": [1, "linux", None]}).encode(), "pkg", "1.2.3"),
    ],
)
def test_malformed_package_json(
    tmp_path: Path, manifest: bytes, expected_name: str | None, expected_version: str | None
) -> None:
    files = {"node_modules/pkg/package.json": manifest, "node_modules/pkg/addon.node": ELF_STUB}
    owner = index_zip(write_zip(tmp_path / "fn.zip", files)).owner("node_modules/pkg/addon.node")
    if expected_name is None:
        assert owner is None
    else:
        assert owner is not None
        assert (owner.name, owner.version) == (expected_name, expected_version)
        assert owner.describe().isprintable()


# --- both -----------------------------------------------------------------------------------


def test_only_metadata_files_are_read(tmp_path: Path) -> None:
    files = {
        **wheel_dist(
            "", "cryptography", "44.0.0", ["cp311-abi3-manylinux_2_28_x86_64"], {"cryptography/_rust.abi3.so": ELF_STUB}
        ),
        **wheel_dist(
            "",
            "Pillow",
            "10.4.0",
            ["cp311-cp311-manylinux_2_28_x86_64"],
            {"PIL/_imaging.so": ELF_STUB},
            with_record=False,
            top_level=["PIL"],
        ),
        **sharp_layout("node_modules/"),
        "node_modules/sharp/lib/package.json": "{}",  # not a package root
    }
    path = write_zip(tmp_path / "fn.zip", files)
    read: list[str] = []
    with zipfile.ZipFile(path) as archive:

        def reader(name: str) -> bytes:
            read.append(name)
            return archive.read(name)

        index = PackageIndex.build(archive.namelist(), reader)
    assert read, "metadata must be read"
    assert {posixpath.basename(name) for name in read} <= METADATA_FILES
    assert "node_modules/sharp/lib/package.json" not in read
    assert len(read) == len(set(read))
    assert {info.name for info in index.packages()} == {
        "cryptography",
        "Pillow",
        "sharp",
        "@img/sharp-linux-x64",
        "@img/sharp-libvips-linux-x64",
    }


def test_hostile_member_names_are_ignored() -> None:
    names = ["../x.dist-info/RECORD", "/abs/node_modules/a/package.json", "a\x00b", ""]
    index = PackageIndex.build(names, lambda name: pytest.fail(f"read {name!r}"))
    assert index.packages() == []
    assert index.owner("../x.dist-info/RECORD") is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    record_bytes=st.binary(max_size=300),
    wheel_bytes=st.binary(max_size=200),
    metadata_bytes=st.binary(max_size=200),
    manifest=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=30),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(
                    st.sampled_from(["name", "version", "os", "cpu", "libc", "optionalDependencies"])
                    | st.text(max_size=5),
                    inner,
                    max_size=6,
                )
            ),
            max_leaves=20,
        ).map(lambda doc: json.dumps(doc).encode()),
    ),
)
def test_arbitrary_metadata_never_raises(
    record_bytes: bytes, wheel_bytes: bytes, metadata_bytes: bytes, manifest: bytes
) -> None:
    members = {
        "x-1.dist-info/RECORD": record_bytes,
        "x-1.dist-info/WHEEL": wheel_bytes,
        "x-1.dist-info/METADATA": metadata_bytes,
        "x-1.dist-info/top_level.txt": record_bytes,
        "x/_c.so": ELF_STUB,
        "node_modules/@s/p/package.json": manifest,
        "node_modules/@s/p/a.node": ELF_STUB,
    }
    index = PackageIndex.build(members, members.get)
    for member in members:
        owner = index.owner(member)
        if owner is not None:
            assert owner.describe().isprintable()
            assert owner.name and len(owner.name) <= 214
    assert index.owner("x/_c.so") is not None  # the dist folder name always says "x"


# --- opt-in: a real wheel from PyPI ---------------------------------------------------------


@pytest.mark.network
def test_real_cryptography_wheel(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--platform",
            "manylinux_2_28_x86_64",
            "--python-version",
            "3.11",
            "--dest",
            str(tmp_path),
            "cryptography",
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("cryptography-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        index = PackageIndex.build(names, archive.read)
    shared_objects = [name for name in names if ".so" in posixpath.basename(name)]
    assert shared_objects
    version = wheel.name.split("-")[1]
    wheel_platforms = wheel.name.removesuffix(".whl").split("-")[-1].split(".")
    for name in shared_objects:
        owner = index.owner(name)
        assert owner is not None, name
        assert (owner.name, owner.version) == ("cryptography", version)
        assert set(owner.platform_tags) == set(wheel_platforms)
        glibc = owner.manylinux_glibc
        assert glibc is not None and tuple(map(int, glibc.split("."))) <= (2, 28)


def test_record_rows_are_split_as_the_csv_module_splits_them():
    """RECORD's fast path (no csv reader for a line without quotes) reads what csv reads."""
    from lambda_glibc_gate.packages import _record_paths

    lines = ["a/b.py,sha256=x,12", "a b/c,,", ",x", "x", " lead,1", "trail ,2", "a\tb,c", 'q"uote,1',
             '"a,b",1', '"bad"x,1', "é/ü.py,1", "a,b,c,d", "sp ace", "nul\0,1", '"nul\0",1']
    for line in lines:
        try:
            row = next(csv.reader([line]), None)
        except csv.Error:
            row = None
        assert list(_record_paths(line.encode())) == ([row[0]] if row and row[0] else []), line
