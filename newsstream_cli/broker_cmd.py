"""`newsstream broker start|stop|status`: the local KRaft broker."""

from __future__ import annotations

import click

from newsstream_cli.common import handle_errors, log_options, settings
from pipeline.bus.broker import LocalBroker


def _broker(home: str | None, port: int | None, controller_port: int | None = None) -> LocalBroker:
    s = settings(broker_home=home)
    default_port = int(s.bootstrap_servers.split(",")[0].rsplit(":", 1)[-1])
    return LocalBroker(s.broker_home, port=port or default_port, controller_port=controller_port)


@click.group()
def broker() -> None:
    """Run a local Apache Kafka broker (KRaft, no Docker) for development and the demo.

    The pinned Kafka release is resolved from Maven Central with Maven (needs java and mvn)
    and cached under the broker home (default .kafka/, env NEWSSTREAM_BROKER_HOME).
    """


home_opt = click.option("--home", help="broker home: jars, data, logs [env NEWSSTREAM_BROKER_HOME]")
port_opt = click.option("--port", type=click.IntRange(1, 65535),
                        help="listener port (default: the port of NEWSSTREAM_BOOTSTRAP_SERVERS, else 9092)")


@broker.command()
@home_opt
@port_opt
@click.option("--controller-port", type=click.IntRange(1, 65535),
              help="KRaft controller port (default: the listener port + 1)")
@click.option("--timeout", default=90.0, show_default=True, help="seconds to wait until it answers")
@log_options
@handle_errors
def start(home: str | None, port: int | None, controller_port: int | None, timeout: float) -> None:
    """Start the broker (fetching Kafka on first use); starting twice is harmless.

    Both ports are checked before anything starts: a port another process holds (another Kafka,
    say) is reported in one line naming the flag that moves it.
    """
    b = _broker(home, port, controller_port)
    already = b.status().running
    st = b.start(timeout=timeout)
    click.echo(("already " if already else "started: ") + st.describe())


@broker.command()
@home_opt
@port_opt
@handle_errors
def stop(home: str | None, port: int | None) -> None:
    """Stop the broker."""
    b = _broker(home, port)
    click.echo("stopped" if b.stop() else "not running")


@broker.command()
@home_opt
@port_opt
@handle_errors
def status(home: str | None, port: int | None) -> None:
    """Say whether the broker runs and where it listens (exit 3 when it does not run)."""
    st = _broker(home, port).status()
    click.echo(st.describe())
    if not st.running:
        raise SystemExit(3)
