"""The news-please answer key (../shared): the grouping of the real store, written in publication order."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pipeline.store.db import make_engine, upgrade
from tests.conftest import SHARED, shared_path
from tests.stories_helpers import grouping


def test_newsplease_events_are_grouped_better_than_the_baseline(tmp_path: Path) -> None:
    from pipeline.article import Article
    from pipeline.extract import EXTRACTOR_VERSION, extract_articles, load_nlp
    from pipeline.parsing.reader import read_articles
    from pipeline.store.writer import write_batch

    path = shared_path("newsplease", "articles.jsonl")
    arts = sorted((a for a in read_articles([str(path)]) if isinstance(a, Article)),
                  key=lambda a: (a.published or "\uffff", a.id))
    url = f"sqlite:///{tmp_path / 'np.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        items = list(extract_articles(load_nlp(), arts))
        for i in range(0, len(items), 32):
            write_batch(engine, [(a, x, None) for a, x in items[i:i + 32]], extractor_version=EXTRACTOR_VERSION)
    finally:
        engine.dispose()
    out = tmp_path / "assignment.jsonl"
    out.write_text("".join(json.dumps({"id": aid, "story": n}) + "\n"
                           for n, group in enumerate(grouping(url)) for aid in group))
    res = subprocess.run([sys.executable, str(SHARED / "tools" / "score_stories.py"), str(path), str(out)],
                         capture_output=True, text=True, check=True).stdout
    f1 = float(res.strip().splitlines()[-1].split("=")[1])
    assert f1 >= 0.75, res  # the 7-day window bounds it at 0.87 (docs/quality.md); the baseline: 0.69
