"""Tests of completeness_report.py on small hand-made runs."""

import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import completeness_report  # noqa: E402

S = 10**9


def log_line(item_id, n=0):
    raw = json.dumps({"TenantId": "w", "Sequence": n, "Type": "SigninLogs", "_ItemId": item_id})
    return json.dumps({"id": "x-%d" % n, "dataType": "azure", "raw": raw}) + "\n"


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="report-test-")
        self.dir = os.path.join(self.root, "sigkill")
        os.makedirs(self.dir)
        # Ten records, ingested at 100 s .. 109 s, half of them in each table.
        with open(os.path.join(self.dir, "expected.tsv"), "w") as f:
            for i in range(10):
                table = "SigninLogs" if i % 2 == 0 else "AuditLogs"
                f.write("id-%d\t%s\t%d\t%d\t%d\n" % (i, table, (100 + i) * S, (100 + i) * S,
                                                     (90 + i) * S))

    def tearDown(self):
        shutil.rmtree(self.root)

    def write_meta(self, **meta):
        meta.setdefault("name", "sigkill")
        meta.setdefault("records", 10)
        meta.setdefault("settle_seconds", 0)
        with open(os.path.join(self.dir, "scenario.json"), "w") as f:
            json.dump(meta, f)

    def write_records(self, name, ids, torn=None):
        with open(os.path.join(self.dir, name), "w") as f:
            for n, item in enumerate(ids):
                f.write(log_line(item, n))
            if torn:
                f.write(log_line(torn)[:25])

    def test_complete_run_without_duplicates(self):
        self.write_meta()
        self.write_records("record-1.jsonl", ["id-%d" % i for i in range(10)])
        row = completeness_report.evaluate(self.dir)
        self.assertEqual((row["expected"], row["delivered"], row["duplicates"], row["lost"]),
                         (10, 10, 0, 0))
        self.assertEqual(row["problems"], [])
        self.assertEqual(completeness_report.main(["r", self.root]), 0)

    def test_lost_record_fails_and_is_named(self):
        self.write_meta()
        self.write_records("record-1.jsonl", ["id-%d" % i for i in range(9)], torn="id-9")
        row = completeness_report.evaluate(self.dir)
        self.assertEqual(row["lost"], 1)
        self.assertEqual(row["torn"], 1)  # the torn line does not count as delivered
        self.assertTrue(any("id-9" in p for p in row["problems"]))
        self.assertEqual(completeness_report.main(["r", self.root]), 1)

    def test_duplicates_within_the_bound_of_a_kill(self):
        # Killed at 106 s with both cursors at 104 s: with the 120 s overlap, records
        # ingested up to the kill + 2 s of slack may come again: ids 0 .. 8, not 9 (109 s).
        self.write_meta(kills=[{"t_ns": 106 * S, "cursors": {"SigninLogs": 104 * S,
                                                            "AuditLogs": 104 * S}}])
        self.write_records("record-1.jsonl", ["id-%d" % i for i in range(7)])
        self.write_records("record-2.jsonl", ["id-0", "id-2", "id-4", "id-6"] +
                           ["id-%d" % i for i in range(7, 10)])
        row = completeness_report.evaluate(self.dir)
        self.assertEqual(row["bound"], 9)
        self.assertEqual(row["duplicates"], 4)
        self.assertEqual(row["problems"], [])

    def test_duplicates_beyond_the_bound_fail(self):
        self.write_meta()
        self.write_records("record-1.jsonl", ["id-%d" % i for i in range(10)] + ["id-3"])
        row = completeness_report.evaluate(self.dir)
        self.assertEqual(row["duplicates"], 1)
        self.assertEqual(row["bound"], 0)
        self.assertTrue(any("exceed" in p for p in row["problems"]))

    def test_engine_interruptions_allow_a_window_of_resends(self):
        self.write_meta(engine_interruptions=2)
        self.write_records("record-1.jsonl", ["id-%d" % i for i in range(10)])
        self.write_records("record-2.jsonl", ["id-%d" % i for i in range(5, 10)])
        row = completeness_report.evaluate(self.dir)
        self.assertEqual(row["bound"], 2 * completeness_report.WINDOW_LOGS)
        self.assertEqual(row["problems"], [])

    def test_unknown_records_and_failed_checks_fail(self):
        self.write_meta(checks=[{"name": "clean exit on SIGTERM", "ok": False,
                                 "detail": "exit code 1"}])
        self.write_records("record-1.jsonl", ["id-%d" % i for i in range(10)] + ["stranger"])
        row = completeness_report.evaluate(self.dir)
        self.assertEqual(row["unknown"], 1)
        self.assertEqual(len(row["problems"]), 2)
        table = completeness_report.format_table([row])
        self.assertIn("| sigkill  |       10 |        10 |          0 |         0 |    0 | FAILED |",
                      table)

    def test_skipped_scenario_is_shown_and_not_counted_as_lost(self):
        self.write_meta(skipped="cannot mount")
        row = completeness_report.evaluate(self.dir)
        self.assertIn("SKIPPED", completeness_report.format_table([row]))
        self.assertEqual(completeness_report.main(["r", self.root]), 0)


if __name__ == "__main__":
    unittest.main()
