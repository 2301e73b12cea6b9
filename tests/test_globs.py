"""The glob grammar (archive.expand_paths), shared by the CLI's PATH and the Action's
`artifacts` input: @actions/glob's rules (hidden names match, `!` excludes, later lines win),
on real temporary trees."""

from __future__ import annotations

import json
import os

import pytest
from helpers import elf_fixture, write_zip

from lambda_glibc_gate import action
from lambda_glibc_gate.archive import NoMatchError, expand_paths
from lambda_glibc_gate.cli import main
from lambda_glibc_gate.errors import UsageError

OLD = "hello-glibc2.17-x86_64"  # passes on provided.al2023
NEW = "strlcpy_strtol-glibc2.38-x86_64"  # fails: needs glibc 2.38


def _tree(root, names):
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".zip"):
            fixture = NEW if "new" in name else OLD
            write_zip(path, {"bootstrap": elf_fixture(fixture)})
        else:
            path.write_bytes(b"x")


def _rel(paths, root):
    return [os.path.relpath(path, root) for path in paths]


@pytest.fixture
def tree(tmp_path, monkeypatch):
    _tree(tmp_path, [
        ".serverless/api.zip",
        ".aws-sam/build/Fn/bootstrap",
        "target/lambda/api/bootstrap.zip",
        "target/lambda/old/bootstrap.zip",
        "target/lambda/old/new.zip",
        "target/lambda/.cache/x.zip",
        "visible.zip",
    ])
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- hidden folders ------------------------------------------------------------------------------
def test_double_star_walks_dot_folders(tree):
    assert _rel(expand_paths(["**/*.zip"]), ".") == [
        ".serverless/api.zip",
        "target/lambda/.cache/x.zip",
        "target/lambda/api/bootstrap.zip",
        "target/lambda/old/bootstrap.zip",
        "target/lambda/old/new.zip",
        "visible.zip",
    ]
    assert expand_paths(["**/bootstrap"]) == [".aws-sam/build/Fn/bootstrap"]


def test_star_matches_hidden_names_as_actions_glob_does(tree):
    assert expand_paths(["*/*.zip"]) == [".serverless/api.zip"]
    assert expand_paths(["*/build/*/"]) == [".aws-sam/build/Fn/"]


def test_double_star_still_does_not_follow_folder_links(tree):
    (tree / ".aws-sam" / "loop").symlink_to("..")
    assert expand_paths(["**/bootstrap"]) == [".aws-sam/build/Fn/bootstrap"]


# -- excludes and order --------------------------------------------------------------------------
def test_an_exclude_drops_earlier_matches_and_what_lies_under_them(tree):
    found = expand_paths(["target/**/*.zip", "!target/lambda/old"])
    assert found == ["target/lambda/.cache/x.zip", "target/lambda/api/bootstrap.zip"]
    assert expand_paths(["target/**/*.zip", "!**/.cache/**", "!**/old/new.zip"]) == [
        "target/lambda/api/bootstrap.zip", "target/lambda/old/bootstrap.zip"]


def test_later_lines_override_earlier_ones(tree):
    # include, exclude the folder, include one file of it again: the last matching line wins
    found = expand_paths(["target/**/*.zip", "!target/lambda/old/**", "target/lambda/old/new.zip"])
    assert _rel(found, ".") == [
        "target/lambda/.cache/x.zip", "target/lambda/api/bootstrap.zip", "target/lambda/old/new.zip"]
    # an exclude before the include excludes nothing
    assert "target/lambda/old/new.zip" in expand_paths(["!target/lambda/old/**", "target/**/*.zip"])


def test_double_bang_includes_and_comments_are_skipped(tree):
    assert expand_paths(["# the zips", "!!visible.zip"]) == ["visible.zip"]


def test_an_exclude_matching_nothing_is_fine_an_include_is_not(tree):
    assert expand_paths(["visible.zip", "!nothing/**"]) == ["visible.zip"]
    with pytest.raises(NoMatchError) as error:
        expand_paths(["visible.zip", "dist/*.zip"])
    assert str(error.value) == "no file matches 'dist/*.zip'"
    assert error.value.pattern == "dist/*.zip"


def test_everything_excluded_is_a_usage_error(tree):
    with pytest.raises(UsageError, match="every match of 'visible.zip' is excluded"):
        expand_paths(["visible.zip", "!*.zip"])
    assert expand_paths(["visible.zip", "!*.zip"], missing_ok=True) == []


def test_only_comments_and_excludes_is_a_usage_error_not_an_empty_pass(tree, capsys):
    for patterns in (["# nothing"], ["!visible.zip"], ["!"], ["#a", "!!!b"]):
        with pytest.raises(UsageError, match="nothing|no file"):
            expand_paths(patterns)
    assert main(["scan", "!visible.zip"]) == 2
    assert "every pattern is a comment ('#') or an exclude ('!')" in capsys.readouterr().err


def test_the_same_file_by_two_names_counts_once_and_output_is_stable(tree):
    (tree / "alias.zip").hardlink_to(tree / "visible.zip")
    assert expand_paths(["*.zip"]) == ["alias.zip"]
    # excluding one name of a file excludes the file, whichever name was kept
    with pytest.raises(UsageError):
        expand_paths(["*.zip", "!visible.zip"])
    assert expand_paths(["**/*.zip"]) == expand_paths(["**/*.zip"])


def test_hostile_patterns_do_not_raise_anything_but_usage_errors(tree):
    for pattern in ("[", "!", "!!!", "**/[", "\x00", "a" * 5000, "/../../**/../x[", "***/*"):
        try:
            expand_paths([pattern])
        except UsageError:
            pass


# -- through the CLI -----------------------------------------------------------------------------
def test_the_cli_takes_the_grammar(tree, capsys):
    assert main(["scan", "**/*.zip", "!**/new.zip", "--format", "json", "--runtime", "provided.al2023"]) == 0
    report = json.loads(capsys.readouterr().out)
    paths = [artifact["path"] for artifact in report["artifacts"]]
    assert ".serverless/api.zip" in paths and "target/lambda/old/new.zip" not in paths
    assert main(["scan", "**/*.zip", "--format", "json", "--runtime", "provided.al2023"]) == 1
    capsys.readouterr()
    assert main(["scan", "nothing/*.zip"]) == 2
    assert "no file matches 'nothing/*.zip'" in capsys.readouterr().err


# -- through the Action --------------------------------------------------------------------------
def _settings(patterns, default=False):
    return action.Settings(
        artifacts=tuple(patterns), artifacts_are_default=default, runtime="provided.al2023",
        architecture="x86_64", glibc=None, fail_on="error", annotate=False, summary=False,
        comment=False, token="", sarif=None, working_directory=".")


def test_the_action_takes_the_same_grammar(tree):
    found = action.expand_artifacts(_settings(["**/*.zip", "!target/**", "target/lambda/api/*.zip"]), ".")
    assert found == [".serverless/api.zip", "visible.zip", "target/lambda/api/bootstrap.zip"]


def test_the_action_names_the_pattern_that_matches_nothing(tree):
    with pytest.raises(action.ActionError, match=r"artifacts: nothing matches 'dist/\*\.zip'"):
        action.expand_artifacts(_settings(["visible.zip", "dist/*.zip"]), ".")
    with pytest.raises(action.ActionError, match="excluded"):
        action.expand_artifacts(_settings(["visible.zip", "!visible.zip"]), ".")


def test_the_action_default_patterns_find_dot_folders_and_tolerate_no_match(tree):
    found = action.expand_artifacts(_settings(action.DEFAULT_ARTIFACTS, default=True), ".")
    # target/lambda/*/ folders hold zips that match too: the outer folders are dropped
    assert ".serverless/api.zip" in found and ".aws-sam/build/Fn/" in found
    assert "target/lambda/api/bootstrap.zip" in found


def test_the_action_default_patterns_in_a_working_directory(tmp_path, monkeypatch):
    _tree(tmp_path, ["svc/.aws-sam/build/Fn/bootstrap"])
    monkeypatch.chdir(tmp_path)
    assert action.expand_artifacts(_settings(action.DEFAULT_ARTIFACTS, default=True), "svc") == [
        "svc/.aws-sam/build/Fn/"]
    with pytest.raises(action.ActionError, match="no build output found in working-directory 'empty'"):
        (tmp_path / "empty").mkdir()
        action.expand_artifacts(_settings(action.DEFAULT_ARTIFACTS, default=True), "empty")
