#!/usr/bin/env bash
# Runs answer_to_jsonl on the toolkit's recorded answer: six rows, six JSON lines.
set -euo pipefail
binary="$1"
answer="$2"
out="$("$binary" "$answer" 2>/dev/null)"
lines="$(printf '%s\n' "$out" | grep -c '"dataSource":"consumer"')"
if [[ "$lines" != 6 ]]; then
  echo "expected 6 JSON lines with dataSource consumer, got $lines:" >&2
  printf '%s\n' "$out" >&2
  exit 1
fi
if "$binary" /nonexistent 2>/dev/null; then
  echo "expected a failure for a missing file" >&2
  exit 1
fi
echo "answer_to_jsonl: 6 lines"
