"""Pure story functions: the score, the decision, the merge rule, story events, the main event."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date

from pipeline.stories import ArticleFeatures, EventFeatures, StoryConfig, StoryKey, decide, score_pair
from pipeline.stories.events import ArticleEvent, story_events
from pipeline.stories.main_event import EventText, main_event
from pipeline.stories.merge import resolve, survivor
from pipeline.stories.records import Weights
from pipeline.stories.text import content_words


def feat(aid: str, day: str, ents: set[int], words: str, story: int | None = None,
         events: tuple[EventFeatures, ...] = ()) -> ArticleFeatures:
    return ArticleFeatures(aid, day, date.fromisoformat(day), "src", frozenset(ents), events, frozenset(),
                           content_words(words), story)


W = Weights({e: 2 for e in range(100)}, 50)


def test_the_score_is_symmetric_and_says_what_carried_it() -> None:
    a = feat("a", "2024-03-04", {1, 2, 3, 4}, "earthquake hits Hallstad rescuers search survivors")
    b = feat("b", "2024-03-04", {1, 2, 3, 9}, "Hallstad earthquake rescuers search rubble")
    m1, m2 = score_pair(a, b, W), score_pair(b, a, W)
    assert m1.score == m2.score > StoryConfig().threshold
    assert set(m1.parts) >= {"entities", "words"}
    assert "earthquake" in m1.shared


def test_the_score_falls_with_days_apart_and_is_zero_beyond_the_window() -> None:
    a = feat("a", "2024-03-04", {1, 2, 3}, "earthquake Hallstad")
    near = score_pair(a, replace(feat("b", "2024-03-05", {1, 2, 3}, "earthquake Hallstad")), W).score
    far = score_pair(a, feat("c", "2024-03-10", {1, 2, 3}, "earthquake Hallstad"), W).score
    out = score_pair(a, feat("d", "2024-03-20", {1, 2, 3}, "earthquake Hallstad"), W).score
    assert near > far > out == 0.0


def test_rare_entities_weigh_more_than_common_ones() -> None:
    w = Weights({1: 40, 2: 40, 3: 1, 4: 1}, 50)
    a = feat("a", "2024-03-04", {1, 2, 3, 4}, "")
    common = score_pair(a, feat("b", "2024-03-04", {1, 2, 7, 8}, ""), w).score
    rare = score_pair(a, feat("c", "2024-03-04", {3, 4, 7, 8}, ""), w).score
    assert rare > common


def test_decide_new_join_and_merge() -> None:
    art = feat("x", "2024-03-04", {1, 2, 3}, "earthquake Hallstad rescuers")
    assert decide(art, [], W, {}).action == "new"
    c1 = feat("a", "2024-03-04", {1, 2, 3}, "earthquake Hallstad rescuers", story=7)
    c2 = feat("b", "2024-03-03", {1, 2, 3}, "earthquake Hallstad survivors", story=9)
    d = decide(art, [c1], W, {7: c1.order})
    assert (d.action, d.story) == ("joined", 7)
    d = decide(art, [c1, c2], W, {7: c1.order, 9: c2.order})
    assert d.action == "merged" and d.story == 9 and d.merge == (7,)  # 9's first article is older


def test_the_merge_rule_is_the_same_in_every_order_and_merges_resolve() -> None:
    keys = [StoryKey(5, ("2024-03-04T10:00", "b")), StoryKey(3, ("2024-03-04T10:00", "c")),
            StoryKey(8, ("2024-03-04T09:00", "z"))]
    assert {survivor(p).id for p in itertools.permutations(keys)} == {8}
    assert resolve(3, {3: 5, 5: 8}) == 8 and resolve(8, {3: 5}) == 8
    assert resolve(1, {1: 2, 2: 1}) in (1, 2)  # a cycle (never written) does not hang


def _sequential(order: list[ArticleFeatures], w: Weights) -> set[frozenset[str]]:
    story_of: dict[str, int] = {}
    parent: dict[int, int] = {}
    firsts: dict[int, tuple[str, str]] = {}

    def find(s: int) -> int:
        while parent.get(s, s) != s:
            s = parent[s]
        return s

    stored: list[ArticleFeatures] = []
    for f in order:
        d = decide(f, [replace(g, story=find(story_of[g.id])) for g in stored], w, firsts)
        sid = d.story if d.story is not None else len(firsts) + len(parent) + 1
        for m in d.merge:
            parent[m] = sid
        firsts[sid] = min(firsts.get(sid, f.order), f.order, *(firsts[m] for m in d.merge))
        story_of[f.id] = sid
        stored.append(f)
    groups: dict[int, set[str]] = {}
    for aid, sid in story_of.items():
        groups.setdefault(find(sid), set()).add(aid)
    return {frozenset(g) for g in groups.values()}


def test_every_arrival_order_gives_the_same_grouping() -> None:
    quake = [feat(f"q{i}", "2024-03-04", {1, 2, 3, 10 + i}, f"earthquake Hallstad rescuers {w}")
             for i, w in enumerate(["survivors", "rubble", "tents", "aftershock"])]
    ferry = [feat(f"f{i}", "2024-03-05", {4, 5, 6, 20 + i}, f"ferry fire Ostrava evacuated {w}")
             for i, w in enumerate(["captain", "passengers", "coast"])]
    # a bridge: q3 shares little with q0 but much with q2, so the order decides when the merge happens
    arts = quake + ferry
    expected = {frozenset(f.id for f in quake), frozenset(f.id for f in ferry)}
    for perm in itertools.islice(itertools.permutations(arts), 0, 5040, 97):
        assert _sequential(list(perm), W) == expected


def test_story_events_count_mentions_articles_and_sources() -> None:
    d = date(2024, 3, 4)
    evs = [ArticleEvent(1, "a", "x.example", "ATTACK", 7, 8, None, d),
           ArticleEvent(2, "b", "y.example", "ATTACK", 7, 8, 3, date(2024, 3, 5)),
           ArticleEvent(3, "b", "y.example", "ATTACK", 7, 8, 3, date(2024, 3, 5)),
           ArticleEvent(4, "c", "z.example", "ATTACK", 7, 8, None, date(2024, 3, 12)),  # a week later: another
           ArticleEvent(5, "c", "z.example", "OTHER", None, None, None, d)]  # nobody named: not grouped
    groups = story_events(evs, days=2)
    assert [(g.mentions, g.articles, g.sources) for g in groups] == [(3, 2, 2), (1, 1, 1)]
    assert groups[0].location == 3 and groups[0].first == d


def test_the_main_event_comes_from_the_title_and_lead() -> None:
    evs = [EventText(0, "OTHER", "Jonas Berg", None, "Jonas Berg said the weather was cold.", 0),
           EventText(1, "ATTACK", "rebels", "Hallstad", "Rebels attacked Hallstad at dawn.", 40),
           EventText(2, "ACCUSE", "Novak", "Berg", "Novak did not accuse Berg.", 80, negated=True)]
    assert main_event("Rebels attack Hallstad", "Hallstad was attacked at dawn.", evs, 120) == 1
    assert main_event("t", None, [], 1) is None
