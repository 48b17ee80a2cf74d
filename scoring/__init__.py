"""Statistics for evalplat: inter-rater reliability, reviewer calibration, consensus and rankings.

Pure numpy/scipy (no Flask, SQLAlchemy, pandas or evalplat imports). Ratings are long-format
(unit, rater, value) triples held by :class:`Ratings`; every function also accepts a 2-D
units × raters array with NaN for a missing rating.
"""

from . import calibration, consensus, ranking, reliability, survey
from ._ratings import Ratings

__all__ = ["Ratings", "calibration", "consensus", "ranking", "reliability", "survey"]
