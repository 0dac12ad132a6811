#!/usr/bin/env bash
# Installs what the build needs (Debian packages), builds everything and runs every test,
# then prints one line "N passed, N failed" counted from Bazel's per-test summary.
#
#   tools/test.sh                 # all tests
#   tools/test.sh //azure_auth/...  # some
set -uo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
targets=("$@")
if ((${#targets[@]} == 0)); then targets=(//...); fi
log="$(mktemp /tmp/azure-la-test-XXXXXX.log)"
# Every test really runs: results are never taken from a cache.
bazel test --cache_test_results=no --test_summary=short --keep_going "${targets[@]}" 2>&1 | tee "$log" | grep -v 'linux-sandbox'
rc=${PIPESTATUS[0]}
passed=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log" || true)
failed=$(grep -cE '^//[^ ]+ +(FAILED|TIMEOUT|NO STATUS|INCOMPLETE|FLAKY|REMOTE FAILURE)' "$log" || true)
if [[ $rc -ne 0 && $failed -eq 0 ]]; then
  # The build itself failed (or Bazel did): count that as a failure, never as a pass.
  failed=1
fi
rm -f "$log"
# The toolkit as an external repository of another workspace (its own Bazel server).
if [[ ${#targets[@]} -eq 1 && ${targets[0]} == //... ]]; then
  if tools/external_workspace_test/test.sh; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    rc=1
  fi
fi
echo "${passed} passed, ${failed} failed"
exit $rc
