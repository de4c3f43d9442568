"""`newsstream config`: the settings in effect, where each comes from, secrets masked."""

from __future__ import annotations

import os

import click

from newsstream_cli.common import FORMATS, emit, handle_errors


@click.command(name="config")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@handle_errors
def config(fmt: str) -> None:
    """Print the effective settings (NEWSSTREAM_* environment over the defaults), by section; passwords are masked."""
    from pipeline.config import PREFIX, Settings, load_settings, section_of

    s = load_settings()
    values = s.public()
    rows = []
    for name, field in Settings.model_fields.items():
        env = PREFIX + name.upper()
        rows.append({"section": section_of(name), "setting": name,
                     "value": "" if values[name] is None else values[name],
                     "source": "environment" if env in {k.upper() for k in os.environ} else "default",
                     "variable": env, "meaning": field.description or ""})
    emit(rows, fmt, title="newsstream settings",
         columns=["section", "setting", "value", "source", "variable", "meaning"])
