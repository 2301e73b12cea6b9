"""workflow.py: the `runs-on:` line of the job that built the package, or None."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambda_glibc_gate.workflow import find_build_line, find_runs_on, locate_runs_on, workflow_path

WORKFLOW = textwrap.dedent(
    """\
    name: build
    on:
      push:
      pull_request:
    jobs:
      lint:
        runs-on: ubuntu-24.04
        steps:
          - run: ruff check .
      build:
        name: Build the function
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@v4
          - run: |
              pip install cargo-lambda
              cargo lambda build --release --output-format zip
          - uses: owner/lambda-glibc-gate@v1
      matrix:
        strategy:
          matrix:
            os: [ubuntu-22.04, ubuntu-24.04]
        runs-on: ${{ matrix.os }}
        steps:
          - run: cargo build --release
      labels:
        runs-on: [self-hosted, linux]
        steps:
          - run: sam build
      group:
        runs-on:
          group: large-runners
        steps:
          - run: sam build
      container:
        runs-on: ubuntu-latest
        container:
          image: public.ecr.aws/sam/build-provided.al2023
        steps:
          - run: sam build
      gate:
        needs: [lint, build]
        runs-on: ubuntu-latest
        steps:
          - uses: actions/download-artifact@v4
          - uses: owner/lambda-glibc-gate@v1
    """
)


def _line_of(text: str, needle: str, after: str) -> int:
    """1-based line number of the first `needle` line after the line containing `after`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line)
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


@pytest.mark.parametrize(
    ("ref", "repository", "expected"),
    [
        ("octo/fn/.github/workflows/build.yml@refs/heads/main", "octo/fn", ".github/workflows/build.yml"),
        ("octo/fn/.github/workflows/ci.yaml@refs/pull/7/merge", "octo/fn", ".github/workflows/ci.yaml"),
        ("octo/fn/.github/workflows/b.yml@refs/heads/feat@x", "", ".github/workflows/b.yml"),
        ("octo/fn/.github/workflows/b.yml", "", ".github/workflows/b.yml"),
        ("octo/fn/../../etc/passwd@refs/heads/main", "octo/fn", None),
        ("nonsense", "", None),
    ],
)
def test_workflow_path_from_ref(ref, repository, expected):
    assert workflow_path(ref, repository) == expected


def test_job_from_github_job_points_at_its_runs_on_line():
    location = locate_runs_on(WORKFLOW, ".github/workflows/build.yml", "build")
    assert location is not None
    assert location.job == "build"
    assert location.value == "ubuntu-latest"
    assert location.line == _line_of(WORKFLOW, "runs-on:", "  build:")
    assert WORKFLOW.splitlines()[location.line - 1][location.column - 1 :].startswith("runs-on:")
    assert location.path == ".github/workflows/build.yml"
    assert location.container is None


def test_without_github_job_the_build_job_is_found():
    location = locate_runs_on(WORKFLOW, "w.yml", None)
    assert location is not None and location.job == "build"


def test_unknown_job_falls_back_to_the_build_job():
    location = locate_runs_on(WORKFLOW, "w.yml", "a-job-of-the-calling-workflow")
    assert location is not None and location.job == "build"


def test_gate_job_points_at_the_one_build_job_it_needs():
    location = locate_runs_on(WORKFLOW, "w.yml", "gate")
    assert location is not None
    assert location.job == "build"


def test_job_that_builds_nothing_and_needs_nothing_is_itself():
    location = locate_runs_on(WORKFLOW, "w.yml", "lint")
    assert location is not None
    assert (location.job, location.value) == ("lint", "ubuntu-24.04")


@pytest.mark.parametrize("job", ["matrix", "labels", "group"])
def test_runs_on_we_cannot_point_at_gives_none(job):
    assert locate_runs_on(WORKFLOW, "w.yml", job) is None


def test_container_job_reports_its_image():
    location = locate_runs_on(WORKFLOW, "w.yml", "container")
    assert location is not None
    assert location.container == "public.ecr.aws/sam/build-provided.al2023"


def test_on_key_is_not_confused_with_true():
    text = "true: 1\non: push\njobs:\n  build:\n    runs-on: ubuntu-22.04\n    steps: []\n"
    location = locate_runs_on(text, "w.yml", "build")
    assert location is not None and location.line == 5


@pytest.mark.parametrize(
    "text",
    [
        "",
        "jobs: [1, 2]",
        "jobs:\n  build: {runs-on: [unclosed",
        "- just\n- a list\n",
        "jobs:\n  build:\n    steps: []\n",  # no runs-on (a reusable-workflow call)
        "a: &x [*x]\njobs: *x\n",
        "---\njobs: {}\n---\njobs: {}\n",
        "\x00\x01 binary",
        "[" * 5000,
    ],
)
def test_malformed_or_unhelpful_workflows_give_none(text):
    assert locate_runs_on(text, "w.yml", "build") is None


@settings(max_examples=200)
@given(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=10)))
def test_never_raises(text, job):
    result = locate_runs_on(text, "w.yml", job)
    assert result is None or result.line >= 1


def test_find_runs_on_reads_the_file_in_the_workspace(tmp_path):
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "build.yml").write_text(WORKFLOW, encoding="utf-8")
    ref = "octo/fn/.github/workflows/build.yml@refs/pull/3/merge"
    location = find_runs_on(tmp_path, ref, "build", "octo/fn")
    assert location is not None
    assert location.line == _line_of(WORKFLOW, "runs-on:", "  build:")
    # Missing file, no ref, or a ref leaving the workspace: None.
    assert find_runs_on(tmp_path, ref.replace("build.yml", "other.yml"), "build", "octo/fn") is None
    assert find_runs_on(tmp_path, None, "build") is None
    assert find_runs_on(tmp_path / "sub", "octo/fn/../x.yml@r", "build", "octo/fn") is None


def test_unreadable_bytes_give_none(tmp_path):
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "build.yml").write_bytes(b"jobs:\n  build:\n    runs-on: \xff\xfe\n")
    assert find_runs_on(tmp_path, "o/r/.github/workflows/build.yml@x", "build", "o/r") is None


def test_the_build_jobs_cargo_lambda_line_is_found_with_its_flags(tmp_path):
    (tmp_path / ".github/workflows").mkdir(parents=True)
    (tmp_path / ".github/workflows/build.yml").write_text(WORKFLOW)
    ref = "octo/fn/.github/workflows/build.yml@refs/heads/main"
    assert find_build_line(tmp_path, ref, "build", "octo/fn") == "cargo lambda build --release --output-format zip"
    assert find_build_line(tmp_path, ref, "lint", "octo/fn") is None  # that job builds nothing


def test_a_continued_cargo_lambda_line_is_joined(tmp_path):
    text = WORKFLOW.replace(
        "cargo lambda build --release --output-format zip", "cargo lambda build --release \\\n            --arm64"
    )
    (tmp_path / ".github/workflows").mkdir(parents=True)
    (tmp_path / ".github/workflows/build.yml").write_text(text)
    line = find_build_line(tmp_path, "octo/fn/.github/workflows/build.yml@refs/heads/main", "build", "octo/fn")
    assert line == "cargo lambda build --release --arm64"
