#!/usr/bin/env bash
# fake_azure_main's generated workload and extra faults, driven with curl(1): records
# arrive over time and are listed in --expected_out (with a .done marker), an endless
# body keeps coming until the client hangs up, tokens die before their advertised
# expiry, and a rotated secret file makes the old secret fail.
set -euo pipefail
bin="testdata/fake_azure/fake_azure_main"
dir="$(mktemp -d /tmp/fake-azure-wl-XXXXXX)"
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$dir/log" || true; exit 1; }

printf 'first-secret\n' >"$dir/secret"
"$bin" --ready_file="$dir/url" --ca_out="$dir/ca.pem" --client_secret_file="$dir/secret" \
  --tenant_id=t1 --client_id=c1 --workspace_id=w1 --workload_rate=200 \
  --workload_records=300 --workload_backlog=100 --expected_out="$dir/expected.tsv" \
  --endless_rate=1 --reread_secret_file --token_valid_seconds=1 >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do [[ -s "$dir/url" ]] && break; sleep 0.05; done
url="$(cat "$dir/url")"

token_for() {
  curl -sS --cacert "$dir/ca.pem" -d grant_type=client_credentials -d client_id=c1 \
    --data-urlencode scope=https://api.loganalytics.io/.default -d "client_secret=$1" \
    -w '\n%{http_code}' "$url/t1/oauth2/v2.0/token"
}
answer="$(token_for first-secret)"
[[ "$(tail -n1 <<<"$answer")" == 200 ]] || fail "first secret refused: $answer"
token="$(head -n1 <<<"$answer" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"
grep -q '"expires_in":3599' <<<"$answer" || fail "advertised lifetime missing: $answer"

# Endless body: read 8 MiB of it, then hang up; it was still going.
# (curl exits 23 when head(1) hangs up: that is the point, so no pipefail here.)
bytes="$(set +o pipefail; curl -sS --cacert "$dir/ca.pem" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"query":"SigninLogs"}' \
  "$url/v1/workspaces/w1/query" 2>/dev/null | head -c 8388608 | wc -c)"
[[ "$bytes" == 8388608 ]] || fail "endless body ended after $bytes bytes"

# The token stops working after 1 s although it advertised an hour.
sleep 1.5
code="$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$dir/ca.pem" \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"query":"SigninLogs"}' "$url/v1/workspaces/w1/query")"
[[ "$code" == 401 ]] || fail "expired token gave $code"

# Rotation: only the secret the file holds now is accepted.
printf 'second-secret\n' >"$dir/secret.new" && mv "$dir/secret.new" "$dir/secret"
[[ "$(token_for first-secret | tail -n1)" == 401 ]] || fail "old secret still accepted"
[[ "$(token_for second-secret | tail -n1)" == 200 ]] || fail "new secret refused"

# Every record is listed once the workload is complete.
for _ in $(seq 1 100); do [[ -s "$dir/expected.tsv.done" ]] && break; sleep 0.05; done
[[ "$(cat "$dir/expected.tsv.done")" == 300 ]] || fail "no .done marker with 300"
[[ "$(wc -l <"$dir/expected.tsv")" == 300 ]] || fail "expected.tsv does not list 300 records"
[[ "$(cut -f1 "$dir/expected.tsv" | sort -u | wc -l)" == 300 ]] || fail "item ids repeat"

kill -TERM "$pid"
wait "$pid"
pid=""
grep -q "generated 300 records" "$dir/log" || fail "no generation summary"
grep -q "1 endless" "$dir/log" || fail "endless fault not counted"
echo "fake_azure_main workload ok"
