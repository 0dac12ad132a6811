#!/usr/bin/env bash
# Writes a C++ header that holds each recorded body as a raw string literal.
#   embed_bodies.sh OUT.h FILE...
# token_v2_success.json becomes azure_testdata::kTokenV2Success.
set -euo pipefail
out="$1"; shift
delim='recorded_body'
{
  echo '// File: testdata/azure/recorded_bodies.h'
  echo '//'
  echo '// Generated from the recorded Azure answers in testdata/azure/ (embed_bodies.sh):'
  echo '// each file is one std::string_view constant, byte for byte, so tests and fakes'
  echo '// need no runfiles lookup. See testdata/azure/BUILD.bazel for what each one is.'
  echo '//'
  echo '// Example:'
  echo '//   fake_azure::FakeAzureServer::Options options;'
  echo '//   options.answer_body = std::string(azure_testdata::kQueryAnswer);'
  echo '//'
  echo '// Constants only: thread-safe.'
  echo '#ifndef TESTDATA_AZURE_RECORDED_BODIES_H_'
  echo '#define TESTDATA_AZURE_RECORDED_BODIES_H_'
  echo
  echo '#include <string_view>'
  echo
  echo 'namespace azure_testdata {'
  for f in "$@"; do
    base="$(basename "$f" .json)"
    if grep -q ")${delim}\"" "$f"; then
      echo "embed_bodies.sh: $f contains the raw-string delimiter" >&2
      exit 1
    fi
    name="k$(echo "$base" | awk -F_ '{for (i = 1; i <= NF; i++) printf "%s", toupper(substr($i,1,1)) substr($i,2)}')"
    echo
    echo "// $(basename "$f")"
    printf 'inline constexpr std::string_view %s = R"%s(' "$name" "$delim"
    cat "$f"
    printf ')%s";\n' "$delim"
  done
  echo
  echo '}  // namespace azure_testdata'
  echo
  echo '#endif  // TESTDATA_AZURE_RECORDED_BODIES_H_'
} >"$out"
