"""Unbounded work from kilobytes of pull-request input: each input-driven loop has a budget.

Each case is reproduced from a small hostile input; what is asserted is the behaviour (a
note, a one-line error, a bounded count), never a timing: timings are in the commit messages
and the final report of the change that added them.
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import pytest

from lambda_glibc_gate import cli, packages, templates
from lambda_glibc_gate.elf import ElfInfo, read_elf
from lambda_glibc_gate.resolve import (
    MAX_LOOKUPS,
    MAX_SEARCHED_KEPT,
    TASK_ROOT,
    Filesystem,
    Tree,
    load_trees,
    roots_of,
)
from lambda_glibc_gate.runtimes import get_runtime, library_search_path, system_libraries
from lambda_glibc_gate.templates import (
    MAX_RESOLVED_CHARS,
    MAX_TEMPLATE_BYTES,
    MAX_YAML_NODES,
    TemplateError,
    load_functions,
)

# --- 1. reference fan-out in templates -----------------------------------------------------


def serverless_doubling(levels: int, fan_out: int = 9) -> str:
    """custom.aN is aN-1 written `fan_out` times: the runtime expands to fan_out**levels ids."""
    lines = ["service: svc", "custom:", "  a0: python3.12"]
    for level in range(1, levels + 1):
        lines.append(f"  a{level}: '" + f"${{self:custom.a{level - 1}}}" * fan_out + "'")
    lines += ["provider:", "  name: aws", f"  runtime: ${{self:custom.a{levels}}}"]
    lines += ["functions:", "  f:", "    handler: h"]
    return "\n".join(lines) + "\n"


def sub_fan_out(levels: int, fan_out: int = 9) -> dict:
    def level(n: int) -> object:
        if n == 0:
            return "python3.12"
        return {"Fn::Sub": ["${A}" * fan_out, {"A": level(n - 1)}]}

    function = {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": level(levels), "Code": "."}}
    return {"Resources": {"Fn": function}}


def test_nested_self_references_are_refused_with_a_short_note(tmp_path: Path):
    # GIVEN a 1.2 KB serverless.yml whose runtime expands to 9**8 copies of python3.12
    # (before the budget: a 47,829,690-character runtime id, 42 s)
    path = tmp_path / "serverless.yml"
    path.write_text(serverless_doubling(8))
    # WHEN its functions are read
    (target,) = load_functions(str(path))
    # THEN the runtime is unknown, and the note says why in one short line
    assert target.runtime is None
    assert "resolution budget" in (target.note or "")
    assert len(target.note or "") < 300 and "\n" not in (target.note or "")


def test_sub_fan_out_is_refused_with_a_short_note(tmp_path: Path):
    # GIVEN a 543-byte template whose Fn::Sub nesting expands to 9**7 copies (before: 10 s)
    path = tmp_path / "template.json"
    path.write_text(json.dumps(sub_fan_out(7)))
    (target,) = load_functions(str(path))
    assert target.runtime is None
    assert "resolution budget" in (target.note or "")
    assert len(target.note or "") < 300


def test_join_fan_out_is_refused(tmp_path: Path):
    items = [{"Ref": "P"}] * 5000
    document = {
        "Parameters": {"P": {"Type": "String", "Default": "python3.12"}},
        "Resources": {"Fn": {"Type": "AWS::Lambda::Function",
                             "Properties": {"Runtime": {"Fn::Join": ["", items]}, "Code": "."}}},
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(document))
    (target,) = load_functions(str(path))
    assert target.runtime is None and "resolution budget" in (target.note or "")


def test_modest_references_still_resolve(tmp_path: Path):
    # Two levels, more than ten variables in one string: well inside the budget
    lines = ["service: svc", "custom:", "  v: '3'", "  d: '.'", "  p: python",
             "  r: ${self:custom.p}${self:custom.v}${self:custom.d}1${self:custom.v}",
             "  long: " + "${self:custom.v}" * 12,
             "provider:", "  name: aws", "  runtime: ${self:custom.r}",
             "  stage: ${self:custom.long}", "functions:", "  f:", "    handler: h"]
    path = tmp_path / "serverless.yml"
    path.write_text("\n".join(lines) + "\n")
    (target,) = load_functions(str(path))
    assert target.runtime == "python3.13"
    path = tmp_path / "template.json"
    path.write_text(json.dumps(sub_fan_out(2, fan_out=1)))
    (target,) = load_functions(str(path))
    assert target.runtime == "python3.12"


def test_a_long_runtime_never_reaches_a_message_whole(tmp_path: Path):
    # GIVEN a runtime that is a literal of MAX_RESOLVED_CHARS - 1 characters, and one longer
    for length in (200, MAX_RESOLVED_CHARS - 1, MAX_RESOLVED_CHARS * 10):
        path = tmp_path / "template.yaml"
        path.write_text(
            "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
            f"    Properties:\n      Runtime: {'p' * length}\n      Architectures: [{'a' * length}]\n"
        )
        (target,) = load_functions(str(path))
        # THEN it is not a runtime, and the note quotes a bounded part of it
        assert target.runtime is None
        assert len(target.note or "") < 500


# --- 2. template size and YAML node count ---------------------------------------------------


def test_a_template_over_cloudformations_limit_is_one_line(tmp_path: Path):
    # GIVEN a 10 MB one-line flow list (before: 406 s and 3.7 GB to compose it)
    path = tmp_path / "template.yaml"
    path.write_text("Resources: [" + ",".join(["1"] * (5 * 1024 * 1024)) + "]\n")
    # THEN it is refused unread, in one line naming the file
    with pytest.raises(TemplateError) as caught:
        load_functions(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: larger than CloudFormation's 1 MB limit")
    assert "\n" not in message


def test_a_template_of_too_many_nodes_is_one_line(tmp_path: Path, monkeypatch):
    # GIVEN a template under 1 MB that is one flow list of more than MAX_YAML_NODES nodes
    # (before: 42 s and 394 MB for 1 MB of it); a lower limit keeps the test quick
    assert MAX_YAML_NODES * 2 < MAX_TEMPLATE_BYTES  # a 1 MB flow list would be over it
    monkeypatch.setattr(templates.parsing, "MAX_YAML_NODES", 1000)  # where it is read
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n  X: [" + ",".join(["1"] * 1010) + "]\n")
    with pytest.raises(TemplateError, match="template.yaml:2: cannot parse: more than 1000 YAML nodes"):
        load_functions(str(path))
    # AND a real-sized template is well inside it
    path.write_text("Resources:\n  X: [" + ",".join(["1"] * 900) + "]\n")
    assert load_functions(str(path)) == []


def test_alias_laughs_are_refused(tmp_path: Path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    path = tmp_path / "template.yaml"
    path.write_text("\n".join(lines) + "\nResources: *a8\n")
    with pytest.raises(TemplateError, match="aliases expand the document"):
        load_functions(str(path))


# --- 3. line numbers in JSON templates ------------------------------------------------------


def test_json_lines_for_thousands_of_functions(tmp_path: Path):
    # GIVEN an 880 KB CDK-style template of 9,000 functions (before: 18 s, a search of the
    # whole text per function; the timing itself is in the report, not asserted)
    resources = {
        f"Fn{index}": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.12", "Code": "."}}
        for index in range(9000)
    }
    text = json.dumps({"Description": '"Fn5": not a key', "Resources": resources}, indent=0)
    path = tmp_path / "Stack.template.json"
    path.write_text(text)
    targets = load_functions(str(path))
    # THEN every function has the line of its own key
    lines = text.splitlines()
    assert len(targets) == 9000
    for target in (targets[0], targets[5], targets[4321], targets[-1]):
        assert lines[target.line - 1].strip() == f'"{target.name}": {{'


# --- 4. compressed WHEEL tag sets -------------------------------------------------------------


def test_compressed_wheel_tags_are_bounded_before_expanding():
    # GIVEN a 1 MB WHEEL of 5,000 `Tag:` lines, each a 17 x 17 x 17 product (4,913 tags)
    # (before: every product built in full, 19 s for the first 64 tags)
    def names(prefix: str, count: int) -> str:
        return ".".join(f"{prefix}{index:02d}" for index in range(count))

    line = f"Tag: {names('p', 17)}-{names('a', 17)}-{names('m', 17)}\n"
    data = ("Tag: cp312-cp312-manylinux_2_28_x86_64\n" + line * 5000).encode()
    tags = packages._wheel_tags(data)
    # THEN the first LIST_LIMIT distinct tags are kept, in the wheel's order, and no more
    assert len(tags) == packages.LIST_LIMIT
    assert tags[:3] == ("cp312-cp312-manylinux_2_28_x86_64", "p00-a00-m00", "p00-a00-m01")
    # AND an ordinary compressed set expands as before
    assert packages._expand_tag("cp311.cp312-abi3-a.b") == [
        "cp311-abi3-a", "cp311-abi3-b", "cp312-abi3-a", "cp312-abi3-b"]
    assert packages._expand_tag("py3-none-any..any") == ["py3-none-any"]


# --- 5. DT_NEEDED x DT_RPATH ----------------------------------------------------------------


def needy_elf(needed: list[str], rpath: list[str]) -> bytes:
    """A minimal x86_64 executable: PT_LOAD over the file, PT_INTERP, and a PT_DYNAMIC of
    `needed` DT_NEEDED entries and one DT_RPATH (the loader reads no section headers)."""
    interp = b"/lib64/ld-linux-x86-64.so.2\0"
    strings = bytearray(b"\0")
    offsets = []
    for name in [*needed, ":".join(rpath)]:
        offsets.append(len(strings))
        strings += name.encode() + b"\0"
    header_size, phdr_size, phnum = 64, 56, 3
    interp_at = header_size + phdr_size * phnum
    strtab_at = interp_at + len(interp)
    dynamic_at = (strtab_at + len(strings) + 7) & ~7
    entries = [(1, offset) for offset in offsets[:-1]]  # DT_NEEDED
    entries += [(15, offsets[-1]), (5, strtab_at), (10, len(strings)), (0, 0)]  # RPATH STRTAB STRSZ NULL
    dynamic = b"".join(struct.pack("<qQ", tag, value) for tag, value in entries)
    size = dynamic_at + len(dynamic)
    # e_ident, e_type ET_EXEC, e_machine x86_64, e_version, e_entry, e_phoff, e_shoff, e_flags,
    # e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
    elf_header = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack(
        "<HHIQQQIHHHHHH", 2, 62, 1, 0, header_size, 0, 0, header_size, phdr_size, phnum, 64, 0, 0
    )

    def phdr(kind: int, offset: int, length: int, flags: int = 4) -> bytes:
        return struct.pack("<IIQQQQQQ", kind, flags, offset, offset, offset, length, length, 8)

    data = bytearray(size)
    data[:header_size] = elf_header
    data[header_size:interp_at] = (
        phdr(1, 0, size, 5) + phdr(3, interp_at, len(interp)) + phdr(2, dynamic_at, len(dynamic))
    )
    data[interp_at:strtab_at] = interp
    data[strtab_at : strtab_at + len(strings)] = strings
    data[dynamic_at:] = dynamic
    return bytes(data)


def test_the_needy_elf_reads_as_built(tmp_path: Path):
    info = read_elf(needy_elf(["liba.so", "libc.so.6"], ["x", "$ORIGIN/y"]))
    assert info.needed == ("liba.so", "libc.so.6") and info.rpath == ("x", "$ORIGIN/y")
    assert info.machine == "x86_64" and info.interpreter == "/lib64/ld-linux-x86-64.so.2"


def test_needed_times_rpath_has_a_budget_and_a_bounded_report(tmp_path: Path, capsys):
    # GIVEN a 60 KB bootstrap with 4,000 DT_NEEDED and 1,300 DT_RPATH entries (the RPATH
    # string is under elf.py's 4,096-byte cap; ld.so would probe 5.2 million paths), 50 of
    # them repeated (ld.so tries each directory once)
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    unique = [*digits, *(a + b for a in digits for b in digits)][:1250]
    rpath = unique[:50] + unique
    needed = [f"libn{index}.so" for index in range(4000)]
    zip_path = tmp_path / "fn.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        member = zipfile.ZipInfo("bootstrap")
        member.external_attr = 0o100755 << 16
        archive.writestr(member, needy_elf(needed, rpath))
    # WHEN it is scanned (before: a quadratic search, 600 MB and an 85 MB report)
    code = cli.main(["scan", str(zip_path), "--runtime", "provided.al2023", "--format", "json"])
    output = capsys.readouterr().out
    report = json.loads(output)
    # THEN it fails: every soname is a missing-library error, none is silently passed
    assert code == 1
    missing = [f for f in report["artifacts"][0]["findings"] if f["rule"] == "missing-library"]
    assert len(missing) == 4000
    # AND each finding keeps a bounded list of the directories tried, with a count of the rest
    for finding in missing:
        searched = finding["searched"]
        assert len(searched) <= MAX_SEARCHED_KEPT + 2
    first, last = missing[0]["searched"], missing[-1]["searched"]
    # 1,250 distinct RPATH directories, then the runtime's search path and /lib64, /usr/lib64
    assert first[-1].startswith("… and ") and first[-1].endswith(" more directories")
    assert int(first[-1].split()[2]) + MAX_SEARCHED_KEPT > 1250
    assert "budget" in last[-1]  # the lookups ran out: said, not passed
    assert "budget of" in missing[-1]["message"] and len(missing[-1]["message"]) < 1000
    # AND the report grows with the input, not with its square
    assert len(output) < 10 * 1024 * 1024


def test_the_lookup_budget_is_per_artifact_and_spent_once_per_object():
    # A library reached from many roots is resolved once: real packages stay far inside
    package = Tree(mount=TASK_ROOT, label="test")
    for index in range(300):
        package.elves[f"m{index}.so"] = ElfInfo(
            machine="x86_64", elf_class=64, endian="little", elf_type="dyn", interpreter=None,
            needed=("libshared.so",), soname=f"m{index}.so", has_dynamic=True, rpath=("$ORIGIN/lib",),
        )
    package.elves["lib/libshared.so"] = ElfInfo(
        machine="x86_64", elf_class=64, endian="little", elf_type="dyn", interpreter=None,
        needed=("libc.so.6",), soname="libshared.so", has_dynamic=True,
    )
    package.names = set(package.elves)
    runtime = get_runtime("provided.al2023")
    filesystem = Filesystem(
        [package], system_libraries("al2023", "x86_64"), library_search_path(runtime), "x86_64"
    )
    contexts = load_trees(filesystem, roots_of(package))
    assert contexts["/var/task/lib/libshared.so"][0].resolutions["libc.so.6"].where == "system"
    assert filesystem.lookups < 300 * 20


def test_a_note_names_a_handful_of_parameters(tmp_path: Path):
    names = [f"P{index:02d}{'x' * 60}" for index in range(40)]
    document = {
        "Parameters": {name: {"Type": "String", "Default": "3"} for name in names},
        "Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": {"Fn::Sub": "python3.1${" + "}${".join(names) + "}"}, "Code": "."}}},
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(document))
    (target,) = load_functions(str(path))
    assert target.runtime is None  # python3.1333… is not a runtime id, and is said to be
    assert "and 35 more" in (target.note or "") and len(target.note or "") < 800


def test_a_deep_chain_of_rpaths_stays_inside_the_budget():
    # GIVEN 2,000 libraries, each needing the next and each with 300 RPATH entries of its own:
    # the inherited search list grows with the depth (600,000 directories at the end)
    def info(index: int) -> ElfInfo:
        return ElfInfo(
            machine="x86_64", elf_class=64, endian="little", elf_type="dyn", interpreter=None,
            needed=(f"l{index + 1}.so",) if index < 1999 else ("libc.so.6",), soname=f"l{index}.so",
            has_dynamic=True, rpath=tuple(f"$ORIGIN/d{index}/{n}" for n in range(299)) + ("$ORIGIN",),
        )

    package = Tree(mount=TASK_ROOT, label="test")
    package.elves = {f"l{index}.so": info(index) for index in range(2000)}
    package.names = set(package.elves)
    filesystem = Filesystem(
        [package], system_libraries("al2023", "x86_64"), library_search_path(get_runtime("provided.al2023")),
        "x86_64",
    )
    contexts = load_trees(filesystem, roots_of(package))
    # THEN the walk stops at the budget, and what it could not settle is an error, not a pass
    assert filesystem.lookups <= MAX_LOOKUPS + 2000 * 300
    resolutions = [r for loaded in contexts.values() for c in loaded for r in c.resolutions.values()]
    assert any(r.over_budget and r.where == "missing" for r in resolutions) or len(contexts) < 2000
    last = filesystem.resolve("/var/task/l1999.so", package.elves["l1999.so"], "libc.so.6")
    assert last.where == "system" or last.over_budget
