#!/usr/bin/env bash
# Builds the connector and the two fakes, copies the binaries out of bazel-bin (another
# build in this tree may switch what bazel-bin points at while the suite runs), and runs
# the fault suite with them. Arguments go to e2e/fault_suite.py:
#
#   e2e/run.sh                                   # the short suite (CI), ~5 minutes
#   e2e/run.sh --scenarios sigkill,fs_full --keep
#   e2e/run.sh --long                            # larger workload per scenario
#   e2e/run.sh --soak --soak_seconds 3600 --soak_records 10000000   # the 1 h soak
#
# Exit status: the completeness report's (non-zero when a record was lost, a bound or
# a check failed).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(//plugin_main:azure_loganalytics //testdata/fake_azure:fake_azure_main
         //testdata/fake_engine:fake_engine_main)
if ! bazel build "${targets[@]}" >/tmp/azla-e2e-build.$$.log 2>&1; then
  grep -v linux-sandbox /tmp/azla-e2e-build.$$.log | tail -30 >&2
  rm -f /tmp/azla-e2e-build.$$.log
  exit 1
fi
rm -f /tmp/azla-e2e-build.$$.log
bin="$(bazel info bazel-bin 2>/dev/null)"
stage="$(mktemp -d /tmp/azla-e2e-bin-XXXXXX)"
trap 'rm -rf "$stage"' EXIT
for p in plugin_main/azure_loganalytics testdata/fake_azure/fake_azure_main \
         testdata/fake_engine/fake_engine_main; do
  mkdir -p "$stage/$(dirname "$p")"
  cp "$bin/$p" "$stage/$p"
done
python3 e2e/fault_suite.py --bin_dir "$stage" "$@"
