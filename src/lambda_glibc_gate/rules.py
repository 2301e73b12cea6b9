"""The rule catalogue: one entry per stable rule id, shared by SARIF, the docs and renderers.

The severity here is each rule's default; checks/ may raise or lower a single finding
(e.g. a libstdc++ tag that only some AL2023 images lack is a warning).
"""

from __future__ import annotations

from dataclasses import dataclass

# Where the rule help lives for readers of SARIF / code-scanning alerts.
PROJECT_URL = "https://github.com/lambda-glibc-gate/lambda-glibc-gate"


@dataclass(frozen=True)
class Rule:
    id: str
    title: str  # one line, shown as the alert title
    severity: str  # default: error | warning | note
    help: str  # plain text, a few sentences: why it breaks on Lambda and the way out
    example: str  # one example message, for the README table


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            "glibc-too-new",
            "Binary needs a newer glibc than the Lambda runtime has",
            "error",
            "The binary references glibc symbol versions newer than the runtime's glibc "
            "(provided.al2023 and the other Amazon Linux 2023 runtimes have 2.34, Amazon Linux 2 "
            "runtimes 2.26). The dynamic loader refuses to start it: "
            "`/lib64/libc.so.6: version 'GLIBC_2.38' not found`. It usually means the build ran "
            "on a newer system (ubuntu-latest has glibc 2.39; ubuntu-22.04 has 2.35, also above "
            "2.34). "
            "Build against the runtime's glibc instead: cargo lambda / cargo zigbuild with a glibc "
            "suffix on the target (x86_64-unknown-linux-gnu.2.34), CGO_ENABLED=0 for Go, "
            "manylinux wheels no newer than the runtime for Python, or build inside the runtime's "
            "own image (public.ecr.aws/lambda/provided:al2023).",
            "bootstrap needs glibc 2.38 (__isoc23_strtol@GLIBC_2.38), provided.al2023 has 2.34",
        ),
        Rule(
            "glibc-private",
            "Binary depends on GLIBC_PRIVATE symbols",
            "error",
            "GLIBC_PRIVATE symbols are internal to one particular glibc build and change between "
            "releases, so the file loads only next to the exact glibc it was built with. This "
            "usually means parts of glibc itself (libpthread.so.0, libm.so.6, ld-linux) were "
            "copied into the package. Do not bundle glibc's own libraries; let the runtime "
            "provide them.",
            "lib/libpthread.so.0 uses GLIBC_PRIVATE (__libc_dlopen_mode@GLIBC_PRIVATE)",
        ),
        Rule(
            "libstdcxx-too-new",
            "Binary needs a newer libstdc++ / libgcc_s than the Lambda runtime has",
            "error",
            "The binary references GLIBCXX_, CXXABI_ or GCC_ versions newer than the runtime's "
            "libstdc++.so.6 / libgcc_s.so.1 (Amazon Linux 2: GLIBCXX_3.4.24; Amazon Linux 2023 "
            "images with GCC 11: GLIBCXX_3.4.29). The loader fails with "
            "`version 'GLIBCXX_3.4.30' not found`. Build with the runtime's compiler (inside "
            "its image), link the C++ runtime statically (-static-libstdc++ -static-libgcc), or "
            "ship a matching libstdc++.so.6 in the package's lib/ folder.",
            "sharp.node needs GLIBCXX_3.4.30, nodejs20.x has GLIBCXX_3.4.29",
        ),
        Rule(
            "missing-symbol-version",
            "Needed library does not define a symbol version the binary asks for",
            "error",
            "The binary asks a library for a symbol version (OPENSSL_3.0.0, ZLIB_1.2.9, ...) that "
            "the copy the loader will find does not define, so ld.so stops with "
            "`version 'X' not found (required by ...)`. Bundle the library version the binary was "
            "built against (in lib/), or build against the one the runtime ships.",
            "bootstrap needs OPENSSL_3.2.0 from libssl.so.3, which the loaded library does not define",
        ),
        Rule(
            "weak-version",
            "Weak version needs above the runtime's glibc",
            "note",
            "The binary marks some glibc version needs as weak: ld.so loads it even though the "
            "runtime's glibc lacks them, and the symbols resolve to null at run time. The program "
            "is expected to check for them before use; nothing fails at load time.",
            "bootstrap has weak version needs above glibc 2.34 (GLIBC_2.36)",
        ),
        Rule(
            "arch-mismatch",
            "Binary is built for a different CPU architecture than the function",
            "error",
            "Lambda runs x86_64 or arm64 (aarch64) functions; a binary for the other architecture "
            "fails with `exec format error` / Runtime.InvalidEntrypoint, and a library for it "
            "with `wrong ELF class` or `cannot open shared object file`. Build for the function's "
            "architecture (cargo lambda build --arm64, GOARCH=arm64, pip --platform "
            "manylinux2014_aarch64) or change the function's architecture.",
            "bootstrap is aarch64, the function is x86_64",
        ),
        Rule(
            "bad-interpreter",
            "Executable asks for a dynamic loader the runtime does not have",
            "error",
            "The executable's PT_INTERP names a loader that is not on Lambda (for example musl's "
            "/lib/ld-musl-x86_64.so.1 or a /nix/store path); the kernel then reports "
            "`no such file or directory` although the file exists. Build for the glibc target "
            "(x86_64-unknown-linux-gnu), or link fully statically so no loader is needed.",
            "bootstrap wants /lib/ld-musl-x86_64.so.1, the runtime has /lib64/ld-linux-x86-64.so.2",
        ),
        Rule(
            "bootstrap-missing",
            "Custom runtime package has no bootstrap at its root",
            "error",
            "OS-only runtimes (provided.al2023, provided.al2) start the executable named "
            "`bootstrap` at the root of the package (or of a layer, /opt/bootstrap). Without it "
            "every invocation fails with Runtime.InvalidEntrypoint. Name the executable "
            "bootstrap and put it at the zip root (cargo lambda build --output-format zip does).",
            "function.zip has no bootstrap at its root (found target/release/bootstrap)",
        ),
        Rule(
            "bootstrap-exec-format",
            "bootstrap is neither an ELF executable nor a #! script",
            "error",
            "Lambda starts bootstrap with execve. The kernel runs ELF executables and scripts whose "
            "first line is `#!` followed by an interpreter path; anything else (a text file without "
            "`#!`, an empty file, a Windows executable) fails with `exec format error` "
            "(Runtime.InvalidEntrypoint), although a shell on your machine would have run it. Add "
            "`#!/bin/sh` (or the interpreter the script needs) as its first line.",
            "bootstrap is neither an ELF executable nor a script starting with `#!`",
        ),
        Rule(
            "bootstrap-not-executable",
            "bootstrap is not executable",
            "error",
            "The bootstrap file has no execute permission in the package, so Lambda cannot start "
            "it (`permission denied`, Runtime.InvalidEntrypoint). Zips made on Windows often lose "
            "the mode bits. Run chmod 755 bootstrap before zipping, or let the build tool make "
            "the zip (cargo lambda, build-lambda-zip for Go).",
            "bootstrap has mode 0644 in function.zip, it must be executable (0755)",
        ),
        Rule(
            "package-too-large",
            "Deployment package is larger than Lambda accepts",
            "error",
            "Lambda rejects a function whose unzipped code plus layers exceeds 250 MB "
            "(262,144,000 bytes). Remove what the function does not need at run time (debug "
            "symbols: strip the binaries; test data; unused native wheels), move large "
            "dependencies to a layer or use a container image function.",
            "function.zip unpacks to 301,989,888 bytes, Lambda allows 262,144,000",
        ),
        Rule(
            "deprecated-runtime",
            "The Lambda runtime is deprecated or close to its end of support",
            "warning",
            "AWS deprecates runtimes on a published schedule: after deprecation it stops security "
            "patches, then blocks creating and finally updating functions that use it. Move to "
            "the runtime's successor (provided.al2 to provided.al2023, python3.9 to python3.12 "
            "or later) and check the binaries against the new runtime's glibc.",
            "provided.al2 is deprecated since 2026-07-31; updates are blocked from 2027-03-03",
        ),
        Rule(
            "malformed-elf",
            "File looks like ELF but cannot be read",
            "warning",
            "The file starts with the ELF magic bytes but its headers or dynamic section are "
            "truncated or corrupt, so its requirements cannot be checked; the loader on Lambda "
            "will most likely reject it as well (`invalid ELF header`). Rebuild it, and check "
            "that the packaging step did not cut or convert the file (text-mode copies, LFS "
            "pointers).",
            "lib/libfoo.so: truncated program header table",
        ),
        Rule(
            "unreadable-archive",
            "Artifact cannot be opened",
            "error",
            "The artifact is not a readable zip, folder or file (corrupt or truncated zip, "
            "encrypted entries, unsupported compression, or a path that does not exist), so "
            "nothing in it could be checked. Lambda cannot unpack such a zip either.",
            "dist/function.zip: not a zip file (bad central directory)",
        ),
        Rule(
            "unsafe-archive",
            "Artifact contains entries that are unsafe to unpack",
            "error",
            "The zip has entries with absolute paths, `..` components, links that point outside "
            "the package, or sizes and compression ratios typical of a zip bomb. Those entries "
            "were not read. Rebuild the package from a clean folder.",
            "function.zip: entry ../../etc/passwd escapes the package",
        ),
        Rule(
            "missing-library",
            "Needed shared library is neither in the package nor in the runtime",
            "error",
            "A DT_NEEDED library was not found where the loader on Lambda looks: the binary's "
            "RPATH/RUNPATH, /var/task, /var/task/lib, /opt/lib (layers) and the runtime's system "
            "libraries. The start fails with `error while loading shared libraries: "
            "libssl.so.1.1: cannot open shared object file`. Bundle the library in lib/ (or a "
            "layer's lib/), link it statically, or build against what the runtime ships "
            "(Amazon Linux 2023 has libssl.so.3, Amazon Linux 2 libssl.so.10).",
            "bootstrap needs libssl.so.1.1: not in function.zip, not in provided.al2023",
        ),
        Rule(
            "no-runtime",
            "No runtime known for the artifact",
            "error",
            "With `--runtime auto` the runtime comes from the SAM / CloudFormation, Serverless or "
            "CDK templates; no function in them uses this artifact, so it could not be judged. "
            "Pass the runtime explicitly (--runtime provided.al2023) or point the template's "
            "CodeUri / package artifact at it.",
            "no function in the templates uses dist/api.zip, so its runtime is unknown",
        ),
        Rule(
            "runtime-assumed",
            "Runtime assumed for an artifact no template names",
            "note",
            "With the default runtime setting (auto) each artifact is judged by the runtime its "
            "function declares in the SAM / CloudFormation, Serverless or CDK templates. An artifact "
            "that no template names but that has a bootstrap at its root is a custom-runtime "
            "package (cargo lambda, a Go or C++ build), judged on provided.al2023. Set the runtime "
            "to judge it as another (provided.al2, or a managed runtime).",
            "no template names target/lambda/api; it has a bootstrap at its root, so it is judged as provided.al2023",
        ),
        Rule(
            "runtime-hint",
            "A newer runtime would load every failing binary",
            "note",
            "Every binary that fails on the chosen runtime needs only what a newer supported "
            "runtime provides (for example provided.al2 to provided.al2023: glibc 2.26 to 2.34). "
            "Moving the function to that runtime is often the smallest fix.",
            "every binary that fails here would load on provided.al2023: moving the function there is the smallest fix",
        ),
        Rule(
            "python-abi-mismatch",
            "Extension module built for another Python",
            "error",
            "CPython imports an extension module only when the tag in its file name matches the "
            "interpreter: `_x.cpython-312-x86_64-linux-gnu.so` is invisible to Python 3.11, and the "
            "function fails with `No module named …` (Runtime.ImportModuleError). This happens when "
            "the dependencies are installed with a different Python than the runtime's: install them "
            "with `pip install --python-version 3.11 --only-binary=:all: --target …`, or move the "
            "function to the runtime the modules were built for. Stable-ABI modules (`.abi3.so`) load "
            "on any newer Python.",
            "mypkg/_speedups.cpython-312-x86_64-linux-gnu.so is built for CPython 3.12; python3.11 cannot import it",
        ),
        Rule(
            "not-loaded",
            "Native file the function's loader never loads",
            "note",
            "npm packages ship a prebuilt addon for every platform (prebuilds/linux-arm64, "
            "prebuilds/linux-x64/x.musl.node, prebuilds/freebsd-x64 ...), platform packages for other "
            "C libraries (@rollup/rollup-linux-x64-musl) and wheels a module per Python. The gate repeats "
            "the selection that node-gyp-build, node-pre-gyp, npm's os/cpu/libc fields and CPython's "
            "importer make on Lambda; the files they pass over are never loaded, so they cannot fail "
            "the function. They only take space: the note gives their size.",
            "node_modules/bcrypt/prebuilds: 8 native file(s) (1.9 MB) that nodejs22.x on x86_64 never loads",
        ),
        Rule(
            "no-loadable-build",
            "Package has native builds, but none for the function's platform",
            "error",
            "A package whose native code exists only for other platforms (darwin-arm64, linux-x64 musl, "
            "arm64 on an x86_64 function) fails in require() at cold start: node-gyp-build says `No "
            "native build was found`, a platform-package loader `Cannot find module`. Install the build "
            "for Lambda's platform (npm install --os=linux --cpu=x64 --libc=glibc), or build the package "
            "from source inside the runtime's image.",
            "sharp (node_modules/sharp) has native builds, but none that nodejs22.x on x86_64 loads",
        ),
        Rule(
            "static-binary",
            "Statically linked executable",
            "note",
            "The executable has no dynamic loader and no glibc version requirements, so glibc "
            "versions do not limit it. A static glibc binary still loads NSS modules and "
            "iconv at run time for some calls (getaddrinfo, getpwnam); musl static binaries "
            "do not.",
            "bootstrap is statically linked (no glibc requirement)",
        ),
    )
}


def rule_for(rule_id: str) -> Rule:
    """The catalogue entry, or a plain stand-in for an id this catalogue does not know yet."""
    known = RULES.get(rule_id)
    if known is not None:
        return known
    return Rule(rule_id, rule_id.replace("-", " ").capitalize(), "warning", "", "")
