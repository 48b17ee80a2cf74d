"""Reproducible, verifiable stratified sampling of closed legal-aid cases (pure; no Flask, no database).

>>> from evalplat.sampling import PopulationRecord, SamplingPlan, draw
"""

from evalplat.sampling.draw import ALGORITHM, SampleResult, StratumReport, draw, rank_hash, stratum_function
from evalplat.sampling.errors import SamplingError
from evalplat.sampling.plan import MODES, STRATUM_FIELDS, SamplingPlan
from evalplat.sampling.records import PopulationRecord, canonical_line, order_population, population_digest

__all__ = [
    "ALGORITHM", "MODES", "STRATUM_FIELDS", "PopulationRecord", "SampleResult", "SamplingError", "SamplingPlan",
    "StratumReport", "canonical_line", "draw", "order_population", "population_digest", "rank_hash",
    "stratum_function",
]
