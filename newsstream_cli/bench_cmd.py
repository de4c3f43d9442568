"""`newsstream bench`: the whole pipeline against bare spaCy, side by side in one run.

The work is done by benchmarks/bench_pipeline.py in the repository (not part of the installed
package): this command finds it beside the ``pipeline`` package of a checkout.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import click

from newsstream_cli.common import handle_errors, log_options, settings
from pipeline.config import default_of

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@click.command()
@click.option("--corpus", type=click.Path(exists=True, dir_okay=True),
              help="JSON lines (or anything `produce` reads), e.g. ../shared/data/bbc/bbc.jsonl; "
                   "default: the project's samples/")
@click.option("--limit", type=click.IntRange(min=1), help="use the first N articles")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="N: bare spaCy n_process=N and the larger consumer worker count (1 is always run too)")
@click.option("--partitions", type=click.IntRange(min=1), help="partitions of the bench topics (default: N)")
@click.option("--stages", help="comma-separated subset of bare,extract,producer,e2e,latency (default: all)")
@click.option("--skip-postgres", is_flag=True, help="end to end on SQLite only")
@click.option("--postgres-url", help="an existing PostgreSQL server to create the bench databases in "
              "(default: a throwaway server from the system binaries)")
@click.option("--bootstrap-servers", help="an existing Kafka broker (default: a local one on free ports)")
@click.option("--batch-size", type=click.IntRange(min=1),
              help=f"consumer batch size (default {default_of('batch_size')})")
@click.option("--nlp-batch-size", type=click.IntRange(min=1),
              help="nlp.pipe batch_size of the bare reference (default: the workers' nlp_batch_size, "
              f"{default_of('nlp_batch_size')} unless --setting changes it)")
@click.option("--paired-reference/--no-paired-reference", default=True, show_default=True,
              help="measure bare nlp.pipe again right before each end-to-end run and compare the run with it")
@click.option("--producer-articles", type=click.IntRange(min=1), default=5000, show_default=True,
              help="messages for the producer stage (the corpus cycled under new ids)")
@click.option("--rate", type=click.FloatRange(min=0.1), help="offered rate of the latency stage, articles/s "
              "(default: half the measured end-to-end maximum)")
@click.option("--latency-seconds", type=click.FloatRange(min=1), default=30.0, show_default=True,
              help="how long the latency stage offers that rate")
@click.option("--setting", multiple=True, metavar="NAME=VALUE",
              help="a NEWSSTREAM_ setting for every worker the bench starts (e.g. overlap_writes=false); "
                   "otherwise they get the defaults, whatever the shell sets")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, writable=True),
              help="write every figure as JSON to this path")
@click.option("--workdir", type=click.Path(file_okay=False),
              help="where the broker, the databases and the workers' logs go (default: a new temp dir; "
                   "the logs are kept)")
@log_options
@handle_errors
def bench(**options: object) -> None:
    """Measure, in one run: bare spaCy nlp.pipe (1 and N processes), the extraction layer, the
    producer, end to end (produce -> Kafka -> W workers -> SQLite / PostgreSQL), end-to-end latency
    at half load, worker peak memory and time per stage. Prints tables; every throughput is also
    given as a ratio to bare nlp.pipe measured in the same run.

    Starts its own Kafka broker and PostgreSQL server (temp dirs, free ports) unless told otherwise.
    A benchmark, not a test: the figures depend on the machine and on what else runs on it.
    """
    if not (BENCHMARKS / "bench_pipeline.py").exists():
        raise click.ClickException(f"{BENCHMARKS}/bench_pipeline.py not found: run from a newsstream checkout")
    settings()  # this process's logs as --log-level and --log-format say (the workers' logs are the bench's own)
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    import bench_pipeline

    sys.exit(bench_pipeline.main(opts=argparse.Namespace(**options)))
