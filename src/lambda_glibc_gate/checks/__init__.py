"""(target, facts) -> findings: one small pure function per rule, one module per family.

Every check mirrors what Lambda would do with the file: the kernel's exec (machine,
class, byte order, interpreter, execute bit), then ld.so (every DT_NEEDED found,
every non-weak version need defined by the object that satisfied it).

  target.py           Target (runtime, architecture, limits), for_member, ELF_MACHINE
  runtime.py          the runtime itself: deprecated-runtime, arch-mismatch (runtime)
  bootstrap.py        how a provided.* runtime starts: bootstrap-missing, bootstrap-not-executable,
                      bootstrap-exec-format, bad-interpreter (a `#!` script)
  executable.py       exec and ld.so's header checks: arch-mismatch, bad-interpreter, static-binary
  libraries.py        every DT_NEEDED found: missing-library (musl included)
  symbol_versions.py  every version need defined: glibc-too-new, glibc-private, libstdcxx-too-new,
                      missing-symbol-version, weak-version
  python.py           python-abi-mismatch
  loadable.py         the language runtime's own loaders: not-loaded, no-loadable-build

Facts about a file (toolchain, glibc_required, versions_required) are binary_facts.py's; they are
re-exported here, with every check, so that `checks.X` keeps working.
"""

from __future__ import annotations

from lambda_glibc_gate.binary_facts import cpython_tag, glibc_required, toolchain_of, versions_required
from lambda_glibc_gate.checks.bootstrap import (
    check_bootstrap,
    check_bootstrap_link,
    check_bootstrap_program,
    check_exec_bit,
    shebang_interpreter,
)
from lambda_glibc_gate.checks.executable import LOADERS, check_architecture, check_interpreter, static_note
from lambda_glibc_gate.checks.libraries import MUSL_SONAME_PREFIXES, MUSL_SONAMES, check_libraries, is_musl_soname
from lambda_glibc_gate.checks.loadable import NOT_LOADED_EXAMPLES, check_loadable_builds, not_loaded_notes
from lambda_glibc_gate.checks.python import check_python_abi
from lambda_glibc_gate.checks.runtime import check_deprecated, check_runtime_architecture
from lambda_glibc_gate.checks.symbol_versions import (
    BUNDLED_LACKS,
    HASH_MISMATCH,
    SYMBOLS_IN_MESSAGE,
    SYMBOLS_IN_REPORT,
    check_versions,
    failing_needs,
    newer_runtime_accepting,
)
from lambda_glibc_gate.checks.target import Target, for_member
from lambda_glibc_gate.runtimes import ELF_MACHINE, LAMBDA_ARCH

__all__ = [
    "BUNDLED_LACKS",
    "ELF_MACHINE",
    "HASH_MISMATCH",
    "LAMBDA_ARCH",
    "LOADERS",
    "MUSL_SONAMES",
    "MUSL_SONAME_PREFIXES",
    "NOT_LOADED_EXAMPLES",
    "SYMBOLS_IN_MESSAGE",
    "SYMBOLS_IN_REPORT",
    "Target",
    "check_architecture",
    "check_bootstrap",
    "check_bootstrap_link",
    "check_bootstrap_program",
    "check_deprecated",
    "check_exec_bit",
    "check_interpreter",
    "check_libraries",
    "check_loadable_builds",
    "check_python_abi",
    "check_runtime_architecture",
    "check_versions",
    "cpython_tag",
    "failing_needs",
    "for_member",
    "glibc_required",
    "is_musl_soname",
    "newer_runtime_accepting",
    "not_loaded_notes",
    "shebang_interpreter",
    "static_note",
    "toolchain_of",
    "versions_required",
]
