"""checks.symbol_versions: every non-weak version need defined by the object that satisfied it.

The needs are the fixtures' own (readelf-checked); GLIBC_PRIVATE and a damaged vna_hash, which no
fixture carries, are one VersionNeed changed on a real ElfInfo."""

from __future__ import annotations

import dataclasses

from built import context, elf, resolved, target

from lambda_glibc_gate.checks.symbol_versions import (
    BUNDLED_LACKS,
    HASH_MISMATCH,
    check_versions,
    failing_needs,
    newer_runtime_accepting,
)
from lambda_glibc_gate.elf import VersionNeed


def judged(info, runtime_id: str = "provided.al2023", member: str = "bootstrap", bundled=None, **options):
    on = target(runtime_id, **options)
    return check_versions(member, info, resolved(info, on, member, bundled), on, context(on, member, info))


# -- glibc-too-new -------------------------------------------------------------------------------
def test_a_glibc_2_38_binary_on_al2023_names_the_symbols_and_the_way_out():
    (finding,) = judged(elf("strlcpy_strtol-glibc2.38-x86_64"))
    assert finding.rule == "glibc-too-new" and finding.severity == "error"
    assert finding.message == (
        "bootstrap needs glibc 2.38, but provided.al2023 has glibc 2.34: GLIBC_2.38 (`strlcpy`, `__isoc23_strtol`)"
    )
    assert (finding.required, finding.available) == ("2.38", "2.34")
    assert finding.symbols == ("strlcpy@GLIBC_2.38", "__isoc23_strtol@GLIBC_2.38")
    assert finding.details == {"versions": ["GLIBC_2.38"], "library": "libc.so.6"}
    # glibc 2.34 has no strlcpy at any version: no relink against it can work
    assert [fix.title.split(":")[0] for fix in finding.fixes] == [
        "Link glibc statically",
        "Or link musl statically with zig (the calls must exist in musl)",
        "Or replace the calls glibc 2.34 lacks",
    ]


def test_a_need_al2_lacks_and_al2023_has_offers_provided_al2023():
    (finding,) = judged(elf("hello-glibc2.34-x86_64"), "provided.al2")
    assert finding.message.startswith("bootstrap needs glibc 2.34, but provided.al2 has glibc 2.26: ")
    assert finding.details["newer_runtime"] == "provided.al2023"
    assert finding.fixes[-1].code == "Runtime: provided.al2023"


def test_the_glibc_override_is_said():
    (finding,) = judged(elf("strlcpy_strtol-glibc2.38-x86_64"), glibc="2.35")
    assert "provided.al2023 (--glibc override) has glibc 2.35" in finding.message


def test_a_symbol_less_abi_tag_is_explained():
    (finding,) = judged(elf("relr-glibc2.38-x86_64"))
    assert finding.required == "2.36"
    assert finding.message.endswith(
        "GLIBC_ABI_DT_RELR (packed relative relocations from linking with -z pack-relative-relocs)"
    )


def test_a_weak_symbol_with_a_strong_version_need_still_fails():
    (finding,) = judged(elf("weak_symbol_strlcpy-glibc2.38-x86_64"))
    assert finding.rule == "glibc-too-new"
    assert finding.message.endswith(
        ". `strlcpy` is a weak symbol, but the version need (GLIBC_2.38) is not weak: "
        "ld.so checks it at load all the same"
    )


# -- weak-version --------------------------------------------------------------------------------
def test_a_weak_version_need_is_a_note():
    (finding,) = judged(elf("weak_version_need-glibc2.38-x86_64"))
    assert (finding.rule, finding.severity) == ("weak-version", "note")
    assert finding.message == (
        "bootstrap has weak version needs above glibc 2.34 (GLIBC_2.38): ld.so loads it anyway; "
        "the symbols are null at run time, which the program checks"
    )
    assert finding.symbols == ("strlcpy@GLIBC_2.38",)


# -- libstdcxx-too-new ---------------------------------------------------------------------------
def test_glibcxx_3_4_30_on_al2023_explains_the_lagging_images():
    (finding,) = judged(elf("cxx_condvar-glibcxx3.4.30-x86_64"))
    assert finding.rule == "libstdcxx-too-new" and finding.severity == "error"
    assert finding.message.startswith(
        "bootstrap needs GLIBCXX_3.4.30 (`std::condition_variable::wait(std::unique_lock<std::mutex>&)` "
        "(`_ZNSt18condition…`)), "
        "but provided.al2023 has GLIBCXX_3.4.29, CXXABI_1.3.13, GCC_7.0.0. Amazon Linux 2023's repository"
    )
    assert finding.message.endswith("pass --glibcxx 3.4.33")
    assert (finding.required, finding.available) == ("GLIBCXX_3.4.30", "GLIBCXX_3.4.29")
    assert len(finding.fixes) == 3


def test_an_image_known_to_be_newer_passes_with_the_override():
    assert judged(elf("cxx_condvar-glibcxx3.4.30-x86_64"), glibcxx="3.4.33") == []


# -- glibc-private -------------------------------------------------------------------------------
def test_glibc_private_symbols_are_an_error_whatever_the_runtime():
    # GIVEN a real library's facts plus the GLIBC_PRIVATE need a copied libpthread.so.0 carries
    info = elf("hello-glibc2.34-x86_64")
    private = VersionNeed("libc.so.6", "GLIBC_PRIVATE", False, ("__libc_dlopen_mode",), 1)
    (finding,) = judged(dataclasses.replace(info, version_needs=(*info.version_needs, private)), member="lib/x.so")
    assert finding.rule == "glibc-private" and finding.severity == "error"
    assert finding.message == (
        "lib/x.so uses glibc's internal GLIBC_PRIVATE symbols, which only the exact glibc build it was linked "
        "against provides: it breaks on any other glibc: GLIBC_PRIVATE (`__libc_dlopen_mode`)"
    )
    assert finding.required == "GLIBC_PRIVATE" and finding.fixes == ()


# -- missing-symbol-version ----------------------------------------------------------------------
def test_a_bundled_library_that_lacks_the_version_fails():
    # GIVEN libssl.so.1.1 bundled in lib/, but it is another library (libfoo) defining no OPENSSL_1_1_0
    info = elf("needs_libssl1.1-x86_64")
    (finding,) = judged(info, bundled={"lib/libssl.so.1.1": "lib/libfoo.so"})
    assert finding.rule == "missing-symbol-version" and finding.severity == "error"
    assert finding.message == (
        "bootstrap needs OPENSSL_1_1_0 from libssl.so.1.1, which the loaded library does not define "
        f"(/var/task/lib/libssl.so.1.1 {BUNDLED_LACKS}): ld.so fails with `version … not found`: "
        "OPENSSL_1_1_0 (`OPENSSL_init_ssl`)"
    )
    assert finding.required == "OPENSSL_1_1_0"
    on = target()
    failing = failing_needs(info, resolved(info, on, bundled={"lib/libssl.so.1.1": "lib/libfoo.so"}), on)
    assert newer_runtime_accepting(failing, on) is None  # the bundled library decides, not the runtime


def test_a_need_whose_vna_hash_is_wrong_is_never_matched():
    info = elf("hello-glibc2.34-x86_64")
    damaged = tuple(dataclasses.replace(n, hash_matches=n.version != "GLIBC_2.34") for n in info.version_needs)
    (finding,) = judged(dataclasses.replace(info, version_needs=damaged))
    assert finding.rule == "missing-symbol-version"
    assert f"({HASH_MISMATCH})" in finding.message and finding.required == "GLIBC_2.34"


def test_needs_the_runtime_meets_pass():
    assert judged(elf("close_range-glibc2.34-x86_64")) == []
    assert judged(elf("reallocarray-glibc2.26-x86_64"), "provided.al2") == []
    assert judged(elf("needs_libssl3-x86_64")) == []  # OPENSSL_ tags are not in the database: not judged
