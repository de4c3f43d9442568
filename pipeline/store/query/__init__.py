"""Read queries for analysts: what ``newsstream query`` runs (SQLAlchemy Core, bound parameters only).

    from pipeline.store.query import (Period, search_articles, search_events, top_entities,
                                      entity_profile, cooccurrence, timeline, UnknownEntity)

* A NAME is matched through the alias table, case-insensitively ("lukashenko" finds
  "Alexander Lukashenko"): it stands for every entity that has it as an alias, of any label
  unless ``label`` narrows it. A name no entity has raises :class:`UnknownEntity`.
* A :class:`Period` (``since`` / ``until``, both inclusive, either open) filters on the
  article's publication date, in every query.
* Text search is a case-insensitive substring match (``%`` and ``_`` are plain characters):
  ``ILIKE`` on PostgreSQL (served by trigram indexes when ``pg_trgm`` is available), ``LIKE``
  on SQLite. Both fold ASCII letters; other letters fold only where PostgreSQL's locale does.
"""

from pipeline.store.query.articles import (
    AmbiguousArticle,
    UnknownArticle,
    abbreviations,
    article_detail,
    search_articles,
)
from pipeline.store.query.entities import cooccurrence, entity_profile, timeline, top_entities, undated
from pipeline.store.query.events import event_types, search_events
from pipeline.store.query.filters import Period, UnknownEntity, resolve_names
from pipeline.store.query.places import to_geojson, top_places

__all__ = ["AmbiguousArticle", "Period", "UnknownArticle", "UnknownEntity", "abbreviations", "article_detail",
           "cooccurrence", "entity_profile", "event_types", "resolve_names", "search_articles", "search_events",
           "timeline", "to_geojson", "top_entities", "top_places", "undated"]
