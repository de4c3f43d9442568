"""Alembic environment for newsstream.

Run programmatically by ``pipeline.store.db`` (which hands over a connection in
``config.attributes["connection"]``), or by hand::

    alembic -c migrations/alembic.ini upgrade head                  # NEWSSTREAM_DATABASE_URL
    alembic -c migrations/alembic.ini -x url=sqlite:///x.db upgrade head
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from pipeline.store.models import VIEWS, metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("connection") is None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Autogenerate/compare: the analyst views and Alembic's own table are not models."""
    return not (type_ == "table" and name in (*VIEWS, "alembic_version"))


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from pipeline.config import load_settings

    return load_settings().database_url_with_password()


def _configure(**kwargs: object) -> None:
    context.configure(target_metadata=metadata, include_name=include_name, compare_type=True, **kwargs)


def run_offline() -> None:
    url = _url()
    _configure(url=url, literal_binds=True, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        return

    from pipeline.store.db import make_engine, translate_errors

    url = _url()
    engine = make_engine(url, sqlite_foreign_keys=False)
    try:
        with translate_errors(url), engine.begin() as conn:
            _configure(connection=conn, render_as_batch=conn.dialect.name == "sqlite")
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
