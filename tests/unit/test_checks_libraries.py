"""checks.libraries: every DT_NEEDED must be found, as the real resolver finds it on the target."""

from __future__ import annotations

from built import context, elf, resolved, target

from lambda_glibc_gate.checks.libraries import check_libraries, is_musl_soname
from lambda_glibc_gate.packages import PackageInfo

SEARCHED = "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"


def judged(fixture: str, runtime_id: str = "provided.al2023", member: str = "bootstrap", **context_fields):
    info = elf(fixture)
    on = target(runtime_id)
    ctx = context(on, member, info, **context_fields)
    return check_libraries(member, list(resolved(info, on, member).values()), on, ctx)


def test_a_library_no_image_has_is_an_error_with_the_package_list_as_evidence():
    # GIVEN provided.al2023, whose image package list the database holds completely
    (finding,) = judged("needs_libnotthere-x86_64")
    assert finding.rule == "missing-library" and finding.severity == "error"
    assert finding.required == "libnotthere.so.1"
    assert finding.message.startswith(
        "bootstrap needs libnotthere.so.1, which is not in the package, its layers or Amazon Linux 2023 "
        "(provided.al2023) — not in the image's package list ("
    )
    assert finding.message.endswith(
        "`error while loading shared libraries: libnotthere.so.1: cannot open shared object file`"
    )
    assert finding.details["searched"] == SEARCHED.split(":")
    assert finding.details["database_sources"]
    (bundle,) = finding.fixes
    assert bundle.code == f"mkdir -p lib && cp /path/to/libnotthere.so.1 lib/   # searched: {SEARCHED}"


def test_a_library_the_database_knows_is_absent_says_why():
    (finding,) = judged("needs_libpq5-x86_64")
    assert "— PostgreSQL's client library" in finding.message
    assert "database_sources" not in finding.details


def test_a_library_a_newer_runtime_has_offers_that_runtime_first():
    # GIVEN libssl.so.3 on provided.al2 (OpenSSL 1.0.2 only); provided.al2023 has it
    (finding,) = judged("needs_libssl3-x86_64", "provided.al2")
    assert finding.details["newer_runtime"] == "provided.al2023"
    move, bundle = finding.fixes
    assert move.title == "Or move the function to provided.al2023 (supported until 2029-06-30), whose OS has it"
    assert move.code == "Runtime: provided.al2023"
    assert bundle.code == f"mkdir -p lib && cp /path/to/libssl.so.3 lib/   # searched: {SEARCHED}"


def test_libraries_the_image_has_pass():
    assert judged("needs_libssl3-x86_64") == []
    assert judged("needs_al2023_libs-x86_64") == []


def test_an_image_the_database_cannot_list_fully_gives_a_warning():
    # GIVEN provided (Amazon Linux 1), whose library list is not complete
    (finding,) = judged("needs_libnotthere-x86_64", "provided")
    assert finding.rule == "missing-library" and finding.severity == "warning"
    assert finding.details["database"] == "unknown"
    assert "the database cannot tell whether provided has it" in finding.message
    assert finding.fixes == ()


def test_musl_s_libc_is_never_there_and_the_fix_is_a_glibc_build():
    (finding,) = judged("musl_dynamic-x86_64")
    assert finding.rule == "missing-library" and finding.details["libc"] == "musl"
    assert finding.message.startswith("bootstrap was built against musl (libc.so: ")
    assert [fix.code for fix in finding.fixes] == [
        "pip install ziglang\n"
        'export CC="python -m ziglang cc -target x86_64-linux-gnu.2.34"\n'
        'export CXX="python -m ziglang c++ -target x86_64-linux-gnu.2.34"\n'
        "# then rebuild from clean: make, cmake (new build folder), ./configure and cargo's cc crate read CC/CXX",
        "container: amazonlinux:2023.6.20250317.2",
    ]


def test_a_musl_prebuilt_of_an_npm_package_is_replaced_by_the_package_s_glibc_build():
    sharp = PackageInfo("npm", "@img/sharp", "0.33.5", (), "node_modules/@img/sharp")
    member = "node_modules/@img/sharp/build/sharp.node"
    (finding,) = judged("napi_addon-linux-x64-musl.node", "nodejs22.x", member, package=sharp)
    assert finding.details["libc"] == "musl"
    assert finding.fixes[0].code == "npm install --os=linux --cpu=x64 --libc=glibc @img/sharp"


def test_musl_sonames():
    assert is_musl_soname("libc.so") and is_musl_soname("libc.musl-x86_64.so.1")
    assert is_musl_soname("ld-musl-aarch64.so.1")
    assert not is_musl_soname("libc.so.6")
