"""checks.bootstrap: how a provided.* runtime starts the function (exec of /var/task/bootstrap)."""

from __future__ import annotations

import pytest
from built import target

from lambda_glibc_gate import runtimes
from lambda_glibc_gate.checks.bootstrap import (
    check_bootstrap,
    check_bootstrap_link,
    check_bootstrap_program,
    check_exec_bit,
    shebang_interpreter,
)


def image_interpreters(path: str) -> str:
    """What provided.al2023's image has, as the runtime database lists it."""
    return runtimes.interpreters("al2023", "provided.al2023").get(path, "unknown")


# -- bootstrap-missing ---------------------------------------------------------------------------
def test_a_bootstrap_in_a_subfolder_is_missing_and_the_fix_zips_it_at_the_root():
    names = {"target/lambda/my fn/bootstrap": 0o755, "README.md": 0o644}
    (finding,) = check_bootstrap(names, False, target(), "zip")
    assert finding.rule == "bootstrap-missing" and finding.severity == "error"
    assert finding.message == (
        "provided.al2023 starts /var/task/bootstrap, but the package has no bootstrap at its root; "
        "found target/lambda/my fn/bootstrap in a subfolder: Lambda fails with `Couldn't find valid bootstrap(s)`"
    )
    assert finding.details == {"found": ["target/lambda/my fn/bootstrap"]}
    (fix,) = finding.fixes
    assert fix.code == "cd 'target/lambda/my fn' && zip -j ../function.zip bootstrap"


def test_no_bootstrap_anywhere_names_the_executable_to_rename():
    (finding,) = check_bootstrap({"main.py": 0o644}, False, target(), "zip")
    assert finding.rule == "bootstrap-missing"
    assert finding.fixes[0].code == "cp target/release/<your-binary> bootstrap && zip function.zip bootstrap"


@pytest.mark.parametrize(
    ("runtime_id", "layer_has_bootstrap", "kind"),
    [
        ("provided.al2023", True, "zip"),  # /opt/bootstrap from a layer starts it
        ("provided.al2023", False, "file"),  # a single file scanned on its own
        ("python3.12", False, "zip"),  # the runtime starts its own interpreter
    ],
)
def test_no_bootstrap_is_fine_where_none_is_needed(runtime_id, layer_has_bootstrap, kind):
    assert check_bootstrap({"app.py": 0o644}, layer_has_bootstrap, target(runtime_id), kind) == []


def test_a_symlinked_bootstrap_that_leads_nowhere_is_missing():
    (finding,) = check_bootstrap_link("bin/app", None)
    assert finding.rule == "bootstrap-missing" and finding.member == "bootstrap"
    assert finding.details == {"link": "bin/app"}
    assert finding.fixes[0].code == "cp target/release/<your-binary> bootstrap && zip function.zip bootstrap"
    assert check_bootstrap_link("bin/app", "bin/app") == []


# -- bootstrap-not-executable --------------------------------------------------------------------
def test_a_bootstrap_without_the_execute_bit_fails():
    (finding,) = check_bootstrap({"bootstrap": 0o100644}, False, target(), "zip")
    assert finding.rule == "bootstrap-not-executable" and finding.severity == "error"
    assert finding.message == (
        "bootstrap has mode 644, without the execute bit: Lambda fails with "
        "`fork/exec /var/task/bootstrap: permission denied`"
    )
    assert finding.fixes[0].code == "chmod 755 bootstrap && zip function.zip bootstrap"


def test_a_zip_without_unix_modes_is_a_warning():
    (finding,) = check_exec_bit("bootstrap", None)
    assert finding.rule == "bootstrap-not-executable" and finding.severity == "warning"
    assert finding.fixes[0].code == "chmod 755 bootstrap && zip function.zip bootstrap"
    assert check_exec_bit("bootstrap", 0o100755) == []


# -- bootstrap-exec-format and scripts -----------------------------------------------------------
@pytest.mark.parametrize(("head", "what"), [(b"", "is empty"), (b"MZ\x90\x00", "is neither an ELF executable")])
def test_a_bootstrap_that_is_neither_elf_nor_script_cannot_be_execd(head, what):
    (finding,) = check_bootstrap_program("bootstrap", head, image_interpreters)
    assert finding.rule == "bootstrap-exec-format" and finding.severity == "error"
    assert finding.message.startswith(f"bootstrap {what}")
    assert "`exec format error` (Runtime.InvalidEntrypoint)" in finding.message
    assert finding.fixes[0].code == "sed -i '1i #!/bin/sh' bootstrap"


def test_a_shebang_ending_in_cr_is_a_bad_interpreter():
    (finding,) = check_bootstrap_program("bootstrap", b"#!/bin/sh\r\necho hi\r\n", image_interpreters)
    assert finding.rule == "bad-interpreter" and finding.severity == "error"
    assert "Windows line endings" in finding.message
    assert finding.fixes[0].code == "sed -i 's/\\r$//' bootstrap"


def test_a_script_for_an_interpreter_the_image_has_runs():
    assert check_bootstrap_program("bootstrap", b"#!/bin/bash\nexec ./app\n", image_interpreters) == []
    assert check_bootstrap_program("bootstrap", b"#!/usr/bin/env bash\n", image_interpreters) == []


def test_a_script_for_an_interpreter_nobody_has_fails():
    # GIVEN a script for /var/task/bin/node, which the package does not hold (judge says "absent")
    (finding,) = check_bootstrap_program("bootstrap", b"#!/var/task/bin/node\n", lambda path: "absent")
    assert finding.rule == "bad-interpreter" and finding.severity == "error"
    assert finding.required == "/var/task/bin/node"
    assert finding.message == (
        "bootstrap is a script for /var/task/bin/node, which is not in the package, its layers or the "
        "runtime's image: Lambda fails with `no such file or directory` when it starts it"
    )
    assert finding.fixes[0].code == "sed -i '1s|.*|#!/bin/sh|' bootstrap"


def test_an_empty_shebang_names_nothing():
    (finding,) = check_bootstrap_program("bootstrap", b"#!\n", image_interpreters)
    assert finding.rule == "bad-interpreter" and "a script for (nothing)" in finding.message


def test_an_interpreter_the_database_cannot_vouch_for_is_a_warning():
    (finding,) = check_bootstrap_program("bootstrap", b"#!/usr/bin/python3\n", image_interpreters)
    assert finding.rule == "bad-interpreter" and finding.severity == "warning"
    assert finding.required == "/usr/bin/python3" and finding.fixes == ()


@pytest.mark.parametrize(
    ("head", "interpreter"),
    [
        (b"#!/bin/sh\n", "/bin/sh"),
        (b"#! \t/usr/bin/env python3 -u\n", "/usr/bin/env"),
        (b"#!\n", ""),
        (b"\x7fELF", None),
    ],
)
def test_the_kernel_runs_the_first_word_after_the_shebang(head, interpreter):
    assert shebang_interpreter(head) == interpreter
