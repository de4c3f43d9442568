"""`newsstream extract`: the pipeline's extraction offline (no Kafka, no database).

``--format jsonl`` prints one JSON object per article, a contract that the evaluation
tools in ../shared/tools read: keep its shape stable.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import click

from newsstream_cli.common import fail, handle_errors, settings
from pipeline.article import CONTRACT_FIELDS, Article
from pipeline.logs import say
from pipeline.parsing import read_articles
from pipeline.records import Extraction, Refusal

ARTICLE_KEYS = CONTRACT_FIELDS  # the Article fields of the contract's article block (pipeline.article.FIELD_META)


def article_block(article: Article, *, include_body: bool = False) -> dict[str, Any]:
    block = {k: getattr(article, k) for k in ARTICLE_KEYS}
    if include_body:
        block["body"] = article.body
    return block


@click.command()
@click.argument("paths", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "table"]), default="table", show_default=True,
              help="jsonl: the JSON contract, one line per article; table: for people")
@click.option("--include-body", is_flag=True, help="add the parsed body (what offsets point into) to the output")
@click.option("--model", "spacy_model", help="spaCy model [env NEWSSTREAM_SPACY_MODEL]")
@click.option("--keep-all-events", is_flag=True, help="also events with no named or agent actor or target")
@click.option("--named-events-only", is_flag=True,
              help="only events with a named actor or target (default: named or an agent such as 'police')")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="texts per nlp.pipe batch (default: NEWSSTREAM_NLP_BATCH_SIZE, 16)")
@handle_errors
def extract(paths: tuple[str, ...], fmt: str, include_body: bool, spacy_model: str | None,
            keep_all_events: bool, named_events_only: bool, batch_size: int | None) -> None:
    """Show what the pipeline reads out of articles: entities and events.

    PATHS are plain-text articles (the seed's format), JSON lines (detected by a leading `{`),
    JSON arrays or directories; none or - reads stdin. Bad input is reported as FILE:LINE: reason
    on stderr and the rest goes on.
    """
    from pipeline.extract import extract_articles, load_nlp

    s = settings(spacy_model=spacy_model)
    rejected = 0

    def articles() -> Iterator[Article]:
        nonlocal rejected
        for item in read_articles(list(paths) or ["-"], max_body_bytes=s.max_body_bytes, stdin=sys.stdin.buffer,
                                  on_warning=_warn):
            if isinstance(item, Refusal):
                rejected += 1
                say(f"{item.origin}: rejected ({item.code}): {item.reason}", event="article_rejected",
                    level="warning", origin=item.origin, code=item.code, reason=item.reason)
            else:
                yield item

    nlp = load_nlp(s.spacy_model)
    done = 0
    for article, extraction in extract_articles(nlp, articles(), batch_size=batch_size or s.nlp_batch_size,
                                                keep_all_events=keep_all_events, named_only=named_events_only):
        done += 1
        if fmt == "jsonl":
            out = extraction.to_contract(article_block(article, include_body=include_body))
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        else:
            _print_table(article, extraction, include_body)
    if fmt == "table" or rejected:
        say(f"extracted {done} article(s), rejected {rejected}", event="extract_done", extracted=done,
            rejected=rejected)
    if rejected and not done:
        fail("newsstream: error: nothing was extracted: every input was rejected", rejected=rejected)


def _warn(warning: str) -> None:
    say(f"warning: {warning}", event="input_warning", level="warning", warning=warning)


def _print_table(article: Article, ex: Extraction, include_body: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.rule(f"{article.title or article.id}  [{article.published or 'no date'}]")
    if include_body:
        console.print(article.body)
    ents = Table(title="entities")
    for col in ("name", "label", "mentions", "surface forms"):
        ents.add_column(col)
    for e in sorted(ex.entities, key=lambda e: -len(e.mentions)):
        ents.add_row(e.name, e.label, str(len(e.mentions)), ", ".join(sorted({m.text for m in e.mentions})))
    console.print(ents)
    evs = Table(title="events")
    for col in ("type", "actor", "action", "target", "location", "date", "modality"):
        evs.add_column(col)
    for ev in ex.events:
        def name(span: Any) -> str:
            return "" if span is None else (span.entity or span.text)
        action = ("not " if ev.negated else "") + ev.trigger.lemma
        evs.add_row(ev.type, name(ev.actor), action, name(ev.target), name(ev.location), ev.date or "",
                    ev.modality)
    console.print(evs)
