"""Opt-in (pytest -m image -s): build the Action's image with podman and run it as the runner does.

Needs root, podman (apt-get install -y podman buildah runc mmdebstrap) and a CPython 3.12 on the
host (python3.12 on PATH, or LGG_PYTHON312=/path/to/python3.12). Docker Hub is not reachable here,
so python:3.12.x-slim-trixie is replaced by a stand-in built locally and tagged
localhost/python:3.12-slim-trixie: Debian trixie from mmdebstrap with the libraries CPython needs,
and the host's CPython 3.12 copied to /usr/local as in the official image (trixie's own python3
is 3.13, and the image's lock has CPython 3.12 wheels only), without .pyc files as the official
image (docker-library/python deletes them), so start times compare. The real Dockerfile is built with
only its FROM line swapped; pip inside the build reaches PyPI with the host's CA bundle.

The run is the runner's `docker run` (actions/runner DockerCommandManager.DockerRun): the image's
exec-form entrypoint, --workdir /github/workspace, the /github/workspace, /github/workflow,
/github/file_commands, /github/home and /github/runner_temp mounts, an INPUT_ variable for every
action.yml input (hyphens kept: INPUT_FAIL-ON) passed with --env in exec form, never through a
shell, and the file-command files created empty first. The verdict is read from GITHUB_OUTPUT.

Timings are printed (run with -s): the image build, and the wall time of each `podman run`.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.image

REPO = Path(__file__).resolve().parent.parent
BASE = "localhost/python:3.12-slim-trixie"
IMAGE = "localhost/lambda-glibc-gate:image-test"
# What CPython 3.12 links against on trixie (t64 names), plus the CA bundle for pip.
BASE_PACKAGES = (
    "ca-certificates,libssl3t64,libffi8,libsqlite3-0,zlib1g,libbz2-1.0,liblzma5,libreadline8t64,"
    "libncursesw6,libuuid1,libexpat1,libcrypt1,libnsl2,libtirpc3t64"
)
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))


def _report(line: str) -> None:
    print(f"\n[image] {line}", file=sys.stderr)


@pytest.fixture(scope="module")
def podman(tmp_path_factory) -> dict[str, str]:
    """The environment for podman: runc, cgroupfs, ulimits within this machine's hard limits."""
    missing = [tool for tool in ("podman", "runc", "mmdebstrap") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (apt-get install -y podman buildah runc mmdebstrap)")
    if os.geteuid() != 0:
        pytest.skip("podman runs as root here (rootless needs subuid ranges this machine lacks)")
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    nofile = 65536 if nofile == resource.RLIM_INFINITY else min(nofile, 65536)
    nproc = 4096 if nproc == resource.RLIM_INFINITY else min(nproc, 4096)
    conf = tmp_path_factory.mktemp("podman") / "containers.conf"
    conf.write_text(
        "[containers]\n"
        f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
        "[engine]\n"
        'cgroup_manager = "cgroupfs"\n'
        'runtime = "runc"\n'
        'events_logger = "file"\n',
        encoding="utf-8",
    )
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


def _python312() -> Path:
    """The prefix (sys.base_prefix) of a CPython 3.12 on the host."""
    candidates = [os.environ.get("LGG_PYTHON312"), shutil.which("python3.12")]
    candidates += sorted(map(str, (Path.home() / ".pyenv" / "versions").glob("3.12.*/bin/python3.12")), reverse=True)
    for candidate in filter(None, candidates):
        done = subprocess.run(
            [candidate, "-c", "import sys; print(sys.base_prefix, sys.version_info[:2] == (3, 12))"],
            capture_output=True,
            text=True,
        )
        if done.returncode == 0 and done.stdout.split()[-1] == "True":
            return Path(done.stdout.split()[0])
    pytest.skip("no CPython 3.12 on the host for the stand-in base (set LGG_PYTHON312)")


def _stage_python(prefix: Path, stage: Path) -> None:
    """A lean copy of the CPython 3.12 install, pip included, laid out for /usr/local."""
    skip = {"test", "idlelib", "tkinter", "turtledemo", "__pycache__", "site-packages", "ensurepip"}
    library = prefix / "lib" / "python3.12"
    shutil.copytree(
        library,
        stage / "lib" / "python3.12",
        symlinks=True,
        ignore=lambda folder, names: [n for n in names if n in skip or n.startswith("config-3.12")],
    )
    for shared in (prefix / "lib").glob("libpython3.12*.so*"):
        shutil.copy2(shared, stage / "lib" / shared.name, follow_symlinks=False)
    site = stage / "lib" / "python3.12" / "site-packages"
    site.mkdir()
    for item in (library / "site-packages").glob("pip*"):  # pip and its dist-info, nothing else
        shutil.copytree(item, site / item.name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    bin_dir = stage / "bin"
    bin_dir.mkdir()
    shutil.copy2(prefix / "bin" / "python3.12", bin_dir / "python3.12")
    for alias in ("python", "python3"):
        (bin_dir / alias).symlink_to("python3.12")
    pip = bin_dir / "pip"
    pip.write_text(
        "#!/usr/local/bin/python3.12\nimport sys\nfrom pip._internal.cli.main import main\nsys.exit(main())\n",
        encoding="utf-8",
    )
    pip.chmod(0o755)
    for alias in ("pip3", "pip3.12"):
        (bin_dir / alias).symlink_to("pip")


@pytest.fixture(scope="module")
def base(podman, tmp_path_factory) -> str:
    if subprocess.run(["podman", "image", "exists", BASE], env=podman).returncode == 0:
        return BASE
    work = tmp_path_factory.mktemp("base")
    stage = work / "python"
    _stage_python(_python312(), stage)
    rootfs = work / "trixie.tar"
    started = time.monotonic()
    subprocess.run(
        [
            "mmdebstrap",
            "--quiet",
            "--variant=minbase",
            f"--include={BASE_PACKAGES}",
            f'--customize-hook=cp -a "{stage}/." "$1/usr/local/"',
            '--customize-hook=chroot "$1" ldconfig',
            # The host's CA bundle: PyPI is reached through this machine's TLS-inspecting egress.
            f'--customize-hook=cp "{HOST_CA_BUNDLE}" "$1/etc/ssl/certs/ca-certificates.crt"',
            "--customize-hook=chroot \"$1\" python3.12 -c 'import ssl, zlib, ctypes, hashlib, sqlite3'",
            "trixie",
            str(rootfs),
        ],
        check=True,
        timeout=1200,
    )
    subprocess.run(
        [
            "podman",
            "import",
            "--change",
            "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--change",
            "ENV LANG=C.UTF-8",
            "--change",
            f"ENV PIP_CERT={HOST_CA_BUNDLE}",
            "--change",
            'CMD ["python3"]',
            str(rootfs),
            BASE,
        ],  # fmt: skip
        check=True,
        env=podman,
        stdout=subprocess.DEVNULL,
    )
    _report(f"stand-in base {BASE} built in {time.monotonic() - started:.0f} s (mmdebstrap + podman import)")
    return BASE


@pytest.fixture(scope="module")
def image(podman, base, tmp_path_factory) -> str:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    swapped, count = re.subn(r"(?m)^FROM python:3\.12\.\d+-slim-trixie$", f"FROM {base}", dockerfile)
    assert count == 1, "the Dockerfile's FROM line changed: update the swap"
    path = tmp_path_factory.mktemp("dockerfile") / "Dockerfile"
    path.write_text(swapped, encoding="utf-8")
    started = time.monotonic()
    subprocess.run(
        ["podman", "build", "--pull=never", "--no-cache", "--quiet", "-f", str(path), "-t", IMAGE, str(REPO)],
        check=True,
        env=podman,
        timeout=1200,
        stdout=subprocess.DEVNULL,
    )
    elapsed = time.monotonic() - started
    size = subprocess.run(
        ["podman", "image", "inspect", "--format", "{{.Size}}", IMAGE], env=podman, capture_output=True, text=True
    ).stdout.strip()
    _report(f"podman build --no-cache of the real Dockerfile: {elapsed:.1f} s; image {int(size) / 1e6:.0f} MB")
    return IMAGE


def test_image_entrypoint_is_exec_form_and_root(podman, image):
    config = json.loads(
        subprocess.run(["podman", "image", "inspect", image], env=podman, capture_output=True, check=True).stdout
    )[0]["Config"]
    assert config["Entrypoint"] == ["python", "/action/entrypoint.py"]
    assert config.get("User", "") in ("", "root", "0")
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["PYTHONPATH"] == "/action/src" and env["PYTHONUNBUFFERED"] == "1"


def test_image_has_the_locked_wheels_and_no_installed_project(podman, image):
    script = (
        "import importlib.metadata as m, json, sys;"
        "import lambda_glibc_gate, lambda_glibc_gate.glibc_symbols, lambda_glibc_gate.runtimes as r;"
        "r.get_runtime('provided.al2023');"
        "print(json.dumps({'dists': sorted(d.metadata['Name'].lower() for d in m.distributions()),"
        " 'version': lambda_glibc_gate.__version__, 'file': lambda_glibc_gate.__file__,"
        " 'github': 'github' in sys.modules}))"
    )
    done = subprocess.run(
        ["podman", "run", "--rm", "--entrypoint", "python", image, "-c", script],
        env=podman,
        capture_output=True,
        text=True,
        check=True,
    )
    facts = json.loads(done.stdout)
    locked = set()
    for name in ("action", "actions-toolkit"):
        text = (REPO / "requirements" / f"{name}.txt").read_text(encoding="utf-8")
        locked |= {pin.lower() for pin in re.findall(r"(?m)^([A-Za-z0-9_.-]+)==", text)}
    assert locked <= set(facts["dists"])
    assert "lambda-glibc-gate" not in facts["dists"] and "pygithub" not in facts["dists"]
    assert facts["file"] == "/action/src/lambda_glibc_gate/__init__.py" and not facts["github"]


def _parse_file_command(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT as the runner reads it (NAME=VALUE or the NAME<<DELIM heredoc)."""
    values, lines = {}, iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            for value_line in lines:
                if value_line == delimiter:
                    break
                body.append(value_line)
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def _run_like_the_runner(podman, image, tmp_path, artifact: str, **inputs: str):
    workspace, workflow, commands, home, runner_temp = (
        tmp_path / name for name in ("workspace", "workflow", "file_commands", "home", "runner_temp")
    )
    for folder in (workspace, workflow, commands, home, runner_temp):
        folder.mkdir()
    shutil.copy(REPO / "examples" / artifact, workspace / artifact)
    (workflow / "event.json").write_text(json.dumps({"ref": "refs/heads/main"}), encoding="utf-8")
    files = {}
    for variable, prefix in (
        ("GITHUB_OUTPUT", "set_output"),
        ("GITHUB_STEP_SUMMARY", "step_summary"),
        ("GITHUB_ENV", "set_env"),
        ("GITHUB_PATH", "add_path"),
        ("GITHUB_STATE", "save_state"),
    ):
        name = f"{prefix}_{uuid.uuid4()}"
        (commands / name).touch()  # the runner creates them empty before the step
        files[variable] = name
    values = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    values["github-token"] = ""  # ${{ github.token }}: the runner's token, none here
    values.update({"artifacts": artifact, **{k.replace("_", "-"): v for k, v in inputs.items()}})
    env = {f"INPUT_{name.replace(' ', '_').upper()}": value for name, value in values.items()}
    env.update(
        {
            "HOME": "/github/home",
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "GITHUB_WORKSPACE": "/github/workspace",
            "GITHUB_EVENT_PATH": "/github/workflow/event.json",
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_REPOSITORY": "octo/lambda-app",
            "GITHUB_JOB": "gate",
            "GITHUB_WORKFLOW": "deploy",
            "GITHUB_WORKFLOW_REF": "octo/lambda-app/.github/workflows/deploy.yml@refs/heads/main",
            "GITHUB_SHA": "0" * 40,
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_API_URL": "https://api.github.com",
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
            "RUNNER_TEMP": "/github/runner_temp",
            **{variable: f"/github/file_commands/{name}" for variable, name in files.items()},
        }
    )
    command = ["podman", "run", "--rm", "--workdir", "/github/workspace"]
    for name, value in env.items():
        command += ["--env", f"{name}={value}"]  # exec form: no shell sees the values
    for host, container in (
        (runner_temp, "/github/runner_temp"),
        (home, "/github/home"),
        (workflow, "/github/workflow"),
        (commands, "/github/file_commands"),
        (workspace, "/github/workspace"),
    ):
        command += ["-v", f"{host}:{container}"]
    command.append(image)
    started = time.monotonic()
    done = subprocess.run(command, env=podman, capture_output=True, text=True, timeout=300)
    elapsed = time.monotonic() - started
    outputs = _parse_file_command((commands / files["GITHUB_OUTPUT"]).read_text(encoding="utf-8"))
    summary = (commands / files["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    return done, outputs, summary, workspace, elapsed


def test_failing_example_fails_the_step(podman, image, tmp_path):
    done, outputs, summary, workspace, elapsed = _run_like_the_runner(
        podman, image, tmp_path, "built-on-ubuntu-latest.zip", runtime="provided.al2023"
    )
    _report(f"podman run, built-on-ubuntu-latest.zip -> {outputs.get('verdict')}: {elapsed:.2f} s wall")
    assert done.returncode == 1, done.stdout + done.stderr
    assert outputs["verdict"] == "fail" and outputs["max-glibc"] == "2.38"
    assert int(outputs["findings"]) >= 1
    report = json.loads((workspace / outputs["report"]).read_text(encoding="utf-8"))
    assert "glibc-too-new" in {f["rule"] for a in report["artifacts"] for f in a["findings"]}
    assert "::error" in done.stdout + done.stderr and summary.strip()


def test_passing_example_passes(podman, image, tmp_path):
    done, outputs, summary, workspace, elapsed = _run_like_the_runner(
        podman, image, tmp_path, "good-provided-al2023.zip", runtime="provided.al2023", sarif="good.sarif"
    )
    _report(f"podman run, good-provided-al2023.zip -> {outputs.get('verdict')}: {elapsed:.2f} s wall")
    assert done.returncode == 0, done.stdout + done.stderr
    assert outputs["verdict"] == "pass" and outputs["max-glibc"] == "2.34" and outputs["findings"] == "0"
    assert json.loads((workspace / "good.sarif").read_text(encoding="utf-8"))["version"] == "2.1.0"
    assert summary.strip()
