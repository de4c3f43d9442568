"""Infrastructure for bench_pipeline.py: consumer processes, /metrics, /proc.

Nothing here is faked: the PostgreSQL server is ``devtools.pgserver`` (the system binaries,
as for the tests), the consumers are ``newsstream consume`` processes,
and their figures come from their own /metrics and their own logs.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# settings given to every worker the bench starts (``--setting NAME=VALUE``); otherwise the workers
# get the defaults, whatever NEWSSTREAM_* variables the shell sets
WORKER_SETTINGS: dict[str, str] = {}
STAGES = ("decode", "nlp", "rules", "db_write", "commit")
# how consumers are started; a profiling script may point it at a patched entry point
CLI = [sys.executable, "-m", "newsstream_cli"]


# -- /metrics and /proc -------------------------------------------------------------------------------
def scrape(port: int, timeout: float = 5.0) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Samples of one /metrics page: name -> [(labels, value)]."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as resp:
        text = resp.read().decode()
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, []).append((dict(s.labels), float(s.value)))
    return out


def total(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for lab, v in samples.get(name, []) if all(lab.get(k) == x for k, x in labels.items()))


def vm_hwm_mb(pid: int) -> float | None:
    """Peak resident memory of ``pid`` in MiB (VmHWM), None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of ``pid`` so far (/proc/PID/stat), None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def merge_buckets(pages: list[dict[str, list[tuple[dict[str, str], float]]]], name: str) -> list[tuple[float, float]]:
    """Cumulative (le, count) of histogram ``name`` summed over several workers' pages."""
    acc: dict[float, float] = {}
    for page in pages:
        for lab, v in page.get(name + "_bucket", []):
            le = math.inf if lab["le"] in ("+Inf", "inf") else float(lab["le"])
            acc[le] = acc.get(le, 0.0) + v
    return sorted(acc.items())


def quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """Prometheus' histogram_quantile: linear interpolation inside the bucket holding rank q*count."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    prev_le, prev_c = 0.0, 0.0
    for le, c in buckets:
        if c >= rank:
            if math.isinf(le):
                return prev_le  # above the highest finite bucket: its bound is all we know
            return prev_le + (le - prev_le) * ((rank - prev_c) / (c - prev_c) if c > prev_c else 1.0)
        prev_le, prev_c = le, c
    return None


def share_at_most(buckets: list[tuple[float, float]], bound: float) -> float | None:
    """Exact share of observations <= ``bound`` when ``bound`` is a bucket boundary."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    for le, c in buckets:
        if le == bound:
            return c / buckets[-1][1]
    return None


# -- consumer processes -------------------------------------------------------------------------------
_METRICS_LINE = re.compile(r"worker (\d+): metrics on http://[^:]+:(\d+)/metrics")


@dataclass
class Consumers:
    """``newsstream consume --workers N`` as a child process, its workers found from its stderr."""

    proc: subprocess.Popen
    log_path: Path
    workers: int
    started_at: float = 0.0  # wall clock (time.time()) just before the process was started
    ports: dict[int, int] = field(default_factory=dict)
    pids: dict[int, int] = field(default_factory=dict)
    cpu_at_assign: dict[int, float] = field(default_factory=dict)

    @classmethod
    def start(cls, *, bootstrap: str, topic: str, group: str, database_url: str, workers: int, log_path: Path,
              batch_size: int | None = None, until_idle: float = 60.0, instance_id: str | None = None) -> Consumers:
        cmd = [*CLI, "consume", "--bootstrap-servers", bootstrap, "--topic", topic,
               "--group", group, "--database-url", database_url, "--workers", str(workers),
               "--metrics-port", "0", "--until-idle", str(until_idle)]
        if batch_size:
            cmd += ["--batch-size", str(batch_size)]
        if instance_id:
            cmd += ["--instance-id", instance_id]
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("NEWSSTREAM_")}
        env.update(NEWSSTREAM_LOG_FORMAT="json", NEWSSTREAM_LOG_LEVEL="INFO")
        env.update({f"NEWSSTREAM_{name.upper()}": value for name, value in WORKER_SETTINGS.items()})
        log = open(log_path, "wb")  # noqa: SIM115 - the child owns it until it exits
        started_at = time.time()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                cwd=Path(__file__).resolve().parent.parent)
        log.close()
        return cls(proc, log_path, workers, started_at)

    def lines(self) -> list[str]:
        try:
            return self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return []

    def wait_ready(self, timeout: float = 180.0) -> None:
        """Until every worker announced its metrics port (its model is loaded then) and its pid is known."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines():
                m = _METRICS_LINE.search(line)
                if m:
                    self.ports[int(m.group(1))] = int(m.group(2))
                if '"worker started"' in line:
                    rec = _json(line)
                    if rec and "pid" in rec:
                        self.pids[int(rec["worker"])] = int(rec["pid"])
            if self.workers == 1:
                self.pids[0] = self.proc.pid
            if len(self.ports) >= self.workers and len(self.pids) >= self.workers:
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"consume exited with {self.proc.returncode}:\n" + "\n".join(self.lines()[-20:]))
            time.sleep(0.2)
        raise RuntimeError("consumer workers did not start in time:\n" + "\n".join(self.lines()[-20:]))

    def writer_pids(self) -> dict[int, int]:
        """Each worker's writer process (consumers.writer_process), the last one it started."""
        out: dict[int, int] = {}
        for line in self.lines():
            if '"writer process started"' in line:
                rec = _json(line)
                if rec and "pid" in rec:
                    out[int(rec.get("worker", 0))] = int(rec["pid"])
        return out

    def pages(self) -> list[dict[str, list[tuple[dict[str, str], float]]]]:
        out = []
        for i in sorted(self.ports):
            try:
                out.append(scrape(self.ports[i]))
            except OSError:
                out.append({})
        return out

    def handled(self) -> float:
        """Messages stored or dead-lettered, over every worker."""
        n = 0.0
        for p in self.pages():
            n += total(p, "newsstream_articles_processed_total") + total(p, "newsstream_articles_failed_total")
        return n

    def wait_handled(self, expected: int, timeout: float) -> None:
        """Until ``expected`` messages were handled; notes each worker's CPU time when it first owns
        partitions (its model is loaded by then) unless wait_assigned did, so start-up is left out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pages = self.pages()
            for i, page in zip(sorted(self.ports), pages, strict=True):
                if i not in self.cpu_at_assign and total(page, "newsstream_rebalances_total", kind="assign") >= 1:
                    self.cpu_at_assign[i] = cpu_seconds(self.pids[i]) or 0.0
            done = sum(total(p, "newsstream_articles_processed_total") + total(p, "newsstream_articles_failed_total")
                       for p in pages)
            if done >= expected:
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"consume exited with {self.proc.returncode} before handling {expected} "
                                   "messages:\n" + "\n".join(self.lines()[-20:]))
            time.sleep(0.5)  # scraping is cheap, but the workers share the cores with this process
        raise RuntimeError(f"consumers did not handle {expected} messages within {timeout:.0f}s")

    def wait_assigned(self, timeout: float = 180.0) -> None:
        """Until every worker has had a partition assignment (then a moment for the group to settle).

        Generous: once in a while (seen 2026-12-01, cause not found) the group takes a minute or more to
        give the second worker its partitions; the bench then waits for it rather than failing."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pages = self.pages()
            if pages and all(total(p, "newsstream_rebalances_total", kind="assign") >= 1 for p in pages):
                time.sleep(3.0)
                for i, pid in self.pids.items():  # model loaded, group settled: CPU from here is the work
                    self.cpu_at_assign[i] = cpu_seconds(pid) or 0.0
                return
            time.sleep(0.3)
        raise RuntimeError("consumer workers were not assigned partitions in time")

    def wait_record(self, event: str, timeout: float, poll: float = 0.05) -> dict[str, Any]:
        """The first JSON log record whose event is ``event``, waiting up to ``timeout`` for it."""
        needle = json.dumps(event)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines():
                if needle in line:
                    rec = _json(line)
                    if rec and rec.get("event") == event:
                        return rec
            if self.proc.poll() is not None:
                raise RuntimeError(f"consume exited with {self.proc.returncode} before logging {event!r}:\n"
                                   + "\n".join(self.lines()[-20:]))
            time.sleep(poll)
        raise RuntimeError(f"no {event!r} log line within {timeout:.0f}s:\n" + "\n".join(self.lines()[-20:]))

    def records(self, event: str) -> list[dict[str, Any]]:
        """Every JSON log record whose event is ``event``, in order."""
        needle = json.dumps(event)
        return [rec for line in self.lines() if needle in line and (rec := _json(line)) and rec.get("event") == event]

    def kill(self) -> int:
        """SIGKILL the process (no clean shutdown: no commit, no leaving the group), reaped."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        return self.proc.wait()

    def stop(self, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def batches(self) -> list[dict[str, Any]]:
        """The workers' "batch committed" log records (timestamp after the offset commit, seconds of the batch)."""
        return self.records("batch committed")


def _json(line: str) -> dict[str, Any] | None:
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    return rec if isinstance(rec, dict) else None


def iso_seconds(ts: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def log_bytes(data_dir: Path, topic: str) -> int | None:
    """Bytes of ``topic``'s partition logs (the segment ``.log`` files, indexes left out) in a broker's
    ``log.dirs``; None when the directory is not there (an external broker)."""
    parts = [d for d in data_dir.glob(f"{topic}-*") if d.is_dir() and d.name.rsplit("-", 1)[1].isdigit()
             and d.name.rsplit("-", 1)[0] == topic] if data_dir.is_dir() else []
    if not parts:
        return None
    return sum(f.stat().st_size for d in parts for f in d.glob("*.log"))


def machine() -> dict[str, Any]:
    """nproc, CPU model, RAM and load: the figures mean little without them."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    import platform

    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(ram, 1),
            "load_avg": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version(),
            "platform": platform.platform()}
