"""The JSON report against its published schema (the DESIGN.md contract), on real scans."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest
from helpers import REGULAR, elf_fixture

from lambda_glibc_gate.scan import ScanOptions, scan

SCHEMA = json.loads(resources.files("lambda_glibc_gate").joinpath("data/report-schema.json").read_text())


@pytest.mark.parametrize(
    ("members", "runtime"),
    [
        ({"bootstrap": elf_fixture("strlcpy_strtol-glibc2.38-x86_64")}, "provided.al2023"),
        ({"bootstrap": (elf_fixture("hello-glibc2.34-aarch64"), REGULAR)}, "provided.al2"),
        (
            {"bootstrap": elf_fixture("musl_dynamic-x86_64"), "lib/x.so": b"\x7fELF\x02\x01\x01garbage"},
            "provided.al2023",
        ),
        ({"app.py": b"print(1)"}, "python3.12"),
    ],
)
def test_reports_validate_against_the_schema(make_zip, members, runtime):
    report = scan([make_zip(members)], ScanOptions(runtime=runtime))
    jsonschema.validate(json.loads(report.dumps()), SCHEMA)


def test_the_schema_rejects_a_renamed_contract_field(make_zip):
    data = json.loads(scan([make_zip({"bootstrap": elf_fixture("hello-glibc2.34-x86_64")})], ScanOptions()).dumps())
    data["artifacts"][0]["binaries"][0]["glibc"] = data["artifacts"][0]["binaries"][0].pop("glibc_required")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)
