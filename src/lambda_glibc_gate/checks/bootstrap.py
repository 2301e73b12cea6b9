"""How a provided.* runtime starts the function: /var/task/bootstrap (or /opt/bootstrap from a
layer) exec'd as an ELF file or a `#!` script, with the execute bit, through a symlink that must
lead to a file (bootstrap-missing, bootstrap-not-executable, bootstrap-exec-format, bad-interpreter)."""

from __future__ import annotations

from lambda_glibc_gate import advice
from lambda_glibc_gate.checks.target import Target
from lambda_glibc_gate.report import Finding
from lambda_glibc_gate.text import shell_word


def check_bootstrap(
    names: dict[str, int | None], layer_has_bootstrap: bool, target: Target, kind: str
) -> list[Finding]:
    """provided.* runtimes start /var/task/bootstrap (or /opt/bootstrap from a layer); go1.x runs its Handler."""
    if not getattr(target.runtime, "needs_bootstrap", False) or kind == "file":
        return []
    if "bootstrap" in names:
        return check_exec_bit("bootstrap", names["bootstrap"])
    if layer_has_bootstrap:
        return []
    elsewhere = sorted(n for n in names if n.rsplit("/", 1)[-1] == "bootstrap")
    where = f"; found {elsewhere[0]} in a subfolder" if elsewhere else ""
    return [
        Finding(
            "bootstrap-missing",
            "error",
            f"{target.runtime.id} starts /var/task/bootstrap, but the package has no bootstrap at its "
            f"root{where}: Lambda fails with `Couldn't find valid bootstrap(s)`",
            details={"found": elsewhere[:5]},
            fixes=(advice.bootstrap_fix(elsewhere[0] if elsewhere else None),),
        )
    ]


def check_bootstrap_link(link: str, target: str | None) -> list[Finding]:
    """A symlinked bootstrap runs only if its links lead to a file in the package."""
    if target is not None:
        return []
    return [
        Finding(
            "bootstrap-missing",
            "error",
            f"bootstrap is a symlink to {link}, which leads to no file in the package (it dangles, loops "
            "or names a folder): Lambda fails with `Couldn't find valid bootstrap(s)`",
            member="bootstrap",
            details={"link": link},
            fixes=(advice.bootstrap_fix(None),),
        )
    ]


def check_exec_bit(member: str, mode: int | None) -> list[Finding]:
    if mode is None:
        return [
            Finding(
                "bootstrap-not-executable",
                "warning",
                f"{member}: the zip records no Unix permissions (made on Windows?), so Lambda may "
                "extract it without the execute bit: `permission denied`",
                member=member,
                fixes=(advice.exec_bit_fix(),),
            )
        ]
    if mode & 0o111:
        return []
    return [
        Finding(
            "bootstrap-not-executable",
            "error",
            f"{member} has mode {mode & 0o777:o}, without the execute bit: Lambda fails with "
            "`fork/exec /var/task/bootstrap: permission denied`",
            member=member,
            fixes=(advice.exec_bit_fix(),),
        )
    ]


def shebang_interpreter(head: bytes) -> str | None:
    """The interpreter the kernel runs for a `#!` script (binfmt_script: the first word after
    `#!`, blanks skipped), or None when the file does not start with `#!`."""
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].replace(b"\t", b" ").split()
    return words[0].decode("utf-8", "backslashreplace") if words else ""


def check_bootstrap_program(member: str, head: bytes, interpreter_status) -> list[Finding]:
    """A bootstrap that is no ELF file is exec'd by the kernel as a script or not at all.

    `interpreter_status(path)` says whether the runtime (or the package, or a layer) has
    that interpreter: "present", "absent" or "unknown".
    """
    if not head.startswith(b"#!"):
        what = "is empty" if not head else "is neither an ELF executable nor a script starting with `#!`"
        return [
            Finding(
                "bootstrap-exec-format",
                "error",
                f"{member} {what}: Lambda runs it with execve, which fails with `exec format error` "
                "(Runtime.InvalidEntrypoint); a shell would guess, the kernel does not",
                member=member,
                fixes=(
                    advice.Fix(
                        "Start the script with the interpreter that runs it",
                        f"sed -i '1i #!/bin/sh' {shell_word(member)}",
                    ),
                ),
            )
        ]
    first_line = head.split(b"\n", 1)[0]
    if first_line.endswith(b"\r"):
        return [
            Finding(
                "bad-interpreter",
                "error",
                f"{member} starts with a shebang that ends in CR (Windows line endings): Lambda fails "
                "with `no such file or directory`",
                member=member,
                fixes=(
                    advice.Fix("Convert the script to Unix line endings", f"sed -i 's/\\r$//' {shell_word(member)}"),
                ),
            )
        ]
    interpreter = shebang_interpreter(head) or ""
    status = interpreter_status(interpreter) if interpreter else "absent"
    if status == "present":
        return []
    shown = interpreter or "(nothing)"
    if status == "unknown":
        return [
            Finding(
                "bad-interpreter",
                "warning",
                f"{member} is a script for {shown}, which is not in the package or its layers, and the "
                "runtime database cannot tell whether the image has it",
                member=member,
                required=interpreter,
            )
        ]
    return [
        Finding(
            "bad-interpreter",
            "error",
            f"{member} is a script for {shown}, which is not in the package, its layers or the "
            "runtime's image: Lambda fails with `no such file or directory` when it starts it",
            member=member,
            required=interpreter,
            fixes=(
                advice.Fix(
                    "If it is a shell script, run it with the image's /bin/sh "
                    "(else ship its interpreter in the package or a layer)",
                    f"sed -i '1s|.*|#!/bin/sh|' {shell_word(member)}",
                ),
            ),
        )
    ]
