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


def test_al2023_glibcxx_above_3_4_29_is_an_error_with_an_override_hint():
    # GIVEN AL2023, whose minimal container moved to GCC 14 while Lambda's images lagged
    limits = runtimes.get_runtime("provided.al2023").limits_for("x86_64")
    # THEN 3.4.29 is the limit, there is no "warning band" above it, and the notes say it is an
    # error and how to override it for an image known to be newer
    assert limits.glibcxx == "3.4.29"
    assert not hasattr(limits, "warn_upto")
    assert any("is an error" in note and "--glibcxx 3.4.33" in note for note in limits.notes)


def test_a_warn_upto_field_is_refused_because_no_code_reads_it(raw):
    broken = copy.deepcopy(raw)
    broken["operating_systems"]["al2023"]["architectures"]["x86_64"]["limits"]["warn_upto"] = {
        "glibcxx": "3.4.33"
    }
    with pytest.raises(RuntimeDataError, match="warn_upto"):
        runtimes.parse_database(broken)


def test_a_parsed_runtime_answers_from_its_own_database(raw):
    # GIVEN a copy of the database whose AL2023 has glibc 2.99
    changed = copy.deepcopy(raw)
    al2023 = changed["operating_systems"]["al2023"]
    al2023["glibc"] = "2.99"
    for arch_entry in al2023["architectures"].values():
        arch_entry["limits"]["glibc"] = "2.99"
    database = runtimes.parse_database(changed)
    runtime = database.runtimes["provided.al2023"]
    # THEN its runtimes say 2.99 (not the packaged database's 2.34), in every query
    assert runtime.glibc == "2.99"
    assert runtime.to_json()["glibc"] == "2.99"
    assert runtime.limits_for("x86_64").glibc == "2.99"
    assert runtime.operating_system is database.operating_systems["al2023"]
    assert runtimes.get_runtime("provided.al2023").glibc == "2.34"


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


def test_al2023_libstdcxx_is_present_from_the_minimal_container_package_list():
    for arch in ARCHITECTURES:
        lib = runtimes.system_libraries("al2023", arch)["libstdc++.so.6"]
        assert (lib.status, lib.evidence) == ("present", "derived")
        assert "rn250929" in lib.sources  # the minimal container's libstdc++ package
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


def test_complete_listings_are_al2_x86_64_and_al2023_and_name_their_package_list():
    assert runtimes.library_list_complete("al2", "x86_64")
    assert not runtimes.library_list_complete("al2", "arm64")
    assert not runtimes.library_list_complete("al1", "x86_64")
    assert not runtimes.library_list_complete("unknown", "x86_64")
    for arch in ARCHITECTURES:
        assert runtimes.library_list_complete("al2023", arch)
        # the image package lists: python3.12 and nodejs20.x rpm listings, minimal-container notes
        keys = runtimes.library_list_sources("al2023", arch)
        assert {"al585", "bi173"} <= set(keys)
        assert all(runtimes.source_url(key).startswith("https://") for key in keys)
    assert runtimes.library_list_sources("al2", "x86_64") == ("lambci2",)
    assert runtimes.library_list_sources("al2", "arm64") == ()


def test_a_complete_list_without_its_package_list_source_is_refused(raw):
    broken = copy.deepcopy(raw)
    del broken["operating_systems"]["al2023"]["architectures"]["x86_64"]["library_list_source"]
    with pytest.raises(RuntimeDataError, match="library_list_source"):
        runtimes.parse_database(broken)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_al2023_image_sonames_from_the_package_list(arch):
    libs = runtimes.system_libraries("al2023", arch)
    # the libraries a Lambda bootstrap usually links against are there
    for soname in ("libssl.so.3", "libcrypto.so.3", "libz.so.1", "libstdc++.so.6", "libgcc_s.so.1",
                   "libcurl.so.4", "libffi.so.8", "libxml2.so.2", "libzstd.so.1", "libbz2.so.1",
                   "libglib-2.0.so.0", "libkrb5.so.3", "libselinux.so.1"):
        assert libs[soname].status == "present", soname
    # packages inside the listed range that the listings do not have are absent, with a reason
    for soname in ("libpq.so.5", "libexpat.so.1", "libgomp.so.1", "libatomic.so.1"):
        assert libs[soname].status == "absent", soname
        assert libs[soname].note
    # a soname no package gives is not listed at all: the complete list makes it absent
    assert "libnotthere.so.1" not in libs
    # what no source settles stays unknown: libnsl (glibc compat), libcrypt (libxcrypt),
    # and the libraries of packages sorting after the part of the listings that was read
    for soname in ("libnsl.so.1", "libcrypt.so.1", "libpcre2-8.so.0", "libsqlite3.so.0", "liblzma.so.5"):
        assert libs[soname].status == "unknown", soname


def test_every_al2023_library_comes_from_glibc_or_the_image_package_list():
    image_lists = {"al585", "bi173", "rn231030", "rn240805", "rn241010", "rn250303", "rn250929", "cpp210"}
    for arch in ARCHITECTURES:
        for soname, lib in runtimes.system_libraries("al2023", arch).items():
            if lib.status == "unknown" or "glibc" in lib.defines:
                continue
            assert image_lists & set(lib.sources), soname
            assert lib.evidence in ("observed", "derived", "inferred"), soname


def test_the_generated_al2023_block_is_up_to_date():
    import importlib.util
    from pathlib import Path

    tool = Path(__file__).resolve().parent.parent / "tools" / "al2023_image_libraries.py"
    spec = importlib.util.spec_from_file_location("al2023_image_libraries", tool)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.RUNTIMES_YAML.read_text("utf-8")
    assert module.rewrite(text) == text, "run python tools/al2023_image_libraries.py --write"


# ---------------------------------------------------------------- interpreters


def test_al2023_interpreters_for_script_bootstraps():
    found = runtimes.interpreters("al2023")
    for path in ("/bin/sh", "/bin/bash", "/usr/bin/env"):
        assert found[path] == "present", path
    # no source: not listed, which callers read as unknown
    assert "/usr/bin/python3" not in found
    assert runtimes.interpreters("unknown") == {}


def test_a_managed_runtime_adds_its_own_interpreters():
    assert runtimes.interpreters("al2023", "nodejs22.x")["/var/lang/bin/node"] == "present"
    assert "/var/lang/bin/node" not in runtimes.interpreters("al2023", "provided.al2023")
    assert runtimes.interpreters("al2023", "nodejs22.x")["/bin/sh"] == "present"


def test_every_interpreter_is_sourced_and_well_formed():
    for os_id in ("al1", "al2", "al2023"):
        entries = runtimes.interpreter_entries(os_id)
        assert entries, os_id
        for path, entry in entries.items():
            assert path.startswith("/") and entry.path == path
            assert entry.status in runtimes.STATUSES
            assert entry.sources and entry.note


def test_a_relative_interpreter_path_is_refused(raw):
    broken = copy.deepcopy(raw)
    broken["operating_systems"]["al2023"]["interpreters"].append(
        {"path": "bin/sh", "status": "present", "source": ["al585"]}
    )
    with pytest.raises(RuntimeDataError, match="absolute"):
        runtimes.parse_database(broken)


# ---------------------------------------------------------------- the gate on real zips


def _scan_bootstrap(make_zip, fixture, runtime="provided.al2023"):
    from helpers import elf_fixture

    from lambda_glibc_gate.scan import ScanOptions, scan

    package = make_zip({"bootstrap": elf_fixture(fixture)})
    report = scan([package], ScanOptions(runtime=runtime, today=TODAY))
    return [f for f in report.all_findings() if f.rule == "missing-library"], report


@pytest.mark.parametrize(
    ("fixture", "soname"),
    [("needs_libnotthere-x86_64", "libnotthere.so.1"), ("needs_libpq5-x86_64", "libpq.so.5")],
)
def test_a_library_no_al2023_image_has_is_an_error(make_zip, fixture, soname):
    # GIVEN a bootstrap needing a library neither the package nor Amazon Linux 2023 has
    findings, report = _scan_bootstrap(make_zip, fixture)
    # THEN provided.al2023 fails it: on Lambda it dies at cold start
    (finding,) = findings
    assert (finding.severity, finding.required) == ("error", soname)
    assert report.verdict == "fail"
    assert "not in the package, its layers or Amazon Linux 2023 (provided.al2023)" in finding.message
    if soname == "libnotthere.so.1":
        # no entry of its own: the message names the image package list that makes it absent
        assert "the image's package list" in finding.message
        assert "https://github.com/amazonlinux/amazon-linux-2023/issues/585" in finding.message
        assert finding.details["database_sources"]
    else:
        assert "PostgreSQL" in finding.message


def test_a_managed_al2023_runtime_fails_the_same_library(make_zip):
    findings, _ = _scan_bootstrap(make_zip, "needs_libnotthere-x86_64", runtime="python3.12")
    assert [f.severity for f in findings] == ["error"]


def test_libraries_in_the_al2023_image_pass(make_zip):
    # GIVEN a bootstrap needing libssl.so.3, libz.so.1 and libstdc++.so.6
    findings, report = _scan_bootstrap(make_zip, "needs_al2023_libs-x86_64")
    # THEN nothing is missing and it passes
    assert findings == []
    assert report.verdict == "pass", [f.message for f in report.all_findings()]


def test_libpq_is_an_error_on_provided_al2_too(make_zip):
    # AL2's x86_64 soname list is complete as well: an unlisted soname is absent there too
    findings, _ = _scan_bootstrap(make_zip, "needs_libpq5-x86_64", runtime="provided.al2")
    assert [f.severity for f in findings] == ["error"]


def test_a_library_the_database_marks_unknown_is_only_a_warning():
    # GIVEN provided.al2023 (complete list) and a need the database lists as unknown
    from lambda_glibc_gate import checks
    from lambda_glibc_gate.resolve import Resolution

    runtime = runtimes.get_runtime("provided.al2023")
    target = checks.Target(runtime, "x86_64", runtime.limits_for("x86_64"), library_list_complete=True)
    library = runtimes.system_libraries("al2023", "x86_64")["libnsl.so.1"]
    resolution = Resolution("libnsl.so.1", "system", "/lib64/libnsl.so.1", library=library)
    # THEN the finding is a warning that says why the database cannot tell
    (finding,) = checks.check_libraries("bootstrap", [resolution], target)
    assert (finding.rule, finding.severity) == ("missing-library", "warning")
    assert library.note in finding.message


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


def test_overrides_replace_limits_and_say_so():
    base = runtimes.get_runtime("provided.al2023").limits_for("x86_64")
    overridden = runtimes.with_overrides(base, None, "3.4.33")
    assert overridden.glibcxx == "3.4.33" and overridden.glibc == base.glibc
    assert any("GLIBCXX limit overridden to 3.4.33" in note for note in overridden.notes)
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
