"""checks.loadable: what Node's require and Python's import pick, as loaders.select reports it."""

from __future__ import annotations

from built import target

from lambda_glibc_gate.checks.loadable import NOT_LOADED_EXAMPLES, check_loadable_builds, not_loaded_notes
from lambda_glibc_gate.loaders import MissingCandidate


def test_files_the_loader_passes_over_are_one_note_per_folder_of_alternatives():
    unused = {
        "node_modules/sharp/prebuilds/darwin-arm64/sharp.node": "built for darwin arm64",
        "node_modules/sharp/prebuilds/win32-x64/sharp.node": "built for win32 x64",
        "node_modules/@img/sharp-linuxmusl-x64/lib/sharp.node": "built for musl",
    }
    sizes = {name: 1_500_000 for name in unused}
    first, second = not_loaded_notes(unused, sizes, target("nodejs22.x"))
    assert (first.rule, first.severity) == ("not-loaded", "note")
    assert first.member == "node_modules/@img/sharp-linuxmusl-x64/lib"
    assert second.member == "node_modules/sharp/prebuilds"
    assert second.message == (
        "node_modules/sharp/prebuilds: 2 native file(s) (3.0 MB) that nodejs22.x on x86_64 never loads, "
        "e.g. node_modules/sharp/prebuilds/darwin-arm64/sharp.node: built for darwin arm64"
    )
    assert second.details == {
        "members": sorted(n for n in unused if "/prebuilds/" in n),
        "count": 2,
        "bytes": 3_000_000,
    }


def test_the_note_lists_a_bounded_number_of_members():
    unused = {f"pkg/prebuilds/p{n:03}/x.node": "another platform" for n in range(NOT_LOADED_EXAMPLES + 5)}
    (note,) = not_loaded_notes(unused, {}, target("nodejs22.x"))
    assert len(note.details["members"]) == NOT_LOADED_EXAMPLES and note.details["count"] == NOT_LOADED_EXAMPLES + 5


def test_a_package_with_no_build_the_runtime_loads_fails_at_cold_start():
    candidate = MissingCandidate(
        "node_modules/@img/sharp", "@img/sharp", ("darwin-arm64", "linux-x64 musl"), "linux-x64 glibc"
    )
    (finding,) = check_loadable_builds([candidate], target("nodejs22.x"))
    assert (finding.rule, finding.severity) == ("no-loadable-build", "error")
    assert finding.message == (
        "@img/sharp (node_modules/@img/sharp) has native builds, but none that nodejs22.x on x86_64 loads "
        "(linux-x64 glibc); found: darwin-arm64, linux-x64 musl. Its require() fails at cold start"
    )
    assert finding.member == "node_modules/@img/sharp"
    assert [fix.code for fix in finding.fixes] == [
        "npm install --os=linux --cpu=x64 --libc=glibc @img/sharp",
        "container: public.ecr.aws/sam/build-nodejs22.x:latest-x86_64\n# then, in a run: step\n"
        "npm rebuild @img/sharp --build-from-source",
    ]


def test_a_long_list_of_builds_is_cut_in_the_message_only():
    found = tuple(f"platform-{n}" for n in range(10))
    (finding,) = check_loadable_builds(
        [MissingCandidate("node_modules/x", "x", found, "linux-x64")], target("nodejs22.x")
    )
    assert (
        "found: platform-0, platform-1, platform-2, platform-3, platform-4, platform-5, platform-6, platform-7 …"
        in (finding.message)
    )
    assert finding.details["found"] == list(found)
    assert check_loadable_builds([], target("nodejs22.x")) == []
