"""collect_many() over the paths given, as its own process, so its memory can be measured with
its workers': python benchmarks/collect_many.py WORKERS PATH..."""

from __future__ import annotations

import sys

from lambda_glibc_gate.parallel import collect_many
from lambda_glibc_gate.resolve import TASK_ROOT

if __name__ == "__main__":
    collect_many(sys.argv[2:], TASK_ROOT, int(sys.argv[1]))
