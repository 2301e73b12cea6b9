"""The runtime database: every runtime AWS has, every fact sourced, limits as the reference says.

Expected values below are copied from the project's sourced reference
(reference/runtimes.md §1a "Checker constants", §2 runtime table, §3c/§3d; reference/gha.md §8),
so a wrong edit of runtimes.yaml fails here.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from importlib import resources

import pytest
import yaml

from lambda_glibc_gate import runtimes
from lambda_glibc_gate.runtimes import (
    ARCHITECTURES,
    RuntimeDataError,
    UnknownArchitectureError,
    UnknownRuntimeError,
)

# reference/runtimes.md §2, current and deprecated.
REFERENCE_RUNTIME_IDS = """
provided.al2023 provided.al2 provided go1.x
python3.14 python3.13 python3.12 python3.11 python3.10 python3.9 python3.8 python3.7 python3.6
python2.7
nodejs24.x nodejs22.x nodejs20.x nodejs18.x nodejs16.x nodejs14.x nodejs12.x nodejs10.x
nodejs8.10 nodejs6.10 nodejs4.3 nodejs4.3-edge nodejs
java25 java21 java17 java11 java8.al2 java8 java8.al2023 java11.al2023 java17.al2023
dotnet10 dotnet9 dotnet8 dotnet7 dotnet6 dotnetcore3.1 dotnetcore2.1 dotnetcore2.0 dotnetcore1.0
dotnet5.0
ruby4.0 ruby3.4 ruby3.3 ruby3.2 ruby2.7 ruby2.5
""".split()

# A date inside the reference's snapshot (its newest source is 2026-08-21).
TODAY = date(2026, 8, 21)


@pytest.fixture(scope="module")
def raw() -> dict:
    text = resources.files("lambda_glibc_gate").joinpath("data/runtimes.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _source_lists(node, path="$"):
    """Yield (path, source list) for every `source:` key anywhere in the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "source":
                yield path, value
            else:
                yield from _source_lists(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _source_lists(value, f"{path}[{index}]")


# ---------------------------------------------------------------- the YAML itself


def test_yaml_loads_with_safe_load_and_has_every_section(raw):
    # GIVEN the packaged YAML read with yaml.safe_load (no custom tags allowed)
    # THEN every section the loader needs is there
    for section in ("sources", "architectures", "library_search_path", "operating_systems",
                    "runtimes", "runner_images", "sam_python_builder"):
        assert section in raw, section


def test_every_reference_runtime_id_is_present():
    known = runtimes.all_runtimes()
    missing = [rid for rid in REFERENCE_RUNTIME_IDS if rid not in known]
    assert missing == []


def test_no_runtime_id_is_listed_twice(raw):
    ids = [entry["id"] for entry in raw["runtimes"]]
    assert len(ids) == len(set(ids))


def test_every_runtime_os_and_library_entry_carries_sources(raw):
    # GIVEN each entry that states facts
    entries = [(f"runtime {e['id']}", e) for e in raw["runtimes"]]
    for os_id, os_entry in raw["operating_systems"].items():
        entries.append((f"os {os_id}", os_entry))
        for arch, arch_entry in os_entry["architectures"].items():
            entries.append((f"limits {os_id}/{arch}", arch_entry["limits"]))
        entries += [(f"library {os_id}/{lib['soname']}", lib) for lib in os_entry["libraries"]]
    entries += [(f"runner {e['label']}", e) for e in raw["runner_images"]]
    entries += [(f"arch {a}", e) for a, e in raw["architectures"].items()]
    entries.append(("library_search_path", raw["library_search_path"]))
    entries.append(("sam_python_builder", raw["sam_python_builder"]))
    # THEN each has a non-empty source list
    unsourced = [name for name, entry in entries if not entry.get("source")]
    assert unsourced == []


def test_every_source_key_resolves_and_every_declared_source_is_used(raw):
    declared = set(raw["sources"])
    used = set()
    for path, keys in _source_lists({k: v for k, v in raw.items() if k != "sources"}):
        assert isinstance(keys, list) and keys, path
        dangling = set(keys) - declared
        assert not dangling, f"{path}: {sorted(dangling)}"
        used.update(keys)
    assert declared - used == set()


def test_every_source_has_a_url(raw):
    for key, entry in raw["sources"].items():
        assert entry["url"].startswith("https://"), key
        assert runtimes.source_url(key) == entry["url"]


def test_unknown_facts_always_say_why(raw):
    # GIVEN every library whose presence is unknown, and the runtime whose OS is unknown
    for os_id, os_entry in raw["operating_systems"].items():
        for lib in os_entry["libraries"]:
            if lib["status"] == "unknown":
                assert lib.get("note"), f"{os_id}/{lib['soname']}"
    for entry in raw["runtimes"]:
        if entry["os"] == "unknown":
            assert entry.get("notes"), entry["id"]


def test_versions_are_quoted_strings_not_floats(raw):
    # An unquoted 2.30 would load as the float 2.3; the loader must refuse that.
    broken = copy.deepcopy(raw)
    broken["operating_systems"]["al2023"]["glibc"] = 2.34
    with pytest.raises(RuntimeDataError, match="bad version"):
        runtimes.parse_database(broken)


def test_a_dangling_source_key_is_refused(raw):
    broken = copy.deepcopy(raw)
    broken["runtimes"][0]["source"] = ["no-such-source"]
    with pytest.raises(RuntimeDataError, match="no-such-source"):
        runtimes.parse_database(broken)


def test_a_missing_source_list_is_refused(raw):
    broken = copy.deepcopy(raw)
    del broken["operating_systems"]["al2"]["libraries"][0]["source"]
    with pytest.raises(RuntimeDataError, match="source"):
        runtimes.parse_database(broken)


def test_a_duplicate_runtime_id_is_refused(raw):
    broken = copy.deepcopy(raw)
    broken["runtimes"].append(copy.deepcopy(broken["runtimes"][0]))
    with pytest.raises(RuntimeDataError, match="duplicate runtime id"):
        runtimes.parse_database(broken)


def test_a_bad_date_is_refused(raw):
    broken = copy.deepcopy(raw)
    broken["runtimes"][0]["deprecation"] = "2029-13-45"
    with pytest.raises(RuntimeDataError, match="bad date"):
        runtimes.parse_database(broken)


# ---------------------------------------------------------------- OS facts


@pytest.mark.parametrize(
    ("os_id", "glibc"), [("al2023", "2.34"), ("al2", "2.26"), ("al1", "2.17")]
)
def test_os_glibc(os_id, glibc):
    assert runtimes.operating_system(os_id).glibc == glibc


@pytest.mark.parametrize(
    ("runtime_id", "glibc"),
    [("provided.al2023", "2.34"), ("python3.12", "2.34"), ("nodejs20.x", "2.34"),
     ("provided.al2", "2.26"), ("python3.11", "2.26"), ("java17", "2.26"),
     ("provided", "2.17"), ("go1.x", "2.17"), ("python3.7", "2.17")],
)
def test_runtime_glibc_follows_its_os(runtime_id, glibc):
    runtime = runtimes.get_runtime(runtime_id)
    assert runtime.glibc == glibc
    for arch in runtime.architectures:
        assert runtime.limits_for(arch).glibc == glibc


# reference/runtimes.md §1a "Checker constants (conservative)".
@pytest.mark.parametrize(
    ("os_id", "arch", "glibcxx", "cxxabi", "gcc", "extra"),
    [
        ("al1", "x86_64", "3.4.24", "1.3.11", "7.0.0", set()),
        ("al2", "x86_64", "3.4.24", "1.3.11", "7.0.0", {"CXXABI_TM_1", "CXXABI_FLOAT128"}),
        ("al2", "arm64", "3.4.24", "1.3.11", "7.0.0", {"CXXABI_TM_1"}),
        ("al2023", "x86_64", "3.4.29", "1.3.13", "7.0.0", {"CXXABI_TM_1", "CXXABI_FLOAT128"}),
        ("al2023", "arm64", "3.4.29", "1.3.13", "11.0", {"CXXABI_TM_1"}),
    ],
)
def test_limits_per_architecture_match_the_reference(os_id, arch, glibcxx, cxxabi, gcc, extra):
    limits = runtimes.operating_system(os_id).limits[arch]
    assert (limits.glibcxx, limits.cxxabi, limits.gcc) == (glibcxx, cxxabi, gcc)
    assert limits.extra_tags == frozenset(extra)
    assert limits.sources


def test_al2023_newer_libstdcxx_is_a_warning_band_with_an_override_hint():
    # GIVEN AL2023, whose repo moved to GCC 14 while Lambda's images lagged
    limits = runtimes.get_runtime("provided.al2023").limits_for("x86_64")
    # THEN 3.4.29 is the limit, 3.4.33 only "depends on the image", and the notes say how
    # to override for an image known to be newer
    assert limits.glibcxx == "3.4.29"
    assert limits.warn_upto["glibcxx"] == "3.4.33"
    assert any("--glibcxx 3.4.33" in note for note in limits.notes)


def test_amazon_linux_1_is_x86_64_only():
    al1 = [r for r in runtimes.all_runtimes().values() if r.os == "al1"]
    assert al1, "the reference lists AL1 runtimes"
    assert all(r.architectures == ("x86_64",) for r in al1)
    assert set(runtimes.operating_system("al1").limits) == {"x86_64"}


def test_limits_for_an_arch_the_os_lacks_give_only_the_os_glibc():
    # GIVEN an AL1 runtime asked about arm64 (the architecture check reports the mismatch)
    runtime = runtimes.get_runtime("provided")
    assert not runtime.supports("arm64")
    limits = runtime.limits_for("arm64")
    # THEN glibc is the OS glibc and the rest is "unknown", with a note saying why
    assert limits.glibc == "2.17"
    assert (limits.glibcxx, limits.cxxabi, limits.gcc) == (None, None, None)
    assert limits.notes


def test_a_runtime_with_unknown_os_fails_closed_until_overridden():
    runtime = runtimes.get_runtime("dotnet5.0")
    limits = runtime.limits_for("x86_64")
    assert runtime.glibc is None
    assert limits.glibc == runtimes.UNKNOWN
    assert runtimes.with_overrides(limits, "2.26", None).glibc == "2.26"


# ---------------------------------------------------------------- system libraries


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_loader_soname_and_interpreter_per_architecture(arch):
    info = runtimes.architecture_info(arch)
    assert info.interpreter.endswith("/" + info.loader_soname)
    for os_id in ("al2", "al2023"):
        libs = runtimes.system_libraries(os_id, arch)
        assert libs[info.loader_soname].status == "present"
        other = runtimes.architecture_info(next(a for a in ARCHITECTURES if a != arch))
        assert other.loader_soname not in libs


def test_interpreter_paths_are_glibcs():
    assert runtimes.architecture_info("x86_64").interpreter == "/lib64/ld-linux-x86-64.so.2"
    assert runtimes.architecture_info("aarch64").interpreter == "/lib/ld-linux-aarch64.so.1"
    assert (runtimes.architecture_info("x86_64").e_machine,
            runtimes.architecture_info("arm64").e_machine) == (62, 183)


@pytest.mark.parametrize(
    "soname", ["libpthread.so.0", "libdl.so.2", "librt.so.1", "libutil.so.1", "libanl.so.1"]
)
def test_merged_glibc_libraries_are_stubs_on_al2023_only(soname):
    for arch in ARCHITECTURES:
        al2023 = runtimes.system_libraries("al2023", arch)[soname]
        al2 = runtimes.system_libraries("al2", arch)[soname]
        assert al2023.status == al2.status == "present"
        assert al2023.stub and "libc.so.6" in al2023.note
        assert not al2.stub


def test_libcrypt_is_absent_from_the_al2_lambda_image():
    assert runtimes.system_libraries("al2", "x86_64")["libcrypt.so.1"].status == "absent"


def test_al2_has_openssl_1_0_only_and_al2023_has_openssl_3():
    al2 = runtimes.system_libraries("al2", "x86_64")
    al2023 = runtimes.system_libraries("al2023", "x86_64")
    assert al2["libssl.so.10"].status == "present"
    assert al2["libssl.so.1.1"].status == "absent"
    assert al2["libssl.so.3"].status == "absent"
    assert al2023["libssl.so.3"].status == "present"
    # No source gives OpenSSL's version tags: the database says they are not checked.
    assert al2023["libssl.so.3"].max_versions["openssl"] is None


def test_al2023_libstdcxx_is_present_by_inference_with_a_note():
    lib = runtimes.system_libraries("al2023", "arm64")["libstdc++.so.6"]
    assert (lib.status, lib.evidence) == ("present", "inferred")
    assert set(lib.defines) == {"glibcxx", "cxxabi"}
    assert lib.note


def test_libmvec_exists_only_on_x86_64_before_glibc_2_38():
    for os_id in ("al2", "al2023"):
        assert runtimes.system_libraries(os_id, "x86_64")["libmvec.so.1"].status == "present"
        assert runtimes.system_libraries(os_id, "arm64")["libmvec.so.1"].status == "absent"


def test_zlib_limits_come_with_the_library():
    assert runtimes.system_libraries("al2", "x86_64")["libz.so.1"].max_versions == {
        "zlib": "1.2.5.2"
    }
    assert runtimes.system_libraries("al2023", "arm64")["libz.so.1"].max_versions == {
        "zlib": "1.2.9"
    }


def test_only_the_al2_x86_64_list_is_a_complete_listing():
    assert runtimes.library_list_complete("al2", "x86_64")
    assert not runtimes.library_list_complete("al2", "arm64")
    assert not runtimes.library_list_complete("al2023", "x86_64")
    assert not runtimes.library_list_complete("unknown", "x86_64")


def test_every_library_entry_is_well_formed():
    for os_id in ("al1", "al2", "al2023"):
        for arch in runtimes.operating_system(os_id).limits:
            for soname, lib in runtimes.system_libraries(os_id, arch).items():
                assert lib.soname == soname
                assert lib.status in runtimes.STATUSES
                assert lib.sources
                assert set(lib.defines) <= set(runtimes.FAMILIES)


# ---------------------------------------------------------------- search path


def test_search_path_is_the_base_image_ld_library_path():
    path = runtimes.library_search_path(runtimes.get_runtime("provided.al2023"))
    assert path[0] == "/var/lang/lib"
    assert path.index("/lib64") < path.index("/var/task") < path.index("/opt/lib")
    assert "/var/task/lib" in path
    # Not searched on Lambda (reference §3d)
    assert "/opt/lib64" not in path and "/var/task/lib64" not in path


# ---------------------------------------------------------------- runtimes


def test_dates_parse_and_come_in_policy_order():
    for runtime in runtimes.all_runtimes().values():
        dates = [d for d in (runtime.deprecation, runtime.block_create, runtime.block_update) if d]
        assert all(isinstance(d, date) for d in dates)
        assert dates == sorted(dates), runtime.id


def test_deprecation_follows_the_dates():
    runtime = runtimes.get_runtime("python3.9")  # deprecated 2025-12-15
    assert runtime.deprecation == date(2025, 12, 15)
    assert not runtime.is_deprecated(date(2025, 12, 14))
    assert runtime.is_deprecated(date(2025, 12, 15))
    # A runtime known only by its block-update date is deprecated once that has passed.
    nodejs = runtimes.get_runtime("nodejs8.10")
    assert nodejs.deprecation is None and nodejs.is_deprecated(TODAY)


def test_families_and_bootstrap_flags():
    known = runtimes.all_runtimes()
    assert {r.family for r in known.values()} == {
        "provided", "go", "python", "nodejs", "java", "dotnet", "ruby"
    }
    assert {rid for rid, r in known.items() if r.needs_bootstrap} == {
        "provided.al2023", "provided.al2", "provided"  # go1.x runs the executable its Handler names
    }
    assert {rid for rid, r in known.items() if r.container_only} >= {
        "dotnet5.0", "dotnet7", "dotnet9"
    }


def test_unverified_architectures_say_so():
    for rid in ("python3.13", "python3.14", "nodejs22.x", "nodejs24.x", "java25", "dotnet10",
                "ruby3.4"):
        runtime = runtimes.get_runtime(rid)
        assert runtime.architectures == ("x86_64", "arm64")
        assert any("not verified" in note for note in runtime.notes), rid


def test_newer_runtimes_of_python311_start_with_python312():
    newer = runtimes.newer_runtimes(runtimes.get_runtime("python3.11"), TODAY)
    assert [r.id for r in newer][:3] == ["python3.12", "python3.13", "python3.14"]


def test_newer_runtimes_are_same_family_newer_and_live():
    for runtime in runtimes.all_runtimes().values():
        for newer in runtimes.newer_runtimes(runtime, TODAY):
            assert not newer.is_deprecated(TODAY)
            assert newer.family == runtime.family or newer.id in runtime.migrate_to
            assert newer.id != runtime.id


def test_provided_al2_moves_to_provided_al2023_and_go_to_the_os_only_runtime():
    assert runtimes.newer_runtimes(runtimes.get_runtime("provided.al2"), TODAY)[0].id == (
        "provided.al2023"
    )
    go = [r.id for r in runtimes.newer_runtimes(runtimes.get_runtime("go1.x"), TODAY)]
    assert "provided.al2023" in go


def test_same_language_on_a_newer_os_counts_as_newer():
    newer = [r.id for r in runtimes.newer_runtimes(runtimes.get_runtime("java17"), TODAY)]
    assert newer[0] == "java17.al2023"
    assert newer.index("java17.al2023") < newer.index("java21")


@pytest.mark.parametrize(
    ("typo", "expected"),
    [("provided.al2024", "provided.al2023"), ("python3.1", "python3.12"),
     ("nodejs20", "nodejs20.x"), ("java-21", "java21")],
)
def test_unknown_runtime_error_suggests_close_ids(typo, expected):
    with pytest.raises(UnknownRuntimeError) as caught:
        runtimes.get_runtime(typo)
    message = str(caught.value)
    assert "\n" not in message
    assert typo in message and expected in caught.value.suggestions
    assert isinstance(caught.value, ValueError)


def test_architecture_names_accept_elf_spelling():
    assert runtimes.normalize_architecture("aarch64") == "arm64"
    assert runtimes.normalize_architecture("amd64") == "x86_64"
    assert runtimes.get_runtime("provided.al2023").supports("aarch64")
    with pytest.raises(UnknownArchitectureError):
        runtimes.normalize_architecture("riscv64")


def test_runtime_json_has_every_field_with_iso_dates():
    runtime = runtimes.get_runtime("nodejs20.x")
    data = json.loads(json.dumps(runtime.to_json()))
    assert data["id"] == "nodejs20.x" and data["os"] == "al2023" and data["glibc"] == "2.34"
    assert data["deprecation"] == runtime.deprecation.isoformat()
    assert data["block_create"] == runtime.block_create.isoformat()
    assert set(data["limits"]) == set(runtime.architectures)
    assert data["limits"]["arm64"]["gcc"] == runtime.limits_for("arm64").gcc
    assert data["sources"] == list(runtime.sources)


# ---------------------------------------------------------------- overrides


def test_overrides_replace_limits_and_drop_the_glibcxx_warning_band():
    base = runtimes.get_runtime("provided.al2023").limits_for("x86_64")
    overridden = runtimes.with_overrides(base, None, "3.4.33")
    assert overridden.glibcxx == "3.4.33" and overridden.glibc == base.glibc
    assert "glibcxx" not in overridden.warn_upto
    assert runtimes.with_overrides(base, None, None) is base
    with pytest.raises(ValueError, match="--glibc"):
        runtimes.with_overrides(base, "two.thirty", None)


# ---------------------------------------------------------------- runner images, SAM


def test_runner_images_and_their_glibc():
    images = runtimes.runner_images()
    assert images["ubuntu-22.04"].glibc == "2.35"
    assert images["ubuntu-22.04"].deprecated == date(2026, 9, 17)
    assert images["ubuntu-22.04"].unsupported == date(2027, 4, 17)
    assert images["ubuntu-24.04"].glibc == "2.39"
    assert images["ubuntu-latest"].alias_of == "ubuntu-24.04"
    assert images["ubuntu-22.04"].is_supported(TODAY)
    assert not images["ubuntu-22.04"].is_supported(date(2027, 4, 17))


def test_runner_images_hide_retired_and_unverified_labels_by_default():
    default = runtimes.runner_images()
    everything = runtimes.runner_images(include_unusable=True)
    assert "ubuntu-20.04" not in default and everything["ubuntu-20.04"].status == "retired"
    assert "ubuntu-26.04" not in default and everything["ubuntu-26.04"].glibc is None
    assert all(image.glibc for image in default.values())


def test_sam_python_builder_policy():
    assert runtimes.sam_python_policy("python3.12").manylinux == "manylinux_2_34"
    assert runtimes.sam_python_policy("python3.11").glibc == "2.26"
    assert runtimes.sam_python_policy("python3.7").glibc == "2.17"
    assert runtimes.sam_python_policy("nodejs20.x") is None
    # The builder's glibc per runtime agrees with the database's OS glibc.
    for rid in ("python3.8", "python3.11", "python3.12", "python3.14"):
        assert runtimes.sam_python_policy(rid).glibc == runtimes.get_runtime(rid).glibc
