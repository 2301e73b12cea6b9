"""lambda-glibc-gate: catch `GLIBC_2.xx not found` before an AWS Lambda deploy."""

__version__ = "0.1.0"
