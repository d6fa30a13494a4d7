#!/usr/bin/env bash
# Debian packages for the device lab (tests/lab). Idempotent; needs root.
exec bash "$(dirname "${BASH_SOURCE[0]}")/../tests/lab/lab-deps.sh" "$@"
