#!/usr/bin/env bash
# Builds and runs libFuzzer targets under clang + ASan + UBSan (--config=fuzz) in an output
# base of their own, so the gcc build in the default output base stays warm.
#
#   tools/fuzz.sh //azure_auth:token_response_fuzzer 60      # one target, 60 s
#   tools/fuzz.sh all 60                                     # every target tagged "fuzz"
#
# The corpus of each run is the target's seeds (copied to a scratch folder, so the
# checked-in seeds are not rewritten). Crashes land in $FUZZ_ARTIFACTS (default
# /tmp/fuzz-artifacts) and make the script exit non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: tools/fuzz.sh //pkg:target|all [seconds]}"
seconds="${2:-60}"
root="$(pwd)"
output_base="${FUZZ_OUTPUT_BASE:-$HOME/.cache/bazel-fuzz/$(echo -n "$root" | md5sum | cut -c1-16)}"
artifacts="${FUZZ_ARTIFACTS:-/tmp/fuzz-artifacts}"
mkdir -p "$artifacts"
bazel_fuzz() { bazel --output_base="$output_base" "$@"; }

if [[ "$target" == all ]]; then
  # Every top-level folder with packages, but not Bazel's convenience links (bazel-*):
  # they may point into the other output base, whose external repositories this one
  # cannot load, and //... would walk into them.
  universe=""
  for d in */; do
    d="${d%/}"
    [[ "$d" == bazel-* ]] && continue
    [[ -n "$(find "$d" \( -name BUILD.bazel -o -name BUILD \) -print -quit)" ]] || continue
    universe+="${universe:+ + }//$d/..."
  done
  if ! query_out="$(bazel_fuzz query "attr(tags, '\bfuzz\b', kind(cc_binary, $universe))" 2>&1)"; then
    echo "fuzz: cannot list the fuzz targets:" >&2
    echo "$query_out" | tail -20 >&2
    exit 1
  fi
  mapfile -t targets < <(echo "$query_out" | grep '^//')
  if (( ${#targets[@]} == 0 )); then
    echo "fuzz: no target tagged \"fuzz\" found under $universe" >&2
    exit 1
  fi
else
  targets=("$target")
fi
# No convenience links: they would replace the gcc build's bazel-* links.
bazel_fuzz build --config=fuzz --symlink_prefix=/ "${targets[@]}"
bin="$(bazel_fuzz info --config=fuzz bazel-bin 2>/dev/null)"
status=0
for t in "${targets[@]}"; do
  pkg="${t#//}"; pkg="${pkg%%:*}"; name="${t##*:}"
  seeds="$root/testdata/corpus/$name"
  corpus="$(mktemp -d "/tmp/corpus-$name-XXXXXX")"
  if [[ -d "$seeds" ]]; then cp -r "$seeds/." "$corpus/"; rm -f "$corpus/BUILD.bazel"; fi
  echo "fuzz: $t for ${seconds}s (seeds: $(ls "$corpus" | wc -l))" >&2
  log="$artifacts/$name.log"
  if "$bin/$pkg/$name" -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1 \
       -artifact_prefix="$artifacts/$name-" "$corpus" >"$log" 2>&1; then
    echo "fuzz: $t ok, $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') execs" >&2
  else
    echo "fuzz: $t FAILED; see $log" >&2
    tail -40 "$log" >&2
    status=1
  fi
  rm -rf "$corpus"
done
exit $status
