"""Hash-pin the Action image's requirement files: requirements/action.txt, actions-toolkit.txt.

    python tools/lock_requirements.py                    # re-hash the pins the files hold
    python tools/lock_requirements.py urllib3==2.9.0     # change (or add) pins, then re-hash
    python tools/lock_requirements.py --check            # only verify, write nothing

The files themselves hold the pins (`name==version`, as Dependabot edits them); a new pin for a
name already in one file replaces it there, a new name goes to action.txt. For each
architecture of the image (linux x86_64
and aarch64, CPython 3.12, glibc 2.41 as on the Debian trixie base) the script runs
`pip download --only-binary=:all: --no-deps --platform … --python-version 3.12` for every pin,
i.e. the wheel pip itself picks for that platform, and records its sha256 (what `pip hash`
prints). Source distributions are never locked: the image installs with --only-binary=:all:,
so nothing is built and no build backend is fetched at build time.

--check downloads each file's wheels for both architectures with --require-hashes: every pin
has a wheel for both and every hash matches what the index serves (CI runs it).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
LOCKS = ("action", "actions-toolkit")
ARCHES = ("x86_64", "aarch64")
PYTHON = "3.12"
MAX_GLIBC_MINOR = 41  # Debian trixie, the image's base
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)$")


def platform_args(arch: str) -> list[str]:
    """pip's --platform does not widen manylinux_2_41 to the older tags: list them all."""
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(MAX_GLIBC_MINOR, 16, -1)]
    tags += [f"manylinux2014_{arch}"]
    if arch == "x86_64":
        tags += [f"manylinux2010_{arch}", f"manylinux1_{arch}"]
    args = []
    for tag in tags:
        args += ["--platform", tag]
    return args


def pip_download(arch: str, dest: str, *requirements: str) -> None:
    command = [
        sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
        "--only-binary=:all:", "--no-deps", *platform_args(arch),
        "--python-version", PYTHON, "--implementation", "cp",
        "--abi", "cp" + PYTHON.replace(".", ""), "--abi", "abi3", "--abi", "none",
        "-d", dest, *requirements,
    ]  # fmt: skip
    subprocess.run(command, check=True)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def lock(pins: list[tuple[str, str]]) -> str:
    """One requirement block per pin: the wheels pip picks on each architecture, with hashes."""
    wheels: dict[str, dict[str, str]] = {normalize(name): {} for name, _ in pins}
    for arch in ARCHES:
        with tempfile.TemporaryDirectory() as tmp:
            pip_download(arch, tmp, *(f"{name}=={version}" for name, version in pins))
            for wheel in Path(tmp).glob("*.whl"):
                wheels[normalize(wheel.name.split("-", 1)[0])][wheel.name] = sha256(wheel)
    blocks = []
    for name, version in sorted(pins, key=lambda pin: normalize(pin[0])):
        files = sorted(wheels[normalize(name)].items())
        if not files:
            raise SystemExit(f"{name}=={version}: pip downloaded no wheel")
        lines = [f"# {filename}" for filename, _ in files]
        hashes = [f"    --hash=sha256:{digest}" for _, digest in files]
        lines.append(f"{name}=={version} \\")
        lines += [h + " \\" for h in hashes[:-1]] + [hashes[-1]]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


HEADERS = {
    "action": "# The Action image's runtime dependencies, transitive ones included, each pinned.\n",
    "actions-toolkit": (
        "# Installed with --no-deps: only actions_toolkit.core is used, and its declared PyGithub\n"
        "# (with cryptography, PyNaCl, PyJWT) would only add size and attack surface; requests,\n"
        "# its other dependency, is in action.txt.\n"
    ),
}


def write(stem: str, pins: list[tuple[str, str]]) -> Path:
    target = REQUIREMENTS / f"{stem}.txt"
    header = HEADERS[stem] + (
        "# Hashes by tools/lock_requirements.py: the wheel pip picks for CPython 3.12 on linux\n"
        "# x86_64 and on aarch64 (the image installs with --require-hashes --only-binary=:all:).\n"
        "# Change a version here (or pass NAME==VERSION to the script), then run the script.\n"
    )
    target.write_text(header + "\n" + lock(pins) + "\n", "utf-8")
    return target


def read_locked(stem: str) -> list[tuple[str, str]]:
    text = (REQUIREMENTS / f"{stem}.txt").read_text("utf-8")
    return [(name, version) for name, version in re.findall(r"(?m)^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", text)]


def check(stem: str) -> None:
    path = REQUIREMENTS / f"{stem}.txt"
    for arch in ARCHES:
        with tempfile.TemporaryDirectory() as tmp:
            pip_download(arch, tmp, "--require-hashes", "-r", str(path))
            count = len(list(Path(tmp).glob("*.whl")))
            print(f"{path.relative_to(ROOT)}: {count} wheels for {arch}, every hash matches")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pins", nargs="*", metavar="NAME==VERSION", help="pins to change or add before hashing")
    parser.add_argument("--check", action="store_true", help="only verify the files with pip --require-hashes")
    args = parser.parse_args(argv)
    if args.check:
        for stem in LOCKS:
            check(stem)
        return 0
    files = {stem: dict(read_locked(stem)) for stem in LOCKS}
    for pin in args.pins:
        match = PIN.match(pin)
        if not match:
            parser.error(f"expected NAME==VERSION, got {pin!r}")
        name, version = match.groups()
        stem = next((s for s in LOCKS if normalize(name) in map(normalize, files[s])), "action")
        files[stem] = {n: v for n, v in files[stem].items() if normalize(n) != normalize(name)}
        files[stem][name] = version
    for stem in LOCKS:
        print(f"wrote {write(stem, list(files[stem].items())).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
