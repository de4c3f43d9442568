"""`consume --workers N`: N worker processes in one consumer group, restarted if they crash.

Partitions spread over the workers (cooperative-sticky). The first SIGTERM/SIGINT is passed
on (each worker finishes its batch and commits); a second one kills them at once, and the
uncommitted batches are simply redelivered.

A crashed worker is restarted after a capped exponential backoff (1 s, 2 s, 4 s ... 30 s). When
one worker crashes ``max_restarts`` times within ``restart_window_minutes``, the supervisor gives
up: it stops the other workers and exits 1 with a line naming that worker's last error, which
each child reports through a pipe of its own before it exits. Restarts are counted in
``newsstream_worker_restarts_total{worker}`` on the supervisor's own /metrics.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from consumers.runner import WorkerOptions, run_worker
from pipeline.config import load_settings
from pipeline.logs import get_logger, say
from pipeline.metrics import Metrics


@dataclass
class RestartPolicy:
    """When to restart a crashed worker, and when to stop trying.

    ``crashed(i)`` records a crash of worker i and returns the delay before its restart: 1 s, then
    doubling per crash within the window, at most ``max_delay``; or None once the worker has crashed
    ``max_crashes`` times within ``window`` seconds (give up). Older crashes are forgotten.
    """

    max_crashes: int = 5
    window: float = 300.0
    base_delay: float = 1.0
    max_delay: float = 30.0
    clock: Callable[[], float] = time.monotonic
    _crashes: dict[int, list[float]] = field(default_factory=dict)

    def crashed(self, worker: int) -> float | None:
        now = self.clock()
        recent = [t for t in self._crashes.get(worker, []) if now - t < self.window] + [now]
        self._crashes[worker] = recent
        if len(recent) >= self.max_crashes:
            return None
        return min(self.max_delay, self.base_delay * 2 ** (len(recent) - 1))

    def recent(self, worker: int) -> int:
        """Crashes of ``worker`` within the window, as of the last one recorded."""
        return len(self._crashes.get(worker, []))


def supervisor_metrics_port(base: int) -> int:
    """The supervisor's /metrics port by default: the workers' base port - 1 (none when that is 0 or off)."""
    return base - 1 if base > 0 else -1


def describe_exit(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"killed by {signal.Signals(-exitcode).name}"
    return f"exited with code {exitcode}"


def _child(flags: dict[str, Any], opts: WorkerOptions, index: int, report: Any) -> None:
    try:
        stats = run_worker(flags, opts, index)
    except Exception as exc:  # tell the supervisor why, then crash as before (traceback, exit code 1)
        report.send(f"{type(exc).__name__}: {' '.join(str(exc).split())[:500]}")
        raise
    print(f"worker {index}: consumed {stats.consumed}, stored {stats.processed}, "
          f"dead-lettered {stats.dead_lettered}, batches {stats.batches}", flush=True)
    if stats.failure:  # it stopped without doing its job (no partition...): not a crash to restart
        say(f"worker {index}: {stats.failure}", event="worker_unfinished", level="error", worker=index,
            error=stats.failure)
        sys.exit(UNFINISHED)


UNFINISHED = 3  # a worker's exit code for "stopped, could not do its job": reported, never restarted


class Supervisor:
    def __init__(self, n: int, flags: dict[str, Any], opts: WorkerOptions, policy: RestartPolicy,
                 metrics: Metrics) -> None:
        self.n, self.flags, self.opts, self.policy, self.metrics = n, flags, opts, policy, metrics
        self.log = get_logger(workers=n)
        self.ctx = mp.get_context("spawn")
        self.procs: dict[int, Any] = {}
        self.reports: dict[int, Any] = {}  # worker -> the reading end of its pipe (its error, if it crashes)
        self.next_start: dict[int, float] = {}
        self.last_error: dict[int, str] = {}
        self.signals = 0
        self.failed = False
        for i in range(n):  # every worker's series exists from the start, so increase() sees the first restart
            metrics.worker_restarts.labels(worker=str(i))

    def start(self, i: int) -> None:
        reader, writer = self.ctx.Pipe(duplex=False)  # one per child: a child killed mid-send blocks no other
        p = self.ctx.Process(target=_child, args=(self.flags, self.opts, i, writer), name=f"newsstream-worker-{i}")
        p.start()
        writer.close()
        self.procs[i], self.reports[i] = p, reader
        self.log.info("worker started", worker=i, pid=p.pid)

    def on_signal(self, _signum: int, _frame: Any) -> None:
        self.signals += 1
        self.next_start.clear()
        self.kill_all(signal.SIGTERM if self.signals == 1 else signal.SIGKILL)

    def kill_all(self, sig: signal.Signals) -> None:
        for p in self.procs.values():
            if p.is_alive() and p.pid:
                os.kill(p.pid, sig)

    def reported_error(self, i: int) -> str | None:
        reader = self.reports.pop(i)
        try:
            return str(reader.recv()) if reader.poll() else None
        except (EOFError, OSError):
            return None
        finally:
            reader.close()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        for i in range(self.n):
            self.start(i)
        while self.procs or self.next_start:
            time.sleep(0.2)
            for i in [i for i, p in self.procs.items() if not p.is_alive()]:
                if self.reap(i) is None:
                    return self.give_up(i)
            self.start_due()
        sys.stdout.flush()
        return 1 if self.failed else 0

    def reap(self, i: int) -> float | None:
        """Forget a finished worker; schedule its restart when it crashed. None: give up on it."""
        p = self.procs.pop(i)
        p.join()
        reported = self.reported_error(i)
        if p.exitcode == 0:
            return 0.0
        if self.signals or p.exitcode == UNFINISHED:
            self.failed = True
            return 0.0
        error = self.last_error[i] = reported or describe_exit(p.exitcode)
        delay = self.policy.crashed(i)
        if delay is None:
            return None
        self.log.warning("worker exited, restarting", worker=i, exitcode=p.exitcode, error=error,
                         restarts=self.policy.recent(i), delay=delay)
        self.next_start[i] = time.monotonic() + delay
        return delay

    def start_due(self) -> None:
        for i, when in list(self.next_start.items()):
            if time.monotonic() >= when:
                del self.next_start[i]
                self.metrics.worker_restarts.labels(worker=str(i)).inc()
                self.start(i)

    def give_up(self, i: int) -> int:
        crashes, minutes = self.policy.recent(i), self.policy.window / 60
        self.log.error("worker keeps crashing: giving up", worker=i, crashes=crashes, error=self.last_error[i])
        say(f"newsstream: error: gave up on worker {i} after {crashes} crashes within {minutes:g} minutes; "
            f"its last error: {self.last_error[i]}", event="command_failed", level="error", worker=i,
            crashes=crashes, error=self.last_error[i], exit_code=1)
        self.next_start.clear()
        self.stop_others()
        return 1

    def stop_others(self) -> None:
        """SIGTERM (finish the batch, commit), then SIGKILL whatever is left after the shutdown timeout."""
        self.kill_all(signal.SIGTERM)
        deadline = time.monotonic() + self.opts.shutdown_timeout + 5
        for p in self.procs.values():
            p.join(max(0.0, deadline - time.monotonic()))
        self.kill_all(signal.SIGKILL)
        for i in list(self.procs):
            self.procs.pop(i).join()
            self.reports.pop(i).close()


def serve_metrics(metrics: Metrics, port: int, host: str) -> None:
    if port < 0:
        return
    try:
        bound = metrics.serve(port, host)
    except OSError:
        bound = metrics.serve(0, host)
        say(f"warning: port {port} is taken, serving the supervisor's metrics on {bound}",
            event="metrics_port_taken", level="warning", wanted=port, port=bound)
    say(f"supervisor: metrics on http://{host}:{bound}/metrics", event="metrics_serving",
        url=f"http://{host}:{bound}/metrics")


def supervise(n: int, flags: dict[str, Any], opts: WorkerOptions, *, max_restarts: int = 5,
              restart_window_minutes: float = 5.0, metrics_port: int | None = None,
              max_restart_delay: float = 30.0) -> int:
    """Run ``n`` workers until they finish; 0 when all did, 1 when signalled ones failed or one kept crashing.

    ``metrics_port``: the supervisor's /metrics (None: ``supervisor_metrics_port`` of the settings'
    metrics port; 0 = any free port; -1 = none).
    """
    s = load_settings(**flags)
    metrics = Metrics()
    serve_metrics(metrics, supervisor_metrics_port(s.metrics_port) if metrics_port is None else metrics_port,
                  s.metrics_host)
    policy = RestartPolicy(max_crashes=max_restarts, window=restart_window_minutes * 60,
                           max_delay=max_restart_delay)
    return exit_code(Supervisor(n, flags, opts, policy, metrics).run(), opts, s)


def exit_code(workers: int, opts: WorkerOptions, s: Any) -> int:
    """The supervisor's exit code from its workers' (``workers``): after ``--until-idle``, also 1 when the
    group left messages of the topic unread (asked of the broker once every worker has stopped)."""
    return max(workers, _lag_left(s)) if opts.until_idle is not None else workers


def _lag_left(s: Any) -> int:
    """After ``--until-idle``: 1 (and a line saying so) when the group left messages unread, else 0."""
    from pipeline.bus.clients import group_lag

    try:
        lag = sum(group_lag(s, s.group, s.topic).values())
    except Exception as exc:  # the broker is away: say so rather than claim anything
        say(f"supervisor: could not read the group's lag ({exc})", event="lag_unknown", level="error",
            error=str(exc))
        return 1
    print(f"lag left {lag}", flush=True)
    if lag:
        say(f"newsstream: error: the group {s.group} left {lag} messages of {s.topic} unread",
            event="command_failed", level="error", group=s.group, topic=s.topic, lag=lag, exit_code=1)
    return 1 if lag else 0
