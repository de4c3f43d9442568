"""`newsstream reprocess`: re-extract stored articles with the current extractor."""

from __future__ import annotations

import sys
from dataclasses import asdict
from datetime import datetime
from typing import Any

import click

from newsstream_cli.common import db_option, emit_summary, handle_errors, log_options, settings, summary_option
from pipeline.config import default_of


@click.command()
@db_option
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="only articles published on or after this day")
@click.option("--source", help="only articles from this source")
@click.option("--outdated", is_flag=True, help="only articles extracted by an older extractor version")
@click.option("--batch-size", type=int, default=default_of("batch_size"), show_default=True,
              help="articles per transaction [default: NEWSSTREAM_BATCH_SIZE's]")
@click.option("--model", "spacy_model", help="spaCy model [env NEWSSTREAM_SPACY_MODEL]")
@click.option("--keep-all-events", is_flag=True, help="store events with no named or agent actor or target too")
@click.option("--named-events-only", is_flag=True,
              help="only events with a named actor or target (default: named or an agent such as 'police')")
@click.option("--progress/--no-progress", default=None, help="progress bar (default: on a terminal)")
@click.option("--stories", is_flag=True, help="only reassign stored articles to stories (after a change of the "
              "NEWSSTREAM_STORY_* settings), in publication order; no re-extraction")
@log_options
@summary_option
@handle_errors
def reprocess(database_url: str | None, since: datetime | None, source: str | None, outdated: bool,
              batch_size: int, spacy_model: str | None, keep_all_events: bool, named_events_only: bool,
              progress: bool | None,
              stories: bool = False, summary_format: str = "text") -> None:
    """Re-extract stored articles (all, --since, --source or --outdated) and replace their entities,
    mentions and events, without going through Kafka. For a full replay through Kafka instead,
    run `newsstream consume --group NEW_GROUP --from-beginning`.
    """
    if stories:
        from consumers.reprocess import reprocess_stories
        from pipeline.store.db import make_engine as _engine

        st = reprocess_stories(_engine(settings(database_url=database_url).database_url_with_password()))
        emit_summary({"articles": st.assigned, "new": st.new, "joined": st.joined, "merges": st.merges},
                     summary_format, f"articles {st.assigned}: stories new {st.new}, joined {st.joined}, "
                     f"merges {st.merges}")
        return
    from consumers.reprocess import reprocess as run
    from pipeline.extract import load_nlp
    from pipeline.store.db import make_engine
    from pipeline.store.stored import count_articles

    s = settings(database_url=database_url, spacy_model=spacy_model)
    engine = make_engine(s.database_url_with_password())
    day = since.date() if since else None
    kw: dict[str, Any] = {"since": day, "source": source, "outdated_only": outdated, "batch_size": batch_size,
          "nlp_batch_size": s.nlp_batch_size, "keep_all_events": keep_all_events, "named_only": named_events_only}
    show = sys.stderr.isatty() if progress is None else progress
    if show:
        from rich.progress import Progress

        from pipeline.extract import EXTRACTOR_VERSION

        total = count_articles(engine, since=day, source=source, not_version=EXTRACTOR_VERSION if outdated else None)
        with Progress(transient=True) as bar:
            task = bar.add_task("reprocessing", total=total)
            stats = run(engine, load_nlp(s.spacy_model), on_chunk=lambda n: bar.advance(task, n), **kw)
    else:
        stats = run(engine, load_nlp(s.spacy_model), **kw)
    emit_summary(asdict(stats), summary_format, f"read {stats.read}, rewritten {stats.rewritten}, "
                 f"unchanged {stats.unchanged}, refused {stats.refused}")
