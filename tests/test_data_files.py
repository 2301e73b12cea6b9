"""data_files: the packaged YAML is read with yaml.safe_load's values, only faster."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from lambda_glibc_gate.data_files import DataLoader, load_data

EVERY_KIND = """
plain: text
quoted: "2.34"
explicit: !!str 2.34
number: 2.34
integer: 62
flag: true
empty: null
day: 2026-08-21
words: [a, "b", !!str 3]
anchored: &text shared
alias: *text
base: &base {status: present, stub: true}
merged: {<<: *base, soname: libdl.so.2}
set: !!set {a, b}
binary: !!binary aGVsbG8=
"""


@pytest.mark.parametrize("name", ["runtimes.yaml", "loaders.yaml"])
def test_the_data_files_load_as_safe_load_reads_them(name):
    # GIVEN a packaged data file
    text = resources.files("lambda_glibc_gate").joinpath(f"data/{name}").read_text("utf-8")
    # THEN the fast loader gives the same values, of the same types, as yaml.safe_load
    assert repr(load_data(name)) == repr(yaml.safe_load(text))


def test_every_kind_of_node_loads_as_with_safe_load():
    # GIVEN strings (plain, quoted, tagged, anchored), numbers, dates, merges, sets, binary
    # THEN the shortcut for plain strings changes none of the values
    assert repr(yaml.load(EVERY_KIND, Loader=DataLoader)) == repr(yaml.safe_load(EVERY_KIND))


def test_unsafe_tags_are_refused_as_safe_load_refuses_them():
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.load("x: !!python/object/apply:os.system [echo hi]", Loader=DataLoader)
