"""`consume --workers N`: N worker processes in one consumer group, restarted if they crash.

Partitions spread over the workers (cooperative-sticky). The first SIGTERM/SIGINT is passed
on (each worker finishes its batch and commits); a second one kills them at once, and the
uncommitted batches are simply redelivered.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import time
from typing import Any

from consumers.runner import WorkerOptions, run_worker
from pipeline.logs import get_logger


def _child(flags: dict[str, Any], opts: WorkerOptions, index: int) -> None:
    stats = run_worker(flags, opts, index)
    print(f"worker {index}: consumed {stats.consumed}, stored {stats.processed}, "
          f"dead-lettered {stats.dead_lettered}, batches {stats.batches}", flush=True)


def supervise(n: int, flags: dict[str, Any], opts: WorkerOptions, *, max_restart_delay: float = 30.0) -> int:
    log = get_logger(workers=n)
    ctx = mp.get_context("spawn")
    stopping = {"signals": 0}
    procs: dict[int, Any] = {}
    restarts: dict[int, int] = dict.fromkeys(range(n), 0)
    next_start: dict[int, float] = {}

    def start(i: int) -> None:
        p = ctx.Process(target=_child, args=(flags, opts, i), name=f"newsstream-worker-{i}")
        p.start()
        procs[i] = p
        log.info("worker started", worker=i, pid=p.pid)

    def on_signal(signum: int, _frame: Any) -> None:
        stopping["signals"] += 1
        sig = signal.SIGTERM if stopping["signals"] == 1 else signal.SIGKILL
        for p in procs.values():
            if p.is_alive() and p.pid:
                os.kill(p.pid, sig)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for i in range(n):
        start(i)
    failed = False
    while procs or next_start:
        time.sleep(0.2)
        for i, p in list(procs.items()):
            if p.is_alive():
                continue
            p.join()
            del procs[i]
            if p.exitcode == 0:
                continue
            if stopping["signals"]:
                failed = True
                continue
            restarts[i] += 1
            delay = min(max_restart_delay, 0.5 * 2 ** min(restarts[i], 10))
            log.warning("worker exited, restarting", worker=i, exitcode=p.exitcode, restarts=restarts[i],
                        delay=delay)
            next_start[i] = time.monotonic() + delay
        if stopping["signals"]:
            next_start.clear()
        for i, when in list(next_start.items()):
            if time.monotonic() >= when:
                del next_start[i]
                start(i)
    sys.stdout.flush()
    return 1 if failed else 0
