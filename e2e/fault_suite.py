#!/usr/bin/env python3
"""End-to-end fault suite: the real connector binary against the fake Azure and the fake
engine, one scenario per fault, each proving that every record of the workspace reached
the engine.

Each scenario starts fake_azure_main with a generated workload (records arriving while
the connector runs, late TimeGenerated, delayed visibility) and its fault flags,
fake_engine_main with a record file, and `azure_loganalytics run --config ...`; it then
plays its fault (kills, engine restarts, a full state file system, secret rotation ...),
waits until the workload is complete and the engine holds every record (or a time
limit), stops the connector with SIGTERM and checks:

  - every record reached the engine, duplicates within the bound (completeness_report.py)
  - the connector never exited by itself, and exits 0 on SIGTERM
  - every stderr line is a JSON log line; each fault left its log line
  - state directory 0700, checkpoint files 0600
and, once for the whole run, that no secret or token appears in anything it wrote.

  e2e/fault_suite.py --bin_dir "$(bazel info bazel-bin)"              # short (CI)
  e2e/fault_suite.py --bin_dir ... --scenarios sigkill,fs_full --keep
  e2e/fault_suite.py --bin_dir ... --soak --soak_seconds 3600 --soak_records 10000000

Use e2e/run.sh, which builds the binaries first. Needs root for the fs_full scenario
(a small tmpfs); without it that scenario is reported as skipped, with the reason.
Only loopback and Unix sockets under /tmp are used.
"""

import argparse
import errno
import json
import os
import random
import re
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import completeness_report  # noqa: E402

TENANT = "72f988bf-0000-4000-8000-00000000e2e1"
CLIENT = "5b1e2c3d-0000-4000-8000-00000000e2e2"
WORKSPACE = "9d8c7b6a-0000-4000-8000-00000000e2e3"
TABLES = ["SigninLogs", "AuditLogs", "AzureActivity", "SecurityAlert"]
TOKEN_PREFIX = "fake-la-token"
SETTLE_SECONDS = 2


def now_ns():
    return time.time_ns()


def parse_rfc3339_ns(text):
    """'2026-11-27T08:23:10.2914097Z' -> Unix ns (UTC); None for ''."""
    if not text:
        return None
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    if not m:
        raise ValueError("not an RFC 3339 time: %r" % text)
    import calendar
    y, mo, d, h, mi, s, frac, zone = m.groups()
    secs = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(s)))
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        secs -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    ns = int((frac or "0").ljust(9, "0")[:9])
    return secs * 10**9 + ns


class Progress:
    """Incremental view of the expected records still missing from the record files."""

    def __init__(self, expected_path):
        self.missing = set(completeness_report.load_expected(expected_path))
        self.offsets = {}

    def complete(self, record_files):
        for path in record_files:
            offset = self.offsets.get(path, 0)
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read()
            end = data.rfind(b"\n") + 1  # complete lines only
            for m in completeness_report._ITEM_ID.finditer(data[:end]):
                self.missing.discard(m.group(1).decode())
            self.offsets[path] = offset + end
        return not self.missing


class Check:
    def __init__(self):
        self.items = []

    def add(self, name, ok, detail=""):
        self.items.append({"name": name, "ok": bool(ok), "detail": detail})
        return ok


class Scenario:
    """One fault and its expectations. `play(run)` acts during the arrival phase."""

    def __init__(self, name, about, fake_flags=(), engine_flags=(), play=None,
                 log_patterns=(), quiet=False, live_seconds=None, prepare=None,
                 drain_seconds=90, secret_mode=0o600, max_rss_mb=512):
        self.name = name
        self.about = about
        self.fake_flags = list(fake_flags)
        self.engine_flags = list(engine_flags)
        self.play = play
        # (label, regex): each must match at least one warning/error log line.
        self.log_patterns = list(log_patterns)
        # No warning or error line at all is expected.
        self.quiet = quiet
        self.live_seconds = live_seconds
        self.prepare = prepare
        self.drain_seconds = drain_seconds
        self.secret_mode = secret_mode
        # The connector's peak resident memory must stay below this.
        self.max_rss_mb = max_rss_mb


class Run:
    """The processes and files of one scenario."""

    def __init__(self, suite, scenario, directory):
        self.suite = suite
        self.scenario = scenario
        self.dir = directory
        self.bins = suite.bins
        self.checks = Check()
        self.kills = []
        self.engine_interruptions = 0
        self.connector = None
        self.connector_runs = []
        self.engine = None
        self.engine_runs = 0
        self.fake = None
        self.secret_values = []
        self.secret_path = os.path.join(self.dir, "client.secret")
        self.state_dir = os.path.join(self.dir, "state")
        self.socket = os.path.join(self.dir, "engine.sock")
        self.expected = os.path.join(self.dir, "expected.tsv")
        self.unexpected_exits = []
        self.peak_rss_kb = 0
        self.mounted = None
        self.started = time.time()
        self.notes = []
        self.progress = None

    # -- files ------------------------------------------------------------------------

    def write_secret(self, value=None):
        value = value or "e2e-secret-" + secrets.token_urlsafe(18)
        tmp = self.secret_path + ".new"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value + "\n")
        os.chmod(tmp, self.scenario.secret_mode)
        os.rename(tmp, self.secret_path)
        self.secret_values.append(value)
        self.suite.secrets.append(value)
        return value

    def write_config(self, path, url, ca_file, extra=None, start_at=None, ws_extra=None):
        ws = {
            "name": "e2e",
            "tenant_id": TENANT,
            "client_id": CLIENT,
            "client_secret_file": self.secret_path,
            "workspace_id": WORKSPACE,
            "cloud": "Custom",
            "authority_host": url,
            "query_host": url,
            "scope": "https://api.loganalytics.io/.default",
            "queries": [{"preset": t} for t in TABLES],
            "poll_interval": "1s",
            "settle_delay": "%ds" % SETTLE_SECONDS,
            "lookback": "48h",
            "start_at": start_at or self.start_at,
        }
        if ca_file:
            ws["ca_file"] = ca_file
        ws.update(ws_extra or {})
        config = {"workspaces": [ws], "engine": {"socket": self.socket},
                  "state_dir": self.state_dir, "log_level": "info"}
        if extra:
            config.update(extra)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(config, f, indent=2)
        return path

    # -- processes --------------------------------------------------------------------

    def spawn(self, argv, name):
        out = open(os.path.join(self.dir, name + ".out"), "ab")
        err = open(os.path.join(self.dir, name + ".err"), "ab")
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=self.dir)
        out.close()
        err.close()
        return proc

    def wait_file(self, path, what, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(path) and os.path.getsize(path) > 0:
                return True
            time.sleep(0.05)
        raise RuntimeError("%s did not start (no %s)" % (what, path))

    def start_fake(self):
        p = self.suite.params
        flags = [
            "--port=0", "--ready_file=" + os.path.join(self.dir, "azure.url"),
            "--ca_out=" + os.path.join(self.dir, "ca.pem"), "--tenant_id=" + TENANT,
            "--client_id=" + CLIENT, "--client_secret_file=" + self.secret_path,
            "--workspace_id=" + WORKSPACE, "--workload_rate=%g" % p["rate"],
            "--workload_records=%d" % self.records, "--workload_backlog=%d" % p["backlog"],
            "--workload_backlog_span=%ds" % p["backlog_span"],
            "--workload_seed=%d" % self.seed, "--fault_seed=%d" % self.seed,
            "--visibility_delay_max=%ds" % p["visibility_max"],
            "--expected_out=" + self.expected,
        ] + ["--retention=%ds" % p["retention"]] * (p["retention"] > 0) + self.scenario.fake_flags
        self.fake = self.spawn([self.bins["fake_azure"]] + flags, "fake_azure")
        self.wait_file(os.path.join(self.dir, "azure.url"), "fake_azure_main")
        with open(os.path.join(self.dir, "azure.url")) as f:
            self.url = f.read().strip()
        self.ca = os.path.join(self.dir, "ca.pem")

    def start_engine(self):
        self.engine_runs += 1
        ready = os.path.join(self.dir, "engine.ready")
        if os.path.exists(ready):
            os.unlink(ready)
        flags = ["--socket=" + self.socket,
                 "--record=" + os.path.join(self.dir, "record-%d.jsonl" % self.engine_runs),
                 "--ready_file=" + ready] + self.scenario.engine_flags
        self.engine = self.spawn([self.bins["fake_engine"]] + flags, "fake_engine")
        self.wait_file(ready, "fake_engine_main")

    def stop_engine(self, sig=signal.SIGTERM):
        if self.engine is None:
            return
        self.engine.send_signal(sig)
        try:
            self.engine.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.engine.kill()
            self.engine.wait()
        self.engine = None

    def start_connector(self):
        n = len(self.connector_runs) + 1
        argv = [self.bins["connector"], "run", "--config=" + self.config]
        self.connector = self.spawn(argv, "connector-%d" % n)
        self.connector_runs.append({"n": n, "pid": self.connector.pid, "start": time.time()})

    def connector_alive(self):
        if self.connector is None:
            return False
        if self.connector.poll() is not None:
            run = self.connector_runs[-1]
            self.unexpected_exits.append("run %d exited by itself with %s" % (
                run["n"], self.connector.returncode))
            self.connector = None
            return False
        self.sample_rss()
        return True

    def sample_rss(self):
        try:
            with open("/proc/%d/status" % self.connector.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        self.peak_rss_kb = max(self.peak_rss_kb, int(line.split()[1]))
        except OSError:
            pass

    def cursors(self):
        """table -> cursor ns from the checkpoint files (start_at when none)."""
        out = {}
        for table in TABLES:
            path = os.path.join(self.state_dir, "e2e.%s.json" % table)
            cursor = None
            try:
                with open(path) as f:
                    cursor = parse_rfc3339_ns(json.load(f).get("ingestion_time", ""))
            except (OSError, ValueError):
                cursor = None
            out[table] = cursor if cursor is not None else self.start_at_ns
        return out

    def kill_connector(self):
        """SIGKILL; records the kill time and the cursors on disk for the bound."""
        if not self.connector_alive():
            return
        self.connector.send_signal(signal.SIGKILL)
        t = now_ns()
        self.connector.wait()
        self.connector_runs[-1]["end"] = time.time()
        self.connector_runs[-1]["exit"] = "SIGKILL"
        self.kills.append({"t_ns": t, "cursors": self.cursors()})
        self.connector = None

    def stop_connector(self):
        if not self.connector_alive():
            return None
        self.connector.send_signal(signal.SIGTERM)
        try:
            code = self.connector.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.connector.kill()
            self.connector.wait()
            code = "killed after 120 s"
        self.connector_runs[-1]["end"] = time.time()
        self.connector_runs[-1]["exit"] = code
        self.connector = None
        return code

    def sleep(self, seconds):
        """Sleeps while watching that the connector stays up."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.connector is not None:
                self.connector_alive()
            time.sleep(min(0.1, max(0, deadline - time.time())))

    # -- completeness while running ---------------------------------------------------

    def delivered_all(self):
        """Whether the workload is complete and the engine holds each of its records.
        Reads only what was added to the files since the last call."""
        if not os.path.exists(self.expected + ".done"):
            return False
        if self.progress is None:
            self.progress = Progress(self.expected)
        return self.progress.complete(completeness_report.record_files(self.dir))

    # -- the scenario -----------------------------------------------------------------

    def execute(self):
        p = self.suite.params
        sc = self.scenario
        live = sc.live_seconds if sc.live_seconds is not None else p["live_seconds"]
        self.seed = self.suite.seed + sum(map(ord, sc.name))
        self.records = p["backlog"] + int(p["rate"] * live)
        self.start_at_ns = now_ns() - (p["backlog_span"] + 60) * 10**9
        self.start_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.start_at_ns / 1e9))
        self.write_secret()
        if sc.prepare is not None:
            sc.prepare(self)
        self.start_fake()
        self.start_engine()
        self.config = self.write_config(os.path.join(self.dir, "config.json"), self.url, self.ca)
        self.start_connector()
        if sc.play is not None:
            sc.play(self, live)
        else:
            self.sleep(live)
        # Drain: the workload completes; wait for every record.
        if self.connector is None:
            self.start_connector()
        deadline = time.time() + sc.drain_seconds + live
        drained = False
        while time.time() < deadline:
            if self.connector is None or not self.connector_alive():
                self.start_connector()  # counted as an unexpected exit already
            if self.delivered_all():
                drained = True
                break
            self.sleep(0.5)
        self.checks.add("drained", drained,
                        "every record reached the engine in time" if drained else
                        "not every record reached the engine within %ds" %
                        (sc.drain_seconds + live))
        code = self.stop_connector()
        self.checks.add("clean exit on SIGTERM", code == 0, "exit code %s" % code)
        self.stop_engine()
        self.fake.send_signal(signal.SIGTERM)
        try:
            self.fake.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.fake.kill()
            self.fake.wait()
        self.checks.add("never exited on a fault", not self.unexpected_exits,
                        "; ".join(self.unexpected_exits) or
                        "%d run(s), each ended by the suite" % len(self.connector_runs))
        self.check_permissions()
        self.check_logs()
        self.checks.add("memory bounded", self.peak_rss_kb < self.scenario.max_rss_mb * 1024,
                        "peak RSS %d MiB (limit %d MiB)" % (self.peak_rss_kb // 1024,
                                                           self.scenario.max_rss_mb))

    def check_permissions(self):
        problems = []
        try:
            mode = stat.S_IMODE(os.stat(self.state_dir).st_mode)
            if mode != 0o700:
                problems.append("state dir %04o" % mode)
            for name in os.listdir(self.state_dir):
                if not name.endswith(".json"):
                    continue
                m = stat.S_IMODE(os.stat(os.path.join(self.state_dir, name)).st_mode)
                if m != 0o600:
                    problems.append("%s %04o" % (name, m))
        except OSError as e:
            problems.append(str(e))
        self.checks.add("state dir 0700, checkpoints 0600", not problems,
                        "; ".join(problems) or "ok")

    def log_lines(self):
        lines = []
        for run in self.connector_runs:
            path = os.path.join(self.dir, "connector-%d.err" % run["n"])
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    lines += f.read().splitlines()
        return lines

    def check_logs(self):
        bad = []
        notable = []
        for line in self.log_lines():
            try:
                entry = json.loads(line)
                if not isinstance(entry, dict) or not {"time", "level", "message"} <= set(entry):
                    raise ValueError
            except ValueError:
                bad.append(line[:160])
                continue
            if entry["level"] in ("warning", "error"):
                notable.append(entry)
        self.checks.add("stderr is JSON log lines", not bad,
                        "%d other line(s), first: %s" % (len(bad), bad[0]) if bad else "ok")
        text = [json.dumps(e) for e in notable]
        for label, pattern in self.scenario.log_patterns:
            hits = sum(1 for t in text if re.search(pattern, t))
            self.checks.add("log line for " + label, hits > 0,
                            "%d line(s) match /%s/" % (hits, pattern))
        if self.scenario.quiet:
            self.checks.add("no warnings without faults", not notable,
                            "%d warning/error line(s), first: %s" % (
                                len(notable), text[0][:200]) if notable else "ok")
        self.log_counts = {
            "warning": sum(1 for e in notable if e["level"] == "warning"),
            "error": sum(1 for e in notable if e["level"] == "error"),
        }
        # Faults the fake served, each of which must have left a line (and not a flood).
        served = sum(int(n) for n in re.findall(r"(\d+) ", self.fake_fault_counts()))
        if served:
            lines = len(notable)
            # A fault served just before a SIGKILL may have had no time for its line.
            self.checks.add("one log line per fault",
                            served - len(self.kills) <= lines <= 2 * served + 8,
                            "%d fault(s) served, %d warning/error line(s)" % (served, lines))

    def fake_fault_counts(self):
        path = os.path.join(self.dir, "fake_azure.out")
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith("faults:"):
                        return line.strip()
        except OSError:
            pass
        return ""

    def write_meta(self, error=None):
        meta = {
            "name": self.scenario.name,
            "about": self.scenario.about,
            "records": getattr(self, "records", None),
            "settle_seconds": SETTLE_SECONDS,
            "kills": self.kills,
            "engine_interruptions": self.engine_interruptions,
            "sink_rereads": self.count_sink_rereads(),
            "connector_runs": self.connector_runs,
            "peak_rss_kb": self.peak_rss_kb,
            "log_counts": getattr(self, "log_counts", {}),
            "fake_faults": self.fake_fault_counts(),
            "duration_seconds": round(time.time() - self.started, 1),
            "notes": self.notes,
            "checks": self.checks.items,
        }
        if error:
            meta["checks"].append({"name": "scenario ran", "ok": False, "detail": error})
        with open(os.path.join(self.dir, "scenario.json"), "w") as f:
            json.dump(meta, f, indent=2)

    def count_sink_rereads(self):
        n = 0
        for line in self.log_lines():
            if "did not take the page in time" in line or \
               "did not acknowledge the page in time" in line:
                n += 1
        return n

    def cleanup(self):
        for proc in (self.connector, self.engine, self.fake):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        if self.mounted:
            subprocess.run(["umount", "-l", self.mounted], check=False)
            self.mounted = None


# -- scenario plays ------------------------------------------------------------------


def play_sigkill(run, live):
    """10 SIGKILLs at random points, restarting at once each time."""
    rng = random.Random(run.seed)
    cycles = run.suite.params["kill_cycles"]
    slot = max(1.0, live / cycles)
    for _ in range(cycles):
        run.sleep(rng.uniform(0.3, slot * 1.6))
        run.kill_connector()
        run.sleep(rng.uniform(0, 0.3))
        run.start_connector()
    run.sleep(1)


def play_engine_restart(run, live):
    """The engine goes away (SIGTERM or SIGKILL) and comes back on the same path."""
    rng = random.Random(run.seed)
    restarts = run.suite.params["engine_restarts"]
    slot = live / (restarts + 1)
    for i in range(restarts):
        run.sleep(rng.uniform(slot * 0.5, slot))
        run.stop_engine(signal.SIGKILL if i % 2 else signal.SIGTERM)
        run.engine_interruptions += 1
        run.sleep(rng.uniform(0.2, 2.5))
        run.start_engine()
    run.sleep(slot * 0.5)


def play_token_rotation(run, live):
    """The secret is rotated in its file (the fake then takes only the new one)."""
    rotations = 3
    for _ in range(rotations):
        run.sleep(live / (rotations + 1))
        run.write_secret()
    run.sleep(live / (rotations + 1))


def prepare_fs_full(run):
    os.makedirs(run.state_dir, mode=0o700, exist_ok=True)
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs",
                        run.state_dir], check=True, capture_output=True, text=True)
    except (subprocess.CalledProcessError, OSError) as e:
        reason = getattr(e, "stderr", "") or str(e)
        raise SkipScenario("cannot mount a 64 KiB tmpfs on the state directory (%s); this "
                           "scenario needs root and mount permission" % reason.strip())
    run.mounted = run.state_dir


def fill(path):
    """Writes zeros to `path` until the file system is full."""
    block = b"\0" * 4096
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while True:
            os.write(fd, block)
    except OSError as e:
        if e.errno != errno.ENOSPC:
            raise
    finally:
        os.close(fd)


def play_fs_full(run, live):
    """Checkpoints cannot be saved for a while (ENOSPC), with two SIGKILLs meanwhile."""
    filler = os.path.join(run.state_dir, "filler")
    run.sleep(live * 0.2)
    fill(filler)
    run.notes.append("state file system full at %.1fs" % (time.time() - run.started))
    run.sleep(live * 0.25)
    run.kill_connector()
    run.start_connector()
    run.sleep(live * 0.25)
    run.kill_connector()
    run.start_connector()
    run.sleep(live * 0.1)
    os.unlink(filler)
    run.notes.append("space freed at %.1fs" % (time.time() - run.started))
    run.sleep(live * 0.2)


class SkipScenario(Exception):
    pass


def scenarios(params):
    return [
        Scenario("baseline", "no faults: late arrivals and delayed visibility only",
                 quiet=True),
        Scenario("sigkill", "SIGKILL at random points, %d cycles, restarting each time" %
                 params["kill_cycles"], play=play_sigkill,
                 live_seconds=max(params["live_seconds"], params["kill_cycles"] * 2)),
        Scenario("engine_restart", "the engine is killed and restarted on the same socket",
                 play=play_engine_restart,
                 log_patterns=[("engine stream loss", r"engine connection lost")]),
        Scenario("throttle_429", "429 storms (all queries for 3 s of every 8 s) plus 15% "
                 "random 429s", fake_flags=["--throttle_rate=0.15", "--storm_on=3s",
                                            "--storm_off=5s"],
                 log_patterns=[("429", r"HTTP 429")]),
        Scenario("server_errors", "20% 500/503 and 15% 504 answers",
                 fake_flags=["--server_error_rate=0.2", "--gateway_timeout_rate=0.15"],
                 log_patterns=[("5xx", r"HTTP 50[03]"), ("504", r"HTTP 504")]),
        Scenario("token_expiry_rotation", "tokens advertised for 5 s die after 2 s; the "
                 "secret is rotated in its file 3 times",
                 fake_flags=["--token_lifetime_seconds=5", "--token_valid_seconds=2",
                             "--reread_secret_file"],
                 play=play_token_rotation,
                 log_patterns=[("expired token", r"HTTP 401")]),
        Scenario("partial_error", "30% of answers truncated with a PartialError",
                 fake_flags=["--truncate_rate=0.3"],
                 log_patterns=[("truncated page", r"answer was truncated")]),
        Scenario("row_cap", "answers capped at 200 rows: the rows of the 2-minute overlap "
                 "alone exceed one answer (Azure's row and size caps on a busy table)",
                 fake_flags=["--row_cap=200"],
                 log_patterns=[("truncated page", r"answer was truncated")]),
        Scenario("slow_engine", "the engine acks 150 ms late and reads each Log 2 ms late "
                 "(backpressure)", engine_flags=["--ack_delay=150ms", "--read_delay=2ms"]),
        Scenario("fs_full", "the state directory's file system (64 KiB tmpfs) is full for "
                 "a while, with two SIGKILLs meanwhile", prepare=prepare_fs_full,
                 play=play_fs_full,
                 log_patterns=[("checkpoint not saved", r"(?=.*saving the checkpoint failed)"
                                r"(?=.*No space left)")]),
        Scenario("corrupt_endless", "10% corrupt 200 bodies (garbage, cut short, HTML, wrong "
                 "shape) and 3% endless chunked bodies", max_rss_mb=1536,
                 fake_flags=["--corrupt_rate=0.1", "--endless_rate=0.03"],
                 log_patterns=[("corrupt body", r"cannot be read|not valid|invalid"),
                               ("endless body", r"response size limit")]),
        Scenario("secret_file_mode", "the client secret file is readable by others (0644); "
                 "the state directory exists with mode 0755", secret_mode=0o644,
                 prepare=lambda run: os.makedirs(run.state_dir, mode=0o755) or
                 os.chmod(run.state_dir, 0o755),
                 log_patterns=[("secret file mode", r"readable by other users")]),
    ]


class Suite:
    def __init__(self, args):
        self.args = args
        self.bins = {
            "connector": os.path.join(args.bin_dir, "plugin_main/azure_loganalytics"),
            "fake_azure": os.path.join(args.bin_dir, "testdata/fake_azure/fake_azure_main"),
            "fake_engine": os.path.join(args.bin_dir, "testdata/fake_engine/fake_engine_main"),
        }
        for path in self.bins.values():
            if not os.access(path, os.X_OK):
                raise SystemExit("fault_suite: %s is missing; build it first (e2e/run.sh "
                                 "does)" % path)
        self.seed = args.seed
        self.secrets = []
        if args.soak:
            self.params = dict(rate=args.soak_records / args.soak_seconds, backlog=0,
                               backlog_span=60, live_seconds=args.soak_seconds,
                               visibility_max=20, kill_cycles=10, engine_restarts=4,
                               retention=900)
        elif args.long:
            self.params = dict(rate=400, backlog=5000, backlog_span=600, live_seconds=120,
                               visibility_max=20, kill_cycles=10, engine_restarts=8,
                               retention=0)
        else:
            self.params = dict(rate=150, backlog=600, backlog_span=300, live_seconds=15,
                               visibility_max=8, kill_cycles=10, engine_restarts=4,
                               retention=0)
        root = args.out or tempfile.mkdtemp(prefix="azla-e2e-", dir="/tmp")
        os.makedirs(root, exist_ok=True)
        self.root = root

    def run_scenario(self, sc):
        directory = os.path.join(self.root, sc.name)
        if os.path.exists(directory):
            shutil.rmtree(directory)
        os.makedirs(directory)
        run = Run(self, sc, directory)
        t0 = time.time()
        print("fault_suite: %-22s %s" % (sc.name, sc.about), file=sys.stderr, flush=True)
        error = None
        try:
            run.execute()
        except SkipScenario as e:
            run.cleanup()
            with open(os.path.join(directory, "scenario.json"), "w") as f:
                json.dump({"name": sc.name, "about": sc.about, "skipped": str(e)}, f)
            print("fault_suite: %s SKIPPED: %s" % (sc.name, e), file=sys.stderr, flush=True)
            return
        except Exception as e:  # the scenario fails, the suite goes on
            error = "%s: %s" % (type(e).__name__, e)
        finally:
            run.cleanup()
        run.write_meta(error)
        row = completeness_report.evaluate(directory)
        print("fault_suite: %-22s %s in %.0fs: %d expected, %d delivered, %d duplicated "
              "(bound %d), %d lost%s" % (
                  sc.name, "ok" if not row["problems"] else "FAILED", time.time() - t0,
                  row["expected"], row["delivered"], row["duplicates"], row["bound"],
                  row["lost"], "".join("\n    " + p for p in row["problems"])),
              file=sys.stderr, flush=True)

    def security_checks(self):
        """TLS only against a named CA, no switch to turn it off, and no secret or token
        in anything the suite's processes wrote."""
        directory = os.path.join(self.root, "security")
        if os.path.exists(directory):
            shutil.rmtree(directory)
        os.makedirs(directory)
        sc = Scenario("security", "TLS verification cannot be avoided; no secret or token "
                      "in any output; state and secret file modes")
        run = Run(self, sc, directory)
        checks = run.checks
        try:
            run.records = self.params["backlog"]
            run.seed = self.seed
            run.start_at_ns = now_ns() - 3600 * 10**9
            run.start_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(run.start_at_ns / 1e9))
            run.write_secret()
            run.start_fake()
            run.start_engine()
            connector = self.bins["connector"]

            def attempt(config_name, ca_file, extra=None, command="check", ws_extra=None):
                path = run.write_config(os.path.join(directory, config_name), run.url, ca_file,
                                        extra, ws_extra=ws_extra)
                proc = subprocess.run([connector, command, "--config=" + path] +
                                      (["--once"] if command == "run" else []),
                                      capture_output=True, text=True, timeout=120,
                                      cwd=directory)
                with open(os.path.join(directory, config_name + ".out"), "w") as f:
                    f.write(proc.stdout + proc.stderr)
                return proc.returncode, proc.stdout + proc.stderr

            def delivered():
                return sum(completeness_report.scan_records(
                    completeness_report.record_files(directory))[0].values())

            # `run --once` reads up to now - settle: wait until the backlog's records are
            # all queryable (delayed visibility), or it rightly leaves some for next time.
            run.wait_file(run.expected + ".done", "the workload")
            time.sleep(self.params["visibility_max"] + SETTLE_SECONDS + 1)
            code, out = attempt("config-ca.json", run.ca, command="run")
            checks.add("run --once with the named CA file delivers", code == 0 and
                       delivered() == run.records,
                       "exit %d, %d of %d delivered" % (code, delivered(), run.records))
            before = delivered()
            os.makedirs(os.path.join(directory, "state-no-ca"), mode=0o700)
            code, out = attempt("config-no-ca.json", None,
                                extra={"state_dir": os.path.join(directory, "state-no-ca")})
            checks.add("no ca_file: the fake's certificate is refused", code != 0 and
                       re.search(r"certificate|SSL|TLS", out, re.I) is not None and
                       delivered() == before, "exit %d" % code)
            other_ca = os.path.join(directory, "other-ca.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                            os.path.join(directory, "other-ca.key"), "-out", other_ca,
                            "-subj", "/CN=other test CA", "-days", "1"],
                           check=True, capture_output=True)
            code, out = attempt("config-other-ca.json", other_ca)
            checks.add("another CA: refused", code != 0 and
                       re.search(r"certificate|SSL|TLS", out, re.I) is not None,
                       "exit %d" % code)
            rejected = []
            for key in ("insecure_skip_verify", "ssl_verify", "tls_verify", "insecure",
                        "verify_peer", "skip_tls_verify"):
                for where in ("top", "workspace"):
                    code, out = attempt("config-%s-%s.json" % (key, where), run.ca,
                                        extra={key: False} if where == "top" else None,
                                        ws_extra={key: False} if where == "workspace" else None)
                    if code != 2 or key not in out:
                        rejected.append("%s in %s accepted (exit %d)" % (key, where, code))
            checks.add("no config key turns verification off", not rejected,
                       "; ".join(rejected) or "each such key is an unknown-key error")
            proto = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "proto",
                                 "config.proto")
            if os.path.exists(proto):
                with open(proto) as f:
                    text = f.read()
                fields = re.findall(r"^\s*(?:string|bool|int32)\s+(\w+)\s*=", text, re.M)
                suspicious = [f for f in fields if re.search(r"insecure|verify|skip|tls", f, re.I)]
                checks.add("config.proto has no verification switch", not suspicious,
                           ", ".join(suspicious) or "%d fields, none about verification" %
                           len(fields))
        except Exception as e:
            checks.add("security checks ran", False, "%s: %s" % (type(e).__name__, e))
        finally:
            run.cleanup()
            if run.fake is not None and run.fake.poll() is None:
                run.fake.kill()
        self.scan_for_secrets(checks)
        meta = {"name": "security", "about": sc.about, "checks": checks.items,
                "records": None}
        with open(os.path.join(directory, "scenario.json"), "w") as f:
            json.dump(meta, f, indent=2)
        failed = [c for c in checks.items if not c["ok"]]
        print("fault_suite: %-22s %s%s" % ("security", "ok" if not failed else "FAILED",
                                           "".join("\n    %s: %s" % (c["name"], c["detail"])
                                                   for c in failed)),
              file=sys.stderr, flush=True)

    def scan_for_secrets(self, checks):
        """Every file the run wrote, except the secret files themselves, must hold no
        client secret (any rotation) and no access token."""
        needles = [s.encode() for s in set(self.secrets)] + [TOKEN_PREFIX.encode()]
        scanned = 0
        size = 0
        found = []
        for base, dirs, files in os.walk(self.root):
            for name in files:
                if name.startswith("client.secret"):
                    continue
                path = os.path.join(base, name)
                try:
                    with open(path, "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                scanned += 1
                size += len(data)
                for needle in needles:
                    if needle in data:
                        found.append("%s holds %s" % (
                            os.path.relpath(path, self.root),
                            "an access token" if needle.startswith(TOKEN_PREFIX.encode())
                            else "a client secret"))
        checks.add("no secret or token in any output", not found and scanned > 0,
                   "; ".join(found[:5]) or "%d files (%d bytes) scanned for %d secrets and "
                   "the token prefix" % (scanned, size, len(set(self.secrets))))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin_dir", required=True, help="bazel-bin of the tree")
    parser.add_argument("--out", help="run directory (default: a new /tmp/azla-e2e-*)")
    parser.add_argument("--scenarios", help="comma-separated names (default: all)")
    parser.add_argument("--long", action="store_true", help="larger workload per scenario")
    parser.add_argument("--soak", action="store_true",
                        help="one long run with every fault kind at a low rate")
    parser.add_argument("--soak_seconds", type=int, default=3600)
    parser.add_argument("--soak_records", type=int, default=10000000)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    parser.add_argument("--keep", action="store_true", help="keep the run directory")
    args = parser.parse_args()
    args.bin_dir = os.path.abspath(args.bin_dir)
    suite = Suite(args)
    print("fault_suite: run directory %s, seed %d" % (suite.root, suite.seed),
          file=sys.stderr, flush=True)
    if args.soak:
        chosen = [soak_scenario(suite.params)]
    else:
        chosen = scenarios(suite.params)
        if args.scenarios:
            names = set(args.scenarios.split(","))
            unknown = names - {s.name for s in chosen} - {"security"}
            if unknown:
                raise SystemExit("fault_suite: unknown scenario(s) %s" % ", ".join(sorted(unknown)))
            chosen = [s for s in chosen if s.name in names]
    order = [s.name for s in chosen]
    for sc in chosen:
        suite.run_scenario(sc)
    if not args.soak and (not args.scenarios or "security" in args.scenarios.split(",")):
        suite.security_checks()
        order.append("security")
    elif args.soak:
        checks = Check()
        suite.scan_for_secrets(checks)
        path = os.path.join(suite.root, order[0], "scenario.json")
        with open(path) as f:
            meta = json.load(f)
        meta["checks"] += checks.items
        with open(path, "w") as f:
            json.dump(meta, f, indent=2)
    with open(os.path.join(suite.root, "order.json"), "w") as f:
        json.dump(order, f)
    code = completeness_report.main(["completeness_report", suite.root])
    if not args.keep and code == 0:
        shutil.rmtree(suite.root, ignore_errors=True)
    else:
        print("fault_suite: artifacts kept in %s" % suite.root, file=sys.stderr)
    return code


def soak_scenario(params):
    def play(run, live):
        # Every fault kind now and then: a SIGKILL and an engine restart every
        # live/10, faults from the fake at low rates (flags below).
        rng = random.Random(run.seed)
        end = time.time() + live
        i = 0
        while time.time() < end:
            run.sleep(min(live / 10, max(0, end - time.time())))
            if time.time() >= end:
                break
            if i % 2 == 0:
                run.kill_connector()
                run.start_connector()
            else:
                run.stop_engine(signal.SIGKILL if rng.random() < 0.5 else signal.SIGTERM)
                run.engine_interruptions += 1
                run.sleep(1)
                run.start_engine()
            i += 1
            print("fault_suite: soak %.0f%%" % (100 * (1 - (end - time.time()) / live)),
                  file=sys.stderr, flush=True)
    return Scenario("soak", "%d records over %ds with every fault kind at a low rate" % (
        params["rate"] * params["live_seconds"], params["live_seconds"]),
        fake_flags=["--throttle_rate=0.02", "--server_error_rate=0.02",
                    "--gateway_timeout_rate=0.01", "--truncate_rate=0.02",
                    "--corrupt_rate=0.01", "--endless_rate=0.002",
                    "--token_lifetime_seconds=600", "--token_valid_seconds=300"],
        play=play, drain_seconds=600, max_rss_mb=1536)


if __name__ == "__main__":
    sys.exit(main())
