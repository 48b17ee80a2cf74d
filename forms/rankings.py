"""WTForms form of the rankings area: a campaign's expert-pool rule and assignment-priority weights."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField
from wtforms.validators import InputRequired, NumberRange, Optional

from forms.numbers import FiniteDecimalField


class RankingRulesForm(FlaskForm):
    min_cases = IntegerField(_l("Minimum reviewed cases"), validators=[InputRequired(), NumberRange(0, 10_000)])
    lower_bound = FiniteDecimalField(_l("Lower bound of the score interval at least"),
                               validators=[Optional(), NumberRange(0, 100)],
                               description=_l("Leave empty to ignore the score."))
    min_share_lower_bound = FiniteDecimalField(_l("Lower bound of the excellent-or-good share at least (0-1)"),
                                         validators=[Optional(), NumberRange(0, 1)])
    no_veto = BooleanField(_l("No veto in the period"))
    level = FiniteDecimalField(_l("Confidence level of the intervals"), validators=[InputRequired(),
                                                                             NumberRange(0.5, 0.999)])
    pivot = FiniteDecimalField(_l("Priority: score of weight 1"), validators=[InputRequired(), NumberRange(0, 100)])
    slope = FiniteDecimalField(_l("Priority: weight per point above it"), validators=[InputRequired(),
                                                                               NumberRange(0, 1)])
    floor = FiniteDecimalField(_l("Priority: lowest weight"), validators=[InputRequired(), NumberRange(0, 10)])
    cap = FiniteDecimalField(_l("Priority: highest weight"), validators=[InputRequired(), NumberRange(0, 10)])
    pool_bonus = FiniteDecimalField(_l("Priority: bonus for members of the expert pool"),
                              validators=[InputRequired(), NumberRange(0, 10)])
    window_years = IntegerField(_l("Record: published campaigns of the last how many years"),
                                validators=[InputRequired(), NumberRange(1, 20)])
    year_decay = FiniteDecimalField(_l("Record: weight of a case one year older (1 = all years count fully)"),
                              validators=[InputRequired(), NumberRange(0.05, 1)])

    def to_rules(self) -> dict[str, Any]:
        def num(field: Any) -> float | None:
            return None if field.data is None else float(field.data)

        return {"min_cases": self.min_cases.data, "lower_bound": num(self.lower_bound),
                "min_share_lower_bound": num(self.min_share_lower_bound), "no_veto": bool(self.no_veto.data),
                "level": num(self.level), "window_years": self.window_years.data,
                "year_decay": num(self.year_decay),
                "priority": {k: num(getattr(self, k)) for k in ("pivot", "slope", "floor", "cap", "pool_bonus")}}


class RankingWeightsForm(FlaskForm):
    """One weight per source (0-1, summing to 1; empty is 0). The range, the sum and the peer review's weight
    are checked by :func:`evalplat.rankings.weights.parse_weights`, whose errors name the source."""

    peer_review = FiniteDecimalField(_l("Peer review"), validators=[Optional()])
    self_evaluation = FiniteDecimalField(_l("Self-evaluation (the agency's own view)"), validators=[Optional()])
    followup = FiniteDecimalField(_l("Follow-up visits: satisfied, no breach"), validators=[Optional()])
    closing = FiniteDecimalField(_l("Closing review: checks passed"), validators=[Optional()])

    def to_values(self) -> dict[str, Any]:
        return {name: (0.0 if getattr(self, name).data is None else str(getattr(self, name).data))
                for name in ("peer_review", "self_evaluation", "followup", "closing")}
