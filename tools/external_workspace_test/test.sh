#!/usr/bin/env bash
# Checks that another Bazel workspace can use this toolkit as an external repository.
#
# It copies consumer/ (a small workspace of "another team": a WORKSPACE that declares
# the toolkit with local_repository and calls azure_la_dependencies(), a .bazelrc, a
# cc_binary, a cc_test and an sh_test over public targets) to a scratch directory outside
# the checkout, points it at this checkout, and runs `bazel test //...` there.
#
# The consumer gets a Bazel server and output base of its own (under the scratch
# directory), so the checkout's server, its output base and its C++ configuration are
# left alone; the consumer's server is shut down at the end. The output base is kept
# between runs (incremental); --fresh starts from an empty one.
#
#   tools/external_workspace_test/test.sh            # incremental
#   tools/external_workspace_test/test.sh --fresh    # from scratch, as a new clone would
#
# Environment: AZURE_LA_CONSUMER_DIR overrides the scratch directory (default
# /tmp/azure-la-consumer-<hash of the toolkit path>); AZURE_LA_TOOLKIT points the
# consumer at another copy of the toolkit (default: this checkout);
# AZURE_LA_CONSUMER_DISK_CACHE moves Bazel's disk cache (default
# ~/.cache/azure-la-consumer-disk, kept between runs).
# Prints "external workspace check: PASSED" or "... FAILED" last; exit status 0 or 1.
set -euo pipefail

script="$(readlink -f "${BASH_SOURCE[0]}")"
here="$(dirname "$script")"
repo="$(cd "${AZURE_LA_TOOLKIT:-$here/../..}" && pwd)"
fresh=0
for arg in "$@"; do
  case "$arg" in
    --fresh) fresh=1 ;;
    *) echo "usage: $0 [--fresh]" >&2; exit 2 ;;
  esac
done

hash="$(printf '%s' "$repo" | md5sum | cut -c1-8)"
scratch="${AZURE_LA_CONSUMER_DIR:-/tmp/azure-la-consumer-$hash}"
workspace="$scratch/workspace"
output_base="$scratch/output_base"
disk_cache="${AZURE_LA_CONSUMER_DISK_CACHE:-${HOME:-/root}/.cache/azure-la-consumer-disk}"

fail() {
  echo "external workspace check: FAILED ($*)"
  exit 1
}

# deps.bzl declares the system libraries itself (third_party/system_libraries.bzl resolves
# its BUILD files against the main repository, so a consumer cannot call it); both must
# name the same libraries.
ours="$(sed -n '/^_SYSTEM_LIBRARIES = \[/,/^\]/p' "$repo/deps.bzl" | grep -o '"[a-z_+]*"' | sort)"
theirs="$(sed -n '/^_LIBRARIES = {/,/^}/p' "$repo/third_party/system_libraries.bzl" |
          grep -o '^ *"[a-z_+]*":' | grep -o '"[a-z_+]*"' | sort)"
if [[ "$ours" != "$theirs" ]]; then
  echo "deps.bzl names: $(echo $ours)" >&2
  echo "third_party/system_libraries.bzl names: $(echo $theirs)" >&2
  fail "deps.bzl and third_party/system_libraries.bzl declare different libraries"
fi

if ((fresh)) && [[ -d "$output_base" ]]; then
  # Stop a server left from an earlier run before its output base goes away.
  bazel --output_base="$output_base" shutdown >/dev/null 2>&1 || true
  chmod -R u+w "$output_base" 2>/dev/null || true
  rm -rf "$output_base"
fi
rm -rf "$workspace"
mkdir -p "$workspace" "$output_base"
cp -R "$here/consumer/." "$workspace/"
sed "s|@AZURE_LA_PATH@|$repo|" "$workspace/WORKSPACE.in" >"$workspace/WORKSPACE"
mv "$workspace/BUILD.bazel.in" "$workspace/BUILD.bazel"
rm "$workspace/WORKSPACE.in"

echo "external workspace check: consumer in $workspace, toolkit at $repo" >&2
started=$(date +%s)
startup=(--output_base="$output_base" --max_idle_secs=300)
if [[ -n "${TEST_TMPDIR:-}" || -z "${HOME:-}" ]]; then
  # Run by `bazel test` (no usable HOME): keep Bazel's install base in the scratch too.
  startup+=(--output_user_root="$scratch/user_root")
fi
consumer_bazel() {
  # --max_idle_secs: the server goes away by itself should this script be killed.
  (cd "$workspace" && bazel "${startup[@]}" "$@")
}
trap 'consumer_bazel shutdown >/dev/null 2>&1 || true' EXIT

rc=0
consumer_bazel test --symlink_prefix=/ --disk_cache="$disk_cache" \
  --cache_test_results=no --test_summary=short //... || rc=$?
elapsed=$(($(date +%s) - started))
if ((rc != 0)); then
  fail "bazel test //... in the consumer workspace exited with $rc after ${elapsed}s"
fi
echo "external workspace check: PASSED in ${elapsed}s"
