#!/usr/bin/env python3
"""Completeness report of a fault-suite run: did every record reach the engine?

For each scenario directory of a run (written by e2e/fault_suite.py) it compares

  expected.tsv      every record the fake workspace held (fake_azure_main
                    --expected_out: item_id, table, ingestion/visible/generated ns)
  record-*.jsonl    every Log the fake engine received, one JSON line each, across
                    engine restarts (Log.raw carries the record's _ItemId)
  scenario.json     what the suite did (kills with the checkpoint cursors at each,
                    engine interruptions, checks it made)

and prints one row per scenario: records expected, delivered (unique), duplicated,
the duplicate bound, lost. The bound is computed from what happened (see
e2e/README.md, "Duplicates"):

  for each SIGKILL of the connector and each query q with saved cursor c_q:
      the records of q ingested in [c_q - overlap, t_kill - settle]
  + window_logs (4096) for each interruption of the engine's stream
  + max_take (page rows + remembered rows) for each page the connector re-read after
    the engine did not take or acknowledge it in time

Exit status: 0 when every scenario delivered every record (0 lost), stayed within its
duplicate bound and passed its checks; 1 otherwise; 2 for unusable input.

  e2e/completeness_report.py /tmp/azla-e2e-XXXX            # every scenario in the run
  e2e/completeness_report.py /tmp/azla-e2e-XXXX/sigkill    # one scenario
"""

import bisect
import glob
import json
import os
import re
import sys

# loganalytics::PaginatorOptions defaults the connector runs with.
OVERLAP_NS = 120 * 10**9
MAX_TAKE = 100000 + 20000
# utmstack_sink::EngineSinkOptions::window_logs.
WINDOW_LOGS = 4096
# Clock slack between the suite's time and the connector's horizon.
SLACK_NS = 2 * 10**9

# In a record line, Log.raw is a JSON string, so its quotes are escaped.
_ITEM_ID = re.compile(rb'\\"_ItemId\\":\s*\\"([^"\\]+)\\"')


def load_expected(path):
    """item_id -> (table, ingestion_ns) for every record the workspace held."""
    expected = {}
    with open(path, "rb") as f:
        for line in f:
            parts = line.rstrip(b"\n").split(b"\t")
            if len(parts) < 3:
                continue
            expected[parts[0].decode()] = (parts[1].decode(), int(parts[2]))
    return expected


def scan_records(paths):
    """(count per _ItemId, torn lines, lines without an _ItemId) over record files.

    A torn line is an incomplete last line of a file whose engine was killed: the Log
    on it was never acknowledged, so the connector sent it again."""
    counts = {}
    torn = 0
    no_id = 0
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        elif lines:
            lines.pop()  # no newline at the end: torn
            torn += 1
        for line in lines:
            m = _ITEM_ID.search(line)
            if m is None:
                no_id += 1
                continue
            item = m.group(1).decode()
            counts[item] = counts.get(item, 0) + 1
    return counts, torn, no_id


def record_files(scenario_dir):
    return sorted(glob.glob(os.path.join(scenario_dir, "record-*.jsonl")))


def duplicate_bound(meta, expected):
    """The most duplicates the scenario's events can explain (see the module doc)."""
    settle_ns = int(meta.get("settle_seconds", 0) * 10**9)
    by_table = {}
    for table, ingestion in expected.values():
        by_table.setdefault(table, []).append(ingestion)
    for times in by_table.values():
        times.sort()
    bound = 0
    for kill in meta.get("kills", []):
        upper = kill["t_ns"] - settle_ns + SLACK_NS
        for table, cursor_ns in kill["cursors"].items():
            times = by_table.get(table, [])
            lo = bisect.bisect_left(times, cursor_ns - OVERLAP_NS)
            hi = bisect.bisect_right(times, upper)
            bound += max(0, hi - lo)
    bound += meta.get("engine_interruptions", 0) * WINDOW_LOGS
    bound += meta.get("sink_rereads", 0) * MAX_TAKE
    return bound


def evaluate(scenario_dir):
    """The report row of one scenario, as a dict."""
    meta_path = os.path.join(scenario_dir, "scenario.json")
    meta = {}
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
    name = meta.get("name", os.path.basename(scenario_dir.rstrip("/")))
    row = {"scenario": name, "problems": []}
    if meta.get("skipped"):
        row.update(skipped=meta["skipped"], expected=0, delivered=0, duplicates=0,
                   bound=0, lost=0, unknown=0, torn=0)
        return row
    expected_path = os.path.join(scenario_dir, "expected.tsv")
    checks = ["%s: %s" % (c["name"], c.get("detail", "failed"))
              for c in meta.get("checks", []) if not c.get("ok")]
    if not os.path.exists(expected_path):
        row.update(expected=0, delivered=0, duplicates=0, bound=0, lost=0, unknown=0, torn=0)
        if meta.get("records") is not None or not meta:
            row["problems"].append("no expected.tsv (the workload did not start)")
        row["problems"] += checks
        return row
    expected = load_expected(expected_path)
    counts, torn, no_id = scan_records(record_files(scenario_dir))
    delivered = sum(1 for item in counts if item in expected)
    duplicates = sum(c - 1 for c in counts.values() if c > 1)
    unknown = sum(1 for item in counts if item not in expected)
    bound = duplicate_bound(meta, expected)
    lost = len(expected) - delivered
    row.update(expected=len(expected), delivered=delivered, duplicates=duplicates,
               bound=bound, lost=lost, unknown=unknown, torn=torn)
    if meta.get("records") is not None and meta["records"] != len(expected):
        row["problems"].append(
            "the workload listed %d records, %d were asked for" % (len(expected), meta["records"]))
    if lost:
        missing = sorted(item for item in expected if item not in counts)[:5]
        row["problems"].append("%d lost, e.g. %s" % (lost, ", ".join(missing)))
    if duplicates > bound:
        row["problems"].append("%d duplicates exceed the bound of %d" % (duplicates, bound))
    if unknown:
        row["problems"].append("%d delivered records are not in the workspace" % unknown)
    if no_id:
        row["problems"].append("%d engine lines carry no _ItemId" % no_id)
    row["problems"] += checks
    return row


def scenario_dirs(path):
    if os.path.exists(os.path.join(path, "scenario.json")) or os.path.exists(
            os.path.join(path, "expected.tsv")):
        return [path]
    dirs = [d for d in sorted(glob.glob(os.path.join(path, "*")))
            if os.path.isdir(d) and os.path.exists(os.path.join(d, "scenario.json"))]
    order = os.path.join(path, "order.json")
    if os.path.exists(order):
        with open(order) as f:
            names = json.load(f)
        rank = {n: i for i, n in enumerate(names)}
        dirs.sort(key=lambda d: rank.get(os.path.basename(d), len(rank)))
    return dirs


def format_table(rows):
    header = ["scenario", "expected", "delivered", "duplicated", "dup bound", "lost", "result"]
    lines = []
    body = []
    for r in rows:
        if r.get("skipped"):
            result = "SKIPPED"
        else:
            result = "ok" if not r["problems"] else "FAILED"
        body.append([r["scenario"], str(r["expected"]), str(r["delivered"]),
                     str(r["duplicates"]), str(r["bound"]), str(r["lost"]), result])
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
              for i, h in enumerate(header)]

    def fmt(cells):
        out = [cells[0].ljust(widths[0])]
        out += [c.rjust(widths[i]) for i, c in enumerate(cells[1:-1], 1)]
        out.append(cells[-1].ljust(widths[-1]))
        return "| " + " | ".join(out) + " |"

    lines.append(fmt(header))
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for b in body:
        lines.append(fmt(b))
    total = [r for r in rows if not r.get("skipped")]
    lines.append("total: %d expected, %d delivered, %d duplicated, %d lost in %d scenario(s)" % (
        sum(r["expected"] for r in total), sum(r["delivered"] for r in total),
        sum(r["duplicates"] for r in total), sum(r["lost"] for r in total), len(total)))
    for r in rows:
        if r.get("skipped"):
            lines.append("  %s skipped: %s" % (r["scenario"], r["skipped"]))
        for p in r["problems"]:
            lines.append("  %s: %s" % (r["scenario"], p))
    return "\n".join(lines)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    dirs = scenario_dirs(argv[1])
    if not dirs:
        sys.stderr.write("completeness_report: no scenario under %s\n" % argv[1])
        return 2
    rows = [evaluate(d) for d in dirs]
    print(format_table(rows))
    bad = [r for r in rows if r["problems"] or r["lost"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
