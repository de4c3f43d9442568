"""One article's story decision over the candidates the store found: join, create, or join and merge.

Single link: the article belongs with every story holding an article that scores at least the
threshold with it. No story: a new one. One: it joins it. Several: they are one event, merged
into the survivor of :func:`pipeline.stories.merge.survivor`, and the article joins that. The
final grouping is thus the connected components of "scores at least the threshold", which no
arrival order changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.stories.merge import survivor
from pipeline.stories.records import DEFAULT, ArticleFeatures, StoryConfig, StoryKey, Weights
from pipeline.stories.score import Match, Prepared, explain, prepare, score_prepared


@dataclass(frozen=True)
class Decision:
    article: str
    story: int | None  # the story it joins (None: a new story)
    merge: tuple[int, ...] = ()  # stories merged into ``story`` (it survives)
    score: float = 0.0  # the best pair's score
    best: str | None = None  # the best candidate article
    match: Match | None = None
    linked: dict[int, float] = field(default_factory=dict)  # story -> its best score at or over the threshold

    @property
    def action(self) -> str:
        return "merged" if self.merge else ("joined" if self.story is not None else "new")


def decide(article: ArticleFeatures, candidates: Iterable[ArticleFeatures], weights: Weights,
           firsts: dict[int, tuple[str, str]], cfg: StoryConfig = DEFAULT,
           names: dict[int, str] | None = None, prepared: dict[str, Prepared] | None = None) -> Decision:
    """Where ``article`` goes; ``firsts``: each candidate story's first (published, article id).

    ``prepared``: the candidates' :class:`Prepared` by article id, filled as they are computed, for
    a caller that decides many articles over the same candidates and ``weights`` (a candidate's
    story may change between calls: it is read from ``candidates``, never from the cache)."""
    best: tuple[float, str, ArticleFeatures, dict[str, float]] | None = None
    linked: dict[int, float] = {}
    cache = {} if prepared is None else prepared
    mine = prepare(article, weights)  # once, not once per candidate
    for cand in candidates:
        if cand.story is None or cand.id == article.id:
            continue
        theirs = cache.get(cand.id)
        if theirs is None:
            theirs = cache[cand.id] = prepare(cand, weights)
        score, parts = score_prepared(mine, theirs, weights, cfg)
        if best is None or (score, cand.id) > (best[0], best[1]):
            best = (score, cand.id, cand, parts)
        if score >= cfg.threshold:
            linked[cand.story] = max(linked.get(cand.story, 0.0), score)
    score, best_id, match = (0.0, None, None) if best is None else (
        best[0], best[1], Match(best[0], best[3], explain(article, best[2], weights, names)))
    if not linked:
        return Decision(article.id, None, (), score, best_id, match)
    keys = [StoryKey(s, firsts.get(s, ("\uffff", ""))) for s in linked]
    keep = survivor(keys).id
    merge = tuple(sorted(s for s in linked if s != keep))
    return Decision(article.id, keep, merge, score, best_id, match, linked)
