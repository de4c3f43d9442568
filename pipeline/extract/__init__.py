"""The extraction layer: pure functions from spaCy Docs to plain records (entities and events).

Public API: ``EXTRACTOR_VERSION``, ``load_nlp``, ``extract_doc``, ``extract_articles``.
Rules live in small modules: ``nlp`` (loading), ``entities`` (span cleanup, titles, dateline,
canonical names), ``coref`` (appositions, role phrases, pronouns), ``events`` (clause and nominal
events), ``dates`` (dates relative to publication), ``modality``, ``lexicon`` + ``lexicon.json``.
"""

from pipeline.extract.core import extract_articles, extract_doc
from pipeline.extract.nlp import load_nlp

EXTRACTOR_VERSION = "2026.12.3"  # .3: WordNet non-events, CREATE; .2: families, statements, labels; .1: places

__all__ = ["EXTRACTOR_VERSION", "extract_articles", "extract_doc", "load_nlp"]
