"""Stories: the same real-world event across sources, grouped as the articles stream in.

Pure functions over plain records (no SQL, no spaCy, no Kafka):

* :func:`pipeline.stories.score.score_pair` — how much two articles look like one event, with the
  features that carried the score;
* :func:`pipeline.stories.assign.decide` — given an article and the candidate articles the store
  found (stories of the last N days sharing entities with it), join, create, or join and merge;
* :func:`pipeline.stories.merge.survivor` — the deterministic merge rule;
* :func:`pipeline.stories.main_event.main_event` — the article's main event (its 5W1H summary);
* :func:`pipeline.stories.events.story_events` — article events grouped into story events
  (one per type, actor and target within a day or two; mentions, articles and sources counted).
"""

from pipeline.stories.assign import Decision, decide
from pipeline.stories.records import ArticleFeatures, EventFeatures, StoryConfig, StoryKey
from pipeline.stories.score import Match, score_pair

__all__ = ["ArticleFeatures", "Decision", "EventFeatures", "Match", "StoryConfig", "StoryKey", "decide",
           "score_pair"]
