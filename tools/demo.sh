#!/usr/bin/env bash
# The demo: the real connector binary against the fake Azure (Entra ID + Log Analytics
# over HTTPS on loopback, serving the recorded workspace in testdata/) and the fake
# UTMStack engine (gRPC on a Unix socket). Installs what it needs, builds, runs
# `plugin_main run --once`, then shows what the engine received.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
echo "demo: building (the first build takes several minutes)" >&2
bazel build //plugin_main:azure_loganalytics //testdata/fake_azure:fake_azure_main \
  //testdata/fake_engine:fake_engine_main 2>&1 | grep -v linux-sandbox | tail -2 >&2
bin="$(bazel info bazel-bin 2>/dev/null)"

work="$(mktemp -d /tmp/azla-demo-XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_for_file() {
  local file="$1" what="$2"
  for _ in $(seq 1 200); do
    [[ -s "$file" ]] && return 0
    sleep 0.05
  done
  echo "demo: $what did not start; its log:" >&2
  cat "$work/$what.log" >&2
  exit 1
}

tenant=72f988bf-0000-4000-8000-000000000001
client=5b1e2c3d-0000-4000-8000-000000000002
workspace=9d8c7b6a-0000-4000-8000-000000000003
umask 077
printf '%s\n' "demo-secret-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$work/client.secret"

"$bin/testdata/fake_azure/fake_azure_main" --port=0 --ready_file="$work/azure.url" \
  --ca_out="$work/ca.pem" --tenant_id="$tenant" --client_id="$client" \
  --client_secret_file="$work/client.secret" --workspace_id="$workspace" \
  --workspace_records=testdata/azure/workspace_records.jsonl >"$work/fake_azure.log" 2>&1 &
pids+=($!)
"$bin/testdata/fake_engine/fake_engine_main" --socket="$work/engine.sock" \
  --record="$work/engine-record.jsonl" --ready_file="$work/engine.ready" \
  >"$work/fake_engine.log" 2>&1 &
pids+=($!)
wait_for_file "$work/azure.url" fake_azure
wait_for_file "$work/engine.ready" fake_engine
azure_url="$(head -n1 "$work/azure.url")"

cat >"$work/config.json" <<JSON
{
  "workspaces": [{
    "name": "demo",
    "tenant_id": "$tenant",
    "client_id": "$client",
    "client_secret_file": "$work/client.secret",
    "workspace_id": "$workspace",
    "cloud": "Custom",
    "authority_host": "$azure_url",
    "query_host": "$azure_url",
    "scope": "https://api.loganalytics.io/.default",
    "ca_file": "$work/ca.pem",
    "queries": [{"preset": "SigninLogs"}, {"preset": "AzureActivity"}, {"preset": "AuditLogs"}, {"preset": "SecurityAlert"}],
    "settle_delay": "0s",
    "start_at": "$(date -u -d "-1 day" +%Y-%m-%dT%H:%M:%SZ)"
  }],
  "engine": {"socket": "$work/engine.sock"},
  "state_dir": "$work/state",
  "log_level": "warning"
}
JSON

echo "demo: running the connector against $azure_url and $work/engine.sock" >&2
"$bin/plugin_main/azure_loganalytics" run --config="$work/config.json" --once

echo
echo "== the fake engine's record ($(wc -l <"$work/engine-record.jsonl") events; first 2) =="
head -n 2 "$work/engine-record.jsonl"
echo
echo "== status (from the checkpoints in $work/state) =="
"$bin/plugin_main/azure_loganalytics" status --config="$work/config.json"
