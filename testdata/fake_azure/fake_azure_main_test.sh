#!/usr/bin/env bash
# Starts fake_azure_main, waits for its ready file, gets a token and runs a query with
# curl(1) trusting only the CA it wrote, then stops it with SIGTERM.
set -euo pipefail
bin="testdata/fake_azure/fake_azure_main"
answer="testdata/azure/query_answer.json"
dir="$(mktemp -d /tmp/fake-azure-main-XXXXXX)"
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
  rm -rf "$dir"
}
trap cleanup EXIT

printf 'demo-secret\n' >"$dir/secret"
"$bin" --ready_file="$dir/url" --ca_out="$dir/ca.pem" --client_secret_file="$dir/secret" \
  --tenant_id=t1 --client_id=c1 --workspace_id=w1 --answer="$answer" >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do [[ -s "$dir/url" ]] && break; sleep 0.05; done
url="$(cat "$dir/url")"
[[ "$url" =~ ^https://127\.0\.0\.1:[0-9]+$ ]] || { echo "bad ready file: '$url'"; cat "$dir/log"; exit 1; }
grep -q "BEGIN CERTIFICATE" "$dir/ca.pem"

token_json="$(curl -sS --cacert "$dir/ca.pem" -d grant_type=client_credentials -d client_id=c1 \
  --data-urlencode scope=https://api.loganalytics.io/.default -d client_secret=demo-secret \
  "$url/t1/oauth2/v2.0/token")"
token="$(printf '%s' "$token_json" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"
[[ -n "$token" ]] || { echo "no token in: $token_json"; exit 1; }

wrong="$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$dir/ca.pem" -d grant_type=client_credentials \
  -d client_id=c1 --data-urlencode scope=https://api.loganalytics.io/.default -d client_secret=nope \
  "$url/t1/oauth2/v2.0/token")"
[[ "$wrong" == 401 ]] || { echo "wrong secret gave $wrong"; exit 1; }

curl -sS --cacert "$dir/ca.pem" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"query":"SigninLogs"}' "$url/v1/workspaces/w1/query" >"$dir/answer"
cmp "$dir/answer" "$answer" || { echo "answer differs from $answer"; exit 1; }

# Without the CA the handshake must fail.
if curl -sS -o /dev/null "$url/t1/oauth2/v2.0/token" 2>/dev/null; then
  echo "TLS accepted without the test CA"; exit 1
fi

kill -TERM "$pid"
wait "$pid"
pid=""
grep -q "stopping on signal 15" "$dir/log" || { cat "$dir/log"; exit 1; }
echo "fake_azure_main ok"
