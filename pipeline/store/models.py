"""SQLAlchemy models: articles, entities (+ aliases), mentions and events, and the counts kept from them.

The same schema runs on SQLite and PostgreSQL: portable types only (``JSON``, not ``JSONB``).
``article_entities`` and ``entity_stats`` (0004) are derived from ``mentions``: the writer keeps
them exact in the same transaction, ``pipeline.store.counts.rebuild_counts`` recomputes them.
The Alembic migrations in ``migrations/versions`` must match these models exactly
(``tests/test_migrations.py`` compares them).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MODALITIES = ("asserted", "hypothetical", "reported")


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class ArticleRow(Base):
    __tablename__ = "articles"

    id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    title: Mapped[str | None] = mapped_column(sa.Text)
    body: Mapped[str] = mapped_column(sa.Text)
    published: Mapped[str | None] = mapped_column(sa.Text)  # ISO 8601 as given (date or date-time)
    published_date: Mapped[date | None] = mapped_column(sa.Date, index=True)  # for date-range queries
    section: Mapped[str | None] = mapped_column(sa.Text)
    authors: Mapped[list[str]] = mapped_column(sa.JSON)
    source: Mapped[str | None] = mapped_column(sa.Text, index=True)
    url: Mapped[str | None] = mapped_column(sa.Text)
    language: Mapped[str | None] = mapped_column(sa.Text)
    dateline: Mapped[str | None] = mapped_column(sa.Text)
    lead: Mapped[str | None] = mapped_column(sa.Text)
    subheadings: Mapped[list[str]] = mapped_column(sa.JSON)
    captions: Mapped[list[str]] = mapped_column(sa.JSON)
    author_code: Mapped[str | None] = mapped_column(sa.Text)
    country: Mapped[str | None] = mapped_column(sa.String(2), index=True)  # 0005: where its news happens
    story_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)  # 0006: its story (stories.id)
    main_event_seq: Mapped[int | None] = mapped_column(sa.Integer)  # 0006: its main event (events.seq)
    extractor_version: Mapped[str] = mapped_column(sa.Text)
    content_hash: Mapped[str] = mapped_column(sa.String(64))  # article + extraction: skip identical rewrites
    kafka_topic: Mapped[str | None] = mapped_column(sa.Text)
    kafka_partition: Mapped[int | None] = mapped_column(sa.Integer)
    kafka_offset: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())

    # 0003: trigram indexes serving ILIKE '%text%', created on PostgreSQL only (with pg_trgm). The
    # column is given as an expression: Alembic cannot compare those on SQLite, where they are absent.
    __table_args__ = tuple(
        sa.Index(f"ix_articles_{col}_trgm", sa.literal_column(col), postgresql_using="gin",
                 postgresql_ops={col: "gin_trgm_ops"}).ddl_if(dialect="postgresql")
        for col in ("title", "body"))


class EntityRow(Base):
    __tablename__ = "entities"
    __table_args__ = (sa.UniqueConstraint("name", "label"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    label: Mapped[str] = mapped_column(sa.Text, index=True)  # 0008: the consensus of its articles' labels
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    key: Mapped[str | None] = mapped_column(sa.Text, index=True)  # 0008: identity (pipeline.store.entities)


class EntityAliasRow(Base):
    """A lower-cased surface form -> the entity it names, per label ("washington" PERSON vs GPE)."""

    __tablename__ = "entity_aliases"

    alias: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    label: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    entity_id: Mapped[int] = mapped_column(sa.ForeignKey("entities.id", ondelete="CASCADE"), index=True)


class MentionRow(Base):
    __tablename__ = "mentions"
    __table_args__ = (
        sa.UniqueConstraint("article_id", "field", "start", "end"),
        sa.CheckConstraint('start >= 0 AND "end" >= start', name="span"),
        sa.Index(None, "entity_id", "article_id"),
        sa.Index(None, "article_id", "entity_id"),  # 0003: co-occurrence, top entities by date
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    article_id: Mapped[str] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"))
    entity_id: Mapped[int] = mapped_column(sa.ForeignKey("entities.id"))
    field: Mapped[str] = mapped_column(sa.Text)
    start: Mapped[int] = mapped_column(sa.Integer)
    end: Mapped[int] = mapped_column(sa.Integer)
    text: Mapped[str] = mapped_column(sa.Text)
    sentence: Mapped[str | None] = mapped_column(sa.Text)


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (
        sa.UniqueConstraint("article_id", "seq"),
        sa.CheckConstraint("modality IN ('asserted', 'hypothetical', 'reported')", name="modality"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    article_id: Mapped[str] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(sa.Integer)  # position of the event within its article
    type: Mapped[str] = mapped_column(sa.Text, index=True)
    trigger_text: Mapped[str] = mapped_column(sa.Text)
    trigger_lemma: Mapped[str] = mapped_column(sa.Text)
    trigger_start: Mapped[int] = mapped_column(sa.Integer)
    trigger_end: Mapped[int] = mapped_column(sa.Integer)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entities.id"), index=True)
    actor_text: Mapped[str | None] = mapped_column(sa.Text)
    target_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entities.id"), index=True)
    target_text: Mapped[str | None] = mapped_column(sa.Text)
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entities.id"), index=True)
    location_text: Mapped[str | None] = mapped_column(sa.Text)
    event_date: Mapped[date | None] = mapped_column("date", sa.Date, index=True)
    date_text: Mapped[str | None] = mapped_column(sa.Text)
    negated: Mapped[bool] = mapped_column(sa.Boolean)
    modality: Mapped[str] = mapped_column(sa.Text)
    source_text: Mapped[str | None] = mapped_column(sa.Text)
    sentence: Mapped[str] = mapped_column(sa.Text)
    country: Mapped[str | None] = mapped_column(sa.String(2), index=True)  # 0005: ISO 3166 alpha-2
    story_event_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)  # 0006: story_events.id
    # 0007: the type's family; unnamed actors' and targets' agent sectors; who reported it; a statement's quote
    family: Mapped[str] = mapped_column(sa.Text, index=True, server_default="other")
    actor_sector: Mapped[str | None] = mapped_column(sa.Text)
    target_sector: Mapped[str | None] = mapped_column(sa.Text)
    source_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    quote_text: Mapped[str | None] = mapped_column(sa.Text)


class ArticleEntityRow(Base):
    """One row per (article, entity): how often the entity is mentioned there (0004).

    The article's publication date is copied so that date ranges, timelines and co-occurrence
    read this table alone. On PostgreSQL the indexes carry the other columns (``INCLUDE``): the
    queries are index-only scans. SQLite ignores ``postgresql_include``.
    """

    __tablename__ = "article_entities"
    __table_args__ = (
        sa.PrimaryKeyConstraint("article_id", "entity_id", postgresql_include=["mentions"]),  # co-occurrence
        sa.Index(None, "entity_id", "published_date", postgresql_include=["article_id", "mentions"]),
        sa.Index(None, "published_date", "entity_id", postgresql_include=["mentions"]),  # top in a period
    )

    article_id: Mapped[str] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"))
    entity_id: Mapped[int] = mapped_column(sa.ForeignKey("entities.id", ondelete="CASCADE"))
    published_date: Mapped[date | None] = mapped_column(sa.Date)
    mentions: Mapped[int] = mapped_column(sa.Integer)


class EntityStatsRow(Base):
    """All-time totals per entity (0004): its mentions and the articles it is in; no row when 0."""

    __tablename__ = "entity_stats"

    entity_id: Mapped[int] = mapped_column(sa.ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True)
    mentions: Mapped[int] = mapped_column(sa.Integer, index=True)
    articles: Mapped[int] = mapped_column(sa.Integer)


class PlaceRow(Base):
    """A gazetteer place some article named (0005): ``key`` is ``gn:<geonameid>``, else ``iso:<code>``/``name:...``."""

    __tablename__ = "places"
    __table_args__ = (sa.Index(None, "country", "kind"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    key: Mapped[str] = mapped_column(sa.Text, unique=True)
    geonameid: Mapped[int | None] = mapped_column(sa.Integer)
    name: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.Text)  # country | admin1 | city | continent
    country: Mapped[str | None] = mapped_column(sa.String(2))
    admin1: Mapped[str | None] = mapped_column(sa.Text)
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)


class ArticlePlaceRow(Base):
    """Where an article's entity is (0005): one row per (article, entity) whose geo resolved."""

    __tablename__ = "article_places"
    __table_args__ = (sa.Index(None, "place_id", "article_id"),)

    article_id: Mapped[str] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    entity_id: Mapped[int] = mapped_column(sa.ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True)
    place_id: Mapped[int] = mapped_column(sa.ForeignKey("places.id"))
    mentions: Mapped[int] = mapped_column(sa.Integer)



class StoryRow(Base):
    """A story (0006): the articles of every source about one real-world event; see pipeline.stories."""

    __tablename__ = "stories"
    # a merged story's id is never given to another
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012  (SQLAlchemy's own declarative attribute)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    first_published: Mapped[str | None] = mapped_column(sa.Text)  # its first article's: the merge rule's key
    first_seen: Mapped[date | None] = mapped_column(sa.Date, index=True)
    last_seen: Mapped[date | None] = mapped_column(sa.Date, index=True)
    article_count: Mapped[int] = mapped_column(sa.Integer, index=True)
    source_count: Mapped[int] = mapped_column(sa.Integer)
    headline_article_id: Mapped[str] = mapped_column(sa.String(200))  # its first (published, id) article
    main_event_id: Mapped[int | None] = mapped_column(sa.Integer)  # story_events.id
    top_entities: Mapped[list[dict[str, object]]] = mapped_column(sa.JSON)
    country: Mapped[str | None] = mapped_column(sa.String(2), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now(),
                                                 index=True)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class StoryMergeRow(Base):
    """A story merged into another (0006): ``old_id`` resolves to ``new_id`` (kept pointing at the survivor)."""

    __tablename__ = "story_merges"

    old_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    new_id: Mapped[int] = mapped_column(sa.Integer, index=True)
    article_id: Mapped[str | None] = mapped_column(sa.String(200))  # the article that joined them
    merged_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class StoryEventRow(Base):
    """One event of a story however many articles report it (0006): same type, actor, target, within days."""

    __tablename__ = "story_events"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(sa.ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(sa.Text)
    actor_id: Mapped[int | None] = mapped_column(sa.Integer)
    target_id: Mapped[int | None] = mapped_column(sa.Integer)
    location_id: Mapped[int | None] = mapped_column(sa.Integer)
    first_date: Mapped[date | None] = mapped_column(sa.Date)
    last_date: Mapped[date | None] = mapped_column(sa.Date)
    mentions: Mapped[int] = mapped_column(sa.Integer)
    articles: Mapped[int] = mapped_column(sa.Integer)
    sources: Mapped[int] = mapped_column(sa.Integer)


class EntityLabelRow(Base):
    """The label an article gave an entity (0008): the votes of the entity's consensus label."""

    __tablename__ = "entity_labels"

    article_id: Mapped[str] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    entity_id: Mapped[int] = mapped_column(sa.ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)
    label: Mapped[str] = mapped_column(sa.Text)
    mentions: Mapped[int] = mapped_column(sa.Integer)


class EntityFormRow(Base):
    """A normalised form an entity was named by in some article (0008): "ebbers" for Bernard Ebbers."""

    __tablename__ = "entity_forms"

    key: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    entity_id: Mapped[int] = mapped_column(sa.ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)


class EntityLabelChangeRow(Base):
    """A change of an entity's consensus label (0008); ``old_label`` is NULL for its first label."""

    __tablename__ = "entity_label_history"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    entity_id: Mapped[int] = mapped_column(sa.Integer, index=True)  # kept pointing at a merge's survivor
    old_label: Mapped[str | None] = mapped_column(sa.Text)
    new_label: Mapped[str] = mapped_column(sa.Text)
    votes: Mapped[str] = mapped_column(sa.Text)  # "ORG 12, PERSON 3": articles per label then
    article_id: Mapped[str | None] = mapped_column(sa.String(200))  # one article of the batch that changed it
    changed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class EntityMergeRow(Base):
    """An entity merged into another (0008): ``old_id`` (deleted) -> ``new_id``, why and when."""

    __tablename__ = "entity_merges"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    old_id: Mapped[int] = mapped_column(sa.Integer, index=True)
    old_name: Mapped[str] = mapped_column(sa.Text)
    old_label: Mapped[str] = mapped_column(sa.Text)
    new_id: Mapped[int] = mapped_column(sa.Integer, index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    article_id: Mapped[str | None] = mapped_column(sa.String(200))
    merged_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


metadata = Base.metadata
articles = cast(sa.Table, ArticleRow.__table__)
entities = cast(sa.Table, EntityRow.__table__)
entity_aliases = cast(sa.Table, EntityAliasRow.__table__)
mentions = cast(sa.Table, MentionRow.__table__)
events = cast(sa.Table, EventRow.__table__)
article_entities = cast(sa.Table, ArticleEntityRow.__table__)
entity_stats = cast(sa.Table, EntityStatsRow.__table__)
places = cast(sa.Table, PlaceRow.__table__)
article_places = cast(sa.Table, ArticlePlaceRow.__table__)
stories = cast(sa.Table, StoryRow.__table__)
story_merges = cast(sa.Table, StoryMergeRow.__table__)
story_events = cast(sa.Table, StoryEventRow.__table__)
entity_labels = cast(sa.Table, EntityLabelRow.__table__)
entity_forms = cast(sa.Table, EntityFormRow.__table__)
entity_label_history = cast(sa.Table, EntityLabelChangeRow.__table__)
entity_merges = cast(sa.Table, EntityMergeRow.__table__)

# Analyst views (created by migration 0002; not part of ``metadata``).
VIEWS = ("event_view", "entity_daily_mentions")
