"""advice: every function that makes a Fix, and the exact command it prints: complete (no `…`,
no guessed placeholder but the one bootstrap_fix names), values from the Target, quoted for the shell.

tests/test_advice.py runs these commands (pip, zig, cc) end to end; here each is pinned as text."""

from __future__ import annotations

import pytest
from built import context, elf, target

from lambda_glibc_gate import advice, runtimes
from lambda_glibc_gate.packages import PackageInfo


def zig_env(triple: str) -> str:
    return (
        "pip install ziglang\n"
        f'export CC="python -m ziglang cc -target {triple}"\n'
        f'export CXX="python -m ziglang c++ -target {triple}"\n'
        "# then rebuild from clean: make, cmake (new build folder), ./configure and cargo's cc crate read CC/CXX"
    )


def manylinux(top: int, arch: str, lowest: int = 17) -> str:
    """pip's --platform lines from manylinux_2_<top> down, three a line (the legacy names included)."""
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    tags = []
    for minor in range(top, lowest - 1, -1):
        tags.append(f"manylinux_2_{minor}_{arch}")
        if minor in legacy:
            tags.append(f"{legacy[minor]}_{arch}")
    return " \\\n".join("  " + " ".join(f"--platform {t}" for t in tags[i : i + 3]) for i in range(0, len(tags), 3))


def codes(fixes) -> list[str]:
    for fix in fixes:
        assert "…" not in fix.code and fix.title and fix.code.strip() == fix.code
    return [fix.code for fix in fixes]


def failing(fixture: str, version: str = "GLIBC_2.38"):
    return [need for need in elf(fixture).version_needs if need.version == version]


RUNS_ON_22_04 = (
    "runs-on: ubuntu-22.04  # glibc 2.35: it binds these symbols at versions <= 2.34; "
    "GitHub deprecated this image on 2026-09-17 and drops it on 2027-04-17"
)


# -- glibc_fixes: per toolchain, from the failing symbols ---------------------------------------
def test_c_relinks_against_the_runtime_glibc_and_an_older_runner_fits():
    # GIVEN __isoc23_strtol@GLIBC_2.38: glibc 2.34 and 2.35 bind strtol at 2.2.5
    on = target()
    fixes = advice.glibc_fixes(
        context(on, "bootstrap"), "2.38", None, list(on.runners), failing("strtol-glibc2.39-x86_64")
    )
    assert codes(fixes) == [zig_env("x86_64-linux-gnu.2.34"), "container: amazonlinux:2023.6.20250317.2", RUNS_ON_22_04]
    assert [fix.language for fix in fixes] == ["shell", "yaml", "yaml"]


def test_c_that_calls_what_the_runtime_glibc_lacks_links_statically_or_replaces_the_calls():
    on = target()
    fixes = advice.glibc_fixes(
        context(on, "bootstrap"), "2.38", None, list(on.runners), failing("strlcpy_strtol-glibc2.38-x86_64")
    )
    assert codes(fixes) == [
        'export CC="cc -static" CXX="c++ -static"\n'
        "# then rebuild from clean; getaddrinfo, dlopen and iconv still want the build host's glibc",
        zig_env("x86_64-linux-musl"),
        "grep -rnwE strlcpy --include='*.c' --include='*.h' --include='*.cc' --include='*.cpp' --include='*.hpp' .",
    ]
    assert fixes[2].title == "Or replace the calls glibc 2.34 lacks: strlcpy (glibc 2.38); they are here"


def test_rust_relinks_with_cargo_lambda_and_zigbuild():
    on = target()
    ctx = context(on, "bootstrap", toolchain="rust", artifact_kind="zip")
    fixes = advice.glibc_fixes(ctx, "2.38", None, list(on.runners), failing("strtol-glibc2.39-x86_64"))
    assert codes(fixes) == [
        "cargo lambda build --release --target x86_64-unknown-linux-gnu.2.34 --output-format zip",
        "cargo zigbuild --release --target x86_64-unknown-linux-gnu.2.34",
        "rustup target add x86_64-unknown-linux-musl\n"
        "cargo lambda build --release --target x86_64-unknown-linux-musl --output-format zip",
        '[target.x86_64-unknown-linux-gnu]\nrustflags = ["-C", "target-feature=+crt-static"]',
        RUNS_ON_22_04,
    ]
    assert fixes[3].language == "toml"


def test_rust_keeps_the_user_s_own_build_line_with_the_target_replaced():
    on = target(
        build_command="cargo lambda build --release --arm64 --target x86_64-unknown-linux-gnu --output-format zip"
    )
    fixes = advice.glibc_fixes(
        context(on, "bootstrap", toolchain="rust"), "2.38", None, [], failing("strtol-glibc2.39-x86_64")
    )
    assert codes(fixes)[0] == "cargo lambda build --release --output-format zip --target x86_64-unknown-linux-gnu.2.34"


def test_rust_that_calls_what_the_runtime_glibc_lacks_links_statically():
    on = target()
    fixes = advice.glibc_fixes(
        context(on, "bootstrap", toolchain="rust"),
        "2.38",
        None,
        list(on.runners),
        failing("strlcpy_strtol-glibc2.38-x86_64"),
    )
    assert codes(fixes) == [
        "rustup target add x86_64-unknown-linux-musl\ncargo lambda build --release --target x86_64-unknown-linux-musl",
        '[target.x86_64-unknown-linux-gnu]\nrustflags = ["-C", "target-feature=+crt-static"]',
        "grep -rnwE strlcpy --include='*.rs' --include='*.c' --include='*.h' . ~/.cargo/registry/src",
    ]


@pytest.mark.parametrize(
    ("fixture", "relink"), [("strtol-glibc2.39-x86_64", True), ("strlcpy_strtol-glibc2.38-x86_64", False)]
)
def test_go_builds_without_cgo_or_links_cgo_against_the_runtime_glibc(fixture, relink):
    on = target()
    fixes = advice.glibc_fixes(context(on, "bootstrap", toolchain="go"), "2.38", None, [], failing(fixture))
    no_cgo = "CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -tags lambda.norpc -o bootstrap ."
    zig_cgo = (
        'pip install ziglang\nCGO_ENABLED=1 CC="python -m ziglang cc -target x86_64-linux-gnu.2.34" '
        "GOOS=linux GOARCH=amd64 \\\n  go build -tags lambda.norpc -o bootstrap ."
    )
    assert codes(fixes) == ([no_cgo, zig_cgo] if relink else [no_cgo])


def test_a_wheel_is_reinstalled_into_the_folder_it_was_installed_in():
    on = target("python3.12")
    numpy = PackageInfo("pypi", "numpy", "2.1.0", (), "numpy-2.1.0.dist-info")
    ctx = context(
        on,
        "numpy/_core/x.so",
        toolchain="python-extension",
        package=numpy,
        artifact_kind="directory",
        artifact_path="build/my package",
    )
    (fix,) = advice.glibc_fixes(ctx, "2.38", None, list(on.runners), failing("strtol-glibc2.39-x86_64"))
    assert fix.title == "Reinstall numpy's wheel for glibc 2.34 or older (python3.12)"
    assert codes([fix]) == [
        "pip install --upgrade --only-binary=:all: --implementation cp --python-version 3.12 "
        "--target 'build/my package/' -r requirements.txt \\\n" + manylinux(34, "x86_64")
    ]


def test_a_wheel_in_a_zip_goes_back_to_its_layer_folder():
    on = target("python3.12")
    numpy = PackageInfo("pypi", "numpy", "2.1.0", (), "python/numpy-2.1.0.dist-info")
    ctx = context(on, "python/numpy/x.so", toolchain="python-extension", package=numpy, artifact_kind="zip")
    (fix,) = advice.glibc_fixes(ctx, "2.38", None, [], ())
    assert "--target python/ -r requirements.txt" in fix.code


def test_an_npm_addon_installs_the_prebuilt_for_lambda():
    on = target("nodejs22.x", "arm64")
    fixes = advice.glibc_fixes(context(on, "x.node", toolchain="node-addon"), "2.38", None, list(on.runners), ())
    assert codes(fixes) == ["npm install --os=linux --cpu=arm64 --libc=glibc"]


def test_a_newer_runtime_comes_last():
    on = target("provided.al2")
    fixes = advice.glibc_fixes(context(on, "bootstrap"), "2.34", runtimes.get_runtime("provided.al2023"), [], ())
    assert codes(fixes) == [zig_env("x86_64-linux-gnu.2.26"), "container: amazonlinux:2", "Runtime: provided.al2023"]


# -- pip_fix -------------------------------------------------------------------------------------
def test_pip_names_every_manylinux_tag_up_to_the_runtime_glibc():
    fix = advice.pip_fix("3.12", "2.34", "x86_64")
    assert fix.title == "Install the wheels built for glibc 2.34 or older"
    assert codes([fix]) == [
        "pip install --upgrade --only-binary=:all: --implementation cp --python-version 3.12 "
        "--target package/ -r requirements.txt \\\n" + manylinux(34, "x86_64")
    ]


def test_pip_without_a_python_quotes_its_folder():
    fix = advice.pip_fix(None, "2.26", "arm64", "my dir/", "Install arm64 wheels")
    assert codes([fix]) == [
        "pip install --upgrade --only-binary=:all: --implementation cp --target 'my dir/' -r requirements.txt \\\n"
        + manylinux(26, "aarch64")
    ]


def test_pip_below_manylinux2014_goes_down_to_manylinux1():
    fix = advice.pip_fix("3.9", "2.12", "x86_64")
    assert fix.code.endswith(manylinux(12, "x86_64", lowest=5))
    assert fix.code.endswith("--platform manylinux_2_5_x86_64 \\\n  --platform manylinux1_x86_64")


# -- the runtime, the bootstrap, the execute bit ------------------------------------------------
def test_runtime_fix():
    fix = advice.runtime_fix(runtimes.get_runtime("python3.13"), "whose OS has it")
    assert fix.title == "Or move the function to python3.13 (supported until 2029-06-30), whose OS has it"
    assert (fix.code, fix.language) == ("Runtime: python3.13", "yaml")
    assert advice.runtime_fix(runtimes.get_runtime("provided.al2023"), first=True).title.startswith("Move the function")


def test_bootstrap_fix_zips_from_the_folder_it_was_found_in():
    assert codes([advice.bootstrap_fix("target/lambda/my fn/bootstrap")]) == [
        "cd 'target/lambda/my fn' && zip -j ../function.zip bootstrap"
    ]
    fix = advice.bootstrap_fix(None)
    assert fix.code == "cp target/release/<your-binary> bootstrap && zip function.zip bootstrap"
    assert "<your-binary>: your executable" in fix.title  # the one placeholder, named in the title


def test_exec_bit_fix():
    assert codes([advice.exec_bit_fix()]) == ["chmod 755 bootstrap && zip function.zip bootstrap"]


# -- arch_fixes, musl_fixes ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("toolchain", "build"),
    [
        ("rust", "cargo lambda build --release --target aarch64-unknown-linux-gnu.2.34"),
        ("go", "GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -o bootstrap ."),
        ("node-addon", "npm install --os=linux --cpu=arm64 --libc=glibc"),
        (
            "python-extension",
            "pip install --upgrade --only-binary=:all: --implementation cp --target package/ -r requirements.txt \\\n"
            + manylinux(34, "aarch64"),
        ),
        ("c", zig_env("aarch64-linux-gnu.2.34")),
    ],
)
def test_arch_fixes_build_for_the_function_or_move_the_function(toolchain, build):
    fixes = advice.arch_fixes(toolchain, "x86_64", "arm64", "2.34")
    assert codes(fixes) == [build, "Architectures: [x86_64]"]


def test_a_binary_for_no_lambda_architecture_is_only_rebuilt():
    assert codes(advice.arch_fixes("c", "s390x", "x86_64", "2.26")) == [zig_env("x86_64-linux-gnu.2.26")]


def test_musl_fixes():
    assert codes(advice.musl_fixes("rust", "arm64", "2.26")) == [
        "cargo lambda build --release --target aarch64-unknown-linux-gnu.2.26"
    ]
    assert codes(advice.musl_fixes("rust", "x86_64")) == [
        "cargo lambda build --release --target x86_64-unknown-linux-gnu"
    ]
    assert codes(advice.musl_fixes("c", "arm64")) == [zig_env("aarch64-linux-musl")]


# -- libstdcxx_fixes -----------------------------------------------------------------------------
def test_a_cxx_binary_compiles_with_zig_or_links_libstdcxx_statically():
    fixes = advice.libstdcxx_fixes(context(target("provided.al2", "arm64"), "bootstrap", toolchain="c++"))
    assert codes(fixes) == [
        zig_env("aarch64-linux-gnu.2.26"),
        "container: amazonlinux:2",
        'export LDFLAGS="-static-libstdc++ -static-libgcc"\n'
        "# then rebuild from clean: make, cmake (new build folder) and ./configure read LDFLAGS",
    ]


def test_a_cxx_binary_that_also_needs_a_newer_glibc_compiles_with_zig_only():
    fixes = advice.libstdcxx_fixes(context(target(), "bootstrap", toolchain="c++"), glibc_failing=True)
    assert codes(fixes) == [zig_env("x86_64-linux-gnu.2.34")]


def test_a_cxx_wheel_or_addon_is_reinstalled():
    (pip,) = advice.libstdcxx_fixes(context(target("python3.12"), "x.so", toolchain="python-extension"))
    assert pip.code.startswith("pip install --upgrade --only-binary=:all: --implementation cp --python-version 3.12 ")
    (npm,) = advice.libstdcxx_fixes(context(target("nodejs22.x"), "x.node", toolchain="node-addon"))
    assert codes([npm]) == ["npm install --os=linux --cpu=x64 --libc=glibc"]


# -- loadable_build_fixes ------------------------------------------------------------------------
def test_a_package_without_a_loadable_build_is_installed_for_lambda_or_rebuilt_in_its_os():
    # the rebuild runs where npm and a compiler are: the runtime's SAM build image (not bare amazonlinux)
    fixes = advice.loadable_build_fixes("@img/sharp", "arm64", "2.34", "nodejs22.x")
    assert codes(fixes) == [
        "npm install --os=linux --cpu=arm64 --libc=glibc @img/sharp",
        "container: public.ecr.aws/sam/build-nodejs22.x:latest-arm64\n# then, in a run: step\n"
        "npm rebuild @img/sharp --build-from-source",
    ]


def test_a_package_name_is_quoted_and_no_image_is_guessed():
    # no Node runtime named: no build image with npm to name
    assert codes(advice.loadable_build_fixes("odd name", "x86_64", "2.35")) == [
        "npm install --os=linux --cpu=x64 --libc=glibc 'odd name'"
    ]
