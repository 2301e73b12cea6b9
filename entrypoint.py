"""Docker entrypoint of the GitHub Action (action.yml): all the work is in lambda_glibc_gate.action."""

import sys

from lambda_glibc_gate.action import main

if __name__ == "__main__":
    sys.exit(main())
