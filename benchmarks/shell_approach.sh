#!/usr/bin/env bash
# (b) The check users copy from blog posts: unzip the package to a temporary folder, find the
# ELF files, list each one's dynamic symbols with objdump -T, grep the GLIBC_ versions and keep
# the highest. Prints that version (e.g. GLIBC_2.28) for each zip given.
set -euo pipefail

for zip in "$@"; do
    work=$(mktemp -d)
    unzip -q "$zip" -d "$work"
    # `file` decides what is ELF (a *.so name filter would miss libfoo.so.1 and bootstrap).
    find "$work" -type f -print0 \
        | xargs -0 -r file --no-pad --separator '|' \
        | awk -F'|' '$2 ~ /ELF/ { print $1 }' \
        | tr '\n' '\0' \
        | xargs -0 -r objdump -T 2>/dev/null \
        | grep -o 'GLIBC_[0-9][0-9.]*' \
        | sort -V -u | tail -n 1 || true
    rm -rf "$work"
done
