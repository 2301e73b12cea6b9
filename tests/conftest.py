"""pytest fixtures shared by the tests; the helpers they use are in helpers.py."""

from __future__ import annotations

import pytest
from helpers import write_zip


@pytest.fixture
def make_zip(tmp_path):
    counter = iter(range(1_000_000))

    def make(members: dict, name: str | None = None) -> str:
        target = tmp_path / (name or f"package-{next(counter)}.zip")
        return str(write_zip(target, members))

    return make
