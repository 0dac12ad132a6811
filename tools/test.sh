#!/usr/bin/env bash
# Installs what the build needs (Debian packages), then runs the CI stages and prints one
# line "N passed, N failed" at the end: every Bazel test of the plain and the ASan run,
# the external-workspace check, every fault-suite scenario and every fuzzer count as one
# test each. The exit status is non-zero when anything failed.
#
#   tools/test.sh                    # CI: all stages below
#   tools/test.sh --quick            # stage 1 only (plain bazel test //..., no
#                                    # external-workspace check): for developers
#   tools/test.sh //azure_auth/...   # stage 1 on some targets only
#
# Stages, in the order that keeps rebuilds few:
#   1. bazel test //...                  gcc, fastbuild; then the external-workspace check
#   2. e2e/run.sh                        the short fault suite on the binaries stage 1
#                                        built, with its completeness table
#   3. bazel test --config=asan //...    ASan + UBSan (own outputs: --platform_suffix)
#   4. tools/fuzz.sh all $FUZZ_SECONDS   every fuzzer (clang, own output base)
#
# Environment: FUZZ_SECONDS (default 60) per fuzzer. A fuzzer's crash is copied into
# testdata/corpus/<fuzzer>/ as a regression input (its replay test in //... then fails
# until the bug is fixed) and fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh

quick=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    *) targets+=("$arg") ;;
  esac
done
full=0
if ((${#targets[@]} == 0)); then
  targets=(//...)
  ((quick)) || full=1
fi

# Bazel's convenience links (bazel-bin, bazel-main, ...) point into the output base that
# built last. tools/fuzz.sh builds in an output base of its own, and `//...` in one
# output base walks into links that lead into the other one (its external/ holds
# Debian's /usr with BUILD files of its own) and fails, or finds no targets at all.
# Drop links that lead elsewhere than `$1` (all of them without an argument); the next
# build makes them again.
drop_foreign_links() {
  local link
  for link in bazel-*; do
    [[ -L "$link" ]] || continue
    if [[ $# -eq 0 || "$(readlink "$link")" != "$1"/* ]]; then rm -f "$link"; fi
  done
}
drop_foreign_links "$(bazel info output_base 2>/dev/null)"

passed=0
failed=0
status=0
timings=()
stage_start=0
begin() {
  stage_start=$(date +%s)
  echo
  echo "=== $1 ==="
}
end() {
  local took=$(($(date +%s) - stage_start))
  timings+=("$(printf '%-40s %4dm%02ds' "$1" $((took / 60)) $((took % 60)))")
}

# Runs `bazel test` with the given flags over the targets and adds its per-test summary
# to the counts. Every test really runs: results are never taken from a cache.
bazel_tests() {
  local log rc p f
  log="$(mktemp /tmp/azure-la-test-XXXXXX.log)"
  bazel test --cache_test_results=no --test_summary=short --keep_going "$@" "${targets[@]}" \
    2>&1 | tee "$log" | grep -v 'linux-sandbox'
  rc=${PIPESTATUS[0]}
  p=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log" || true)
  f=$(grep -cE '^//[^ ]+ +(FAILED|TIMEOUT|NO STATUS|INCOMPLETE|FLAKY|REMOTE FAILURE)' "$log" || true)
  if [[ $rc -ne 0 && $f -eq 0 ]]; then
    # The build itself failed (or Bazel did): count that as a failure, never as a pass.
    f=1
  fi
  rm -f "$log"
  passed=$((passed + p))
  failed=$((failed + f))
  if [[ $rc -ne 0 ]]; then status=1; fi
  echo "--- $p passed, $f failed"
}

ci_start=$(date +%s)

begin "1. bazel test ${targets[*]}"
bazel_tests
# The toolkit as an external repository of another workspace (its own Bazel server).
if ((full)); then
  if tools/external_workspace_test/test.sh; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    status=1
  fi
fi
end "1. bazel test (+ external workspace)"

if ((full)); then
  begin "2. fault suite (e2e/run.sh)"
  e2e_log="$(mktemp /tmp/azure-la-e2e-XXXXXX.log)"
  e2e/run.sh 2>&1 | tee "$e2e_log"
  e2e_rc=${PIPESTATUS[0]}
  # One test per row of the completeness table.
  p=$(grep -cE '^\| [a-z0-9_]+ +\|.*\| ok +\|$' "$e2e_log" || true)
  f=$(grep -cE '^\| [a-z0-9_]+ +\|.*\| FAILED +\|$' "$e2e_log" || true)
  s=$(grep -cE '^\| [a-z0-9_]+ +\|.*\| SKIPPED +\|$' "$e2e_log" || true)
  if [[ $e2e_rc -ne 0 && $f -eq 0 ]]; then f=1; fi
  if [[ $e2e_rc -ne 0 ]]; then status=1; fi
  if [[ $s -ne 0 ]]; then echo "--- $s scenario(s) SKIPPED (not counted as passed)"; fi
  passed=$((passed + p))
  failed=$((failed + f))
  rm -f "$e2e_log"
  echo "--- $p passed, $f failed"
  end "2. fault suite"

  begin "3. bazel test --config=asan //..."
  bazel_tests --config=asan
  end "3. ASan + UBSan"

  fuzz_seconds="${FUZZ_SECONDS:-60}"
  begin "4. fuzzers, ${fuzz_seconds}s each"
  artifacts="$(mktemp -d /tmp/azure-la-fuzz-XXXXXX)"
  fuzz_log="$(mktemp /tmp/azure-la-fuzz-XXXXXX.log)"
  drop_foreign_links
  FUZZ_ARTIFACTS="$artifacts" tools/fuzz.sh all "$fuzz_seconds" 2>&1 | tee "$fuzz_log"
  fuzz_rc=${PIPESTATUS[0]}
  drop_foreign_links
  p=$(grep -cE '^fuzz: //[^ ]+ ok' "$fuzz_log" || true)
  f=$(grep -cE '^fuzz: //[^ ]+ FAILED' "$fuzz_log" || true)
  if [[ $fuzz_rc -ne 0 && $f -eq 0 ]]; then f=1; fi
  if [[ $((p + f)) -eq 0 ]]; then
    echo "--- no fuzzer ran: tools/fuzz.sh found no target"
    f=1
    fuzz_rc=1
  fi
  if [[ $fuzz_rc -ne 0 ]]; then status=1; fi
  # Crashes become regression inputs of the fuzzer's replay test.
  for crash in "$artifacts"/*-crash-* "$artifacts"/*-leak-* "$artifacts"/*-timeout-* \
               "$artifacts"/*-oom-*; do
    [[ -e "$crash" ]] || continue
    base="$(basename "$crash")"
    fuzzer="${base%%-*}"
    if [[ -d "testdata/corpus/$fuzzer" ]]; then
      cp "$crash" "testdata/corpus/$fuzzer/regression-${base#"$fuzzer"-}"
      echo "--- $base kept as testdata/corpus/$fuzzer/regression-${base#"$fuzzer"-}"
    else
      echo "--- $base: no testdata/corpus/$fuzzer; the input stays in $artifacts"
    fi
  done
  passed=$((passed + p))
  failed=$((failed + f))
  rm -f "$fuzz_log"
  if [[ $fuzz_rc -eq 0 ]]; then rm -rf "$artifacts"; fi
  echo "--- $p passed, $f failed"
  end "4. fuzzers"
fi

total=$(($(date +%s) - ci_start))
echo
echo "=== timings ==="
for t in "${timings[@]}"; do echo "$t"; done
printf '%-40s %4dm%02ds\n' "total" $((total / 60)) $((total % 60))
if [[ $status -ne 0 && $failed -eq 0 ]]; then failed=1; fi
echo "${passed} passed, ${failed} failed"
exit $status
