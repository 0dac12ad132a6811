#!/usr/bin/env bash
# Runs completeness_report_test.py (unittest) with the system's python3.
set -euo pipefail
exec python3 -B e2e/completeness_report_test.py -v
