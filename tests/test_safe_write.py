"""Writes never follow a symlink: safe_write itself, the CLI's --output and the Action's files.

The attack: a pull request commits `lambda-glibc-gate-report.json -> ../outside/x` (or
`-> /dev/stdout`, or a symlinked parent folder) so that the report overwrites a file outside the
workspace (in the container, /github/workflow/event.json) or is printed into the log.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from helpers import elf_fixture
from test_action import BAD, GOOD, elf, make_zip, run_step, workspace  # noqa: F401 - fixture

from lambda_glibc_gate import safe_write
from lambda_glibc_gate.cli import main

REPORT = "lambda-glibc-gate-report.json"
SECRET = '{"precious": "event.json"}\n'


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    """A root folder and, beside it, a file a symlink inside the root may point at."""
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x").write_text(SECRET, encoding="utf-8")
    return root, outside / "x"


# -- the module ------------------------------------------------------------------------------


def test_plain_write_creates_and_truncates(tree):
    root, _ = tree
    safe_write.write_text("r.json", "a much longer first version\n", root)
    safe_write.write_text("r.json", "short\n", root)
    assert (root / "r.json").read_text(encoding="utf-8") == "short\n"


def test_symlink_to_a_file_outside_is_refused_and_left_alone(tree):
    root, secret = tree
    (root / "r.json").symlink_to(os.path.relpath(secret, root))
    with pytest.raises(safe_write.UnsafePathError, match="symbolic link"):
        safe_write.write_text("r.json", "report", root)
    assert secret.read_text(encoding="utf-8") == SECRET


def test_symlink_inside_the_root_is_refused_too(tree):
    root, _ = tree
    (root / "real.json").write_text("keep", encoding="utf-8")
    (root / "r.json").symlink_to("real.json")
    with pytest.raises(safe_write.UnsafePathError):
        safe_write.write_text("r.json", "report", root)
    assert (root / "real.json").read_text(encoding="utf-8") == "keep"


def test_dangling_symlink_is_not_created_through(tree):
    root, secret = tree
    target = secret.parent / "new-file"
    (root / "r.json").symlink_to(target)
    with pytest.raises(safe_write.UnsafePathError):
        safe_write.write_text("r.json", "report", root)
    assert not target.exists()


@pytest.mark.parametrize("make_dirs", [False, True])
def test_symlinked_parent_folder_is_refused(tree, make_dirs):
    root, secret = tree
    (root / "out").symlink_to(secret.parent, target_is_directory=True)
    with pytest.raises(safe_write.UnsafePathError, match="folder 'out'"):
        safe_write.write_text("out/x", "report", root, make_dirs=make_dirs)
    with pytest.raises(safe_write.UnsafePathError, match="folder 'out'"):
        safe_write.write_text("out/new/deeper.sarif", "report", root, make_dirs=make_dirs)
    assert secret.read_text(encoding="utf-8") == SECRET
    assert sorted(p.name for p in secret.parent.iterdir()) == ["x"]


@pytest.mark.parametrize("path", ["../outside/x", "a/../../outside/x", "{outside}"])
def test_paths_leaving_the_root_are_refused(tree, path):
    root, secret = tree
    (root / "a").mkdir()
    with pytest.raises(safe_write.UnsafePathError):
        safe_write.write_text(path.format(outside=secret), "report", root)
    assert secret.read_text(encoding="utf-8") == SECRET


def test_dotdot_that_stays_inside_and_absolute_paths_inside_work(tree):
    root, _ = tree
    (root / "a").mkdir()
    safe_write.write_text("a/../r.json", "one", root)
    safe_write.write_text(root / "a" / "s.json", "two", root)
    assert (root / "r.json").read_text(encoding="utf-8") == "one"
    assert (root / "a" / "s.json").read_text(encoding="utf-8") == "two"


def test_make_dirs_creates_missing_folders(tree):
    root, _ = tree
    safe_write.write_text("out/deep/r.sarif", "{}", root, make_dirs=True)
    assert (root / "out" / "deep" / "r.sarif").read_text(encoding="utf-8") == "{}"
    with pytest.raises(FileNotFoundError):
        safe_write.write_text("other/r.sarif", "{}", root)


def test_fifo_is_refused_without_hanging(tree):
    root, _ = tree
    os.mkfifo(root / "r.json")
    done = threading.Event()
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            safe_write.write_text("r.json", "report", root)
        except OSError as error:
            errors.append(error)
        done.set()

    threading.Thread(target=attempt, daemon=True).start()
    assert done.wait(10), "the write blocked on a FIFO"
    assert errors and isinstance(errors[0], safe_write.UnsafePathError)


def test_a_device_is_refused():
    with pytest.raises(safe_write.UnsafePathError, match="not a regular file"):
        safe_write.write_text("null", "report", Path("/dev"))


def test_a_folder_is_an_ordinary_error(tree):
    root, _ = tree
    (root / "r.json").mkdir()
    with pytest.raises(OSError):
        safe_write.write_text("r.json", "report", root)
    with pytest.raises(safe_write.UnsafePathError):
        safe_write.write_text(".", "report", root)


# -- the CLI's --output ------------------------------------------------------------------------


@pytest.fixture
def in_tree(tree, monkeypatch):
    root, secret = tree
    monkeypatch.chdir(root)
    zip_path = root / "fn.zip"
    make_zip(zip_path, {"bootstrap": elf_fixture(BAD)})
    return root, secret, str(zip_path)


def test_cli_output_through_a_symlink_is_refused(in_tree, capsys):
    root, secret, zip_path = in_tree
    (root / "report.json").symlink_to(os.path.relpath(secret, root))
    assert main(["scan", zip_path, "--format", "json", "--output", "report.json"]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot write report.json" in err and "symbolic link" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert secret.read_text(encoding="utf-8") == SECRET


def test_cli_output_symlink_to_dev_stdout_prints_nothing(in_tree, capsys):
    root, _, zip_path = in_tree
    (root / "report.json").symlink_to("/dev/stdout")
    assert main(["scan", zip_path, "--format", "json", "--output", "report.json"]) == 2
    captured = capsys.readouterr()
    assert '"verdict"' not in captured.out and "symbolic link" in captured.err


def test_cli_output_outside_the_current_folder_and_temp_is_refused(in_tree, capsys):
    _, _, zip_path = in_tree
    assert main(["scan", zip_path, "--output", "/proc/self/fd/1"]) == 2
    assert "outside" in capsys.readouterr().err


def test_cli_output_in_the_current_folder_still_works(in_tree, capsys):
    root, _, zip_path = in_tree
    assert main(["scan", zip_path, "--format", "json", "--output", "sub/../report.json"]) == 2  # no sub/
    (root / "sub").mkdir()
    assert main(["scan", zip_path, "--format", "json", "--output", "sub/../report.json"]) == 1
    assert json.loads((root / "report.json").read_text(encoding="utf-8"))["verdict"] == "fail"


# -- the Action --------------------------------------------------------------------------------


@pytest.fixture
def outside_file(workspace):  # noqa: F811
    """In the container this would be /github/workflow/event.json, beside the workspace."""
    target = workspace.parent / "outside" / "x"
    target.parent.mkdir()
    target.write_text(SECRET, encoding="utf-8")
    return target


@pytest.mark.parametrize("fixture", [GOOD, BAD])
def test_action_report_symlink_out_of_the_workspace_is_not_followed(workspace, outside_file, fixture):  # noqa: F811
    make_zip(workspace / "fn.zip", {"bootstrap": elf(fixture)})
    (workspace / REPORT).symlink_to("../outside/x")
    step = run_step(workspace, {"artifacts": "fn.zip"})
    assert outside_file.read_text(encoding="utf-8") == SECRET
    assert step.returncode == (1 if fixture == BAD else 0), step.stdout + step.stderr
    assert step.outputs["verdict"] == ("fail" if fixture == BAD else "pass")
    assert step.outputs["report"] == ""
    (warning,) = [w for w in step.warnings() if REPORT in w.message]
    assert "symbolic link" in warning.message and "\n" not in warning.message
    assert "Traceback" not in step.stdout + step.stderr


def test_action_report_symlink_to_dev_stdout_does_not_print_the_report(workspace):  # noqa: F811
    make_zip(workspace / "fn.zip", {"bootstrap": elf(BAD)})
    (workspace / REPORT).symlink_to("/dev/stdout")
    step = run_step(workspace, {"artifacts": "fn.zip"})
    assert step.returncode == 1
    assert '"schema_version"' not in step.stdout and '"binaries"' not in step.stdout
    assert any(REPORT in w.message for w in step.warnings())


def test_action_sarif_through_a_symlinked_folder_is_not_written(workspace, outside_file):  # noqa: F811
    make_zip(workspace / "fn.zip", {"bootstrap": elf(BAD)})
    (workspace / "results").symlink_to("../outside", target_is_directory=True)
    step = run_step(workspace, {"artifacts": "fn.zip", "sarif": "results/x"})
    assert step.returncode == 1
    assert outside_file.read_text(encoding="utf-8") == SECRET
    (warning,) = [w for w in step.warnings() if "SARIF" in w.message]
    assert "folder 'results' is a symbolic link" in warning.message
    # The JSON report beside it is still written: one refusal does not stop the others.
    assert json.loads((workspace / REPORT).read_text(encoding="utf-8"))["verdict"] == "fail"


def test_action_sarif_outside_the_workspace_is_refused(workspace, outside_file):  # noqa: F811
    make_zip(workspace / "fn.zip", {"bootstrap": elf(GOOD)})
    step = run_step(workspace, {"artifacts": "fn.zip", "sarif": str(outside_file)})
    assert step.returncode == 0
    assert outside_file.read_text(encoding="utf-8") == SECRET
    assert any("SARIF" in w.message and "outside" in w.message for w in step.warnings())


def test_a_root_behind_a_symlink_is_trusted_in_either_spelling(tree, tmp_path):
    """/tmp -> /private/tmp on macOS: the root itself may be a link; only what is below it counts."""
    root, _ = tree
    alias = tmp_path / "alias"
    alias.symlink_to(root, target_is_directory=True)
    safe_write.write_text(alias / "a.json", "one", alias)
    safe_write.write_text(root / "b.json", "two", alias)
    assert sorted(p.name for p in root.iterdir()) == ["a.json", "b.json"]
    # A link *in the path* is never trusted, even one that leads back into the root.
    with pytest.raises(safe_write.UnsafePathError, match="outside"):
        safe_write.write_text(alias / "c.json", "three", root)
