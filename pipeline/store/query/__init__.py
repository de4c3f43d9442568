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

from pipeline.store.query.articles import search_articles
from pipeline.store.query.entities import cooccurrence, entity_profile, timeline, top_entities
from pipeline.store.query.events import search_events
from pipeline.store.query.filters import Period, UnknownEntity, resolve_names

__all__ = ["Period", "UnknownEntity", "cooccurrence", "entity_profile", "resolve_names", "search_articles",
           "search_events", "timeline", "top_entities"]
