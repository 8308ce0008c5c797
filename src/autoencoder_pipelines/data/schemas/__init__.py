"""The input formats, declared once each: C-MAPSS engine logs, pacemaker episode logs
and MNIST images.

The two tables are pandera schemas (:func:`engine_log_schema`, :func:`episode_log_schema`);
the images, grids of grey levels rather than tables, are checked by
:func:`validate_images`. The same declaration is used wherever such data enters:

- the catalog: the parsed files declare ``validator:`` with :class:`EngineLogValidator`
  or :class:`EpisodeLogValidator` (``conf/base/catalog.yml``), so Kedro checks them when
  the ingestion node saves them, before any later node runs;
- ``rul_inference`` / ``af_inference``, through the same catalog validators;
- the served models (``serving``), on every request.

A refused input raises the format's error (``CMAPSSValidationError``,
``PacemakerValidationError``, ``MNISTValidationError``) with one line per problem, up to
:data:`SHOWN`: the file or request, the row (counted from 1, a header not counted, with
the engine's unit and cycle or the patient), the column and the check, e.g.::

    request: row 3 (unit 1, cycle 3), column 's_4': 1e+308 is outside the engine envelope
    [919.6, 1545.5] (in_range)

Physical ranges: every operating setting and sensor must lie inside the envelope of the
C-MAPSS data, widened by :data:`ENVELOPE_MARGIN` of its span on each side (the table and
its sources: :data:`ENVELOPE`). The envelope is the format's, for all four fleets; whether
an engine resembles the ones a model was trained on is the model's out-of-distribution
flag (``monitoring``), not the schema's.
"""

from autoencoder_pipelines.data.schemas.cmapss import (
    ENVELOPE,
    ENVELOPE_MARGIN,
    engine_log_schema,
    envelope,
    validate_engine_log,
    validate_rul_table,
)
from autoencoder_pipelines.data.schemas.common import SHOWN
from autoencoder_pipelines.data.schemas.mnist import validate_images
from autoencoder_pipelines.data.schemas.pacemaker import (
    episode_log_schema,
    validate_episode_log,
)
from autoencoder_pipelines.data.schemas.validators import (
    EngineLogValidator,
    EpisodeLogValidator,
    RULTableValidator,
)

__all__ = [
    "ENVELOPE",
    "ENVELOPE_MARGIN",
    "SHOWN",
    "EngineLogValidator",
    "EpisodeLogValidator",
    "RULTableValidator",
    "engine_log_schema",
    "envelope",
    "episode_log_schema",
    "validate_engine_log",
    "validate_episode_log",
    "validate_images",
    "validate_rul_table",
]
