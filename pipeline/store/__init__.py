"""SQL storage: models, engines + migrations, the batch writer and read queries.

    from pipeline.store.db import make_engine, upgrade
    from pipeline.store.writer import Position, write_batch
    from pipeline.store.query.overview import summary, get_article, resolve_entity
"""
