"""`python -m lambda_glibc_gate`."""

import sys

from lambda_glibc_gate.cli import main

sys.exit(main())
