"""Reads of results: consolidation overview, reliability panel, agency results, circular figures, decisions.

Every query is scoped (an agency sees only rows ``where agency_id == user.agency_id``) and aggregate or joined
(no N+1). The reliability panel reads ratings in long format and never builds a dense case × reviewer matrix.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import string
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.assignments.models import Assignment, AssignmentRound
from evalplat.campaigns.models import PUBLISHED_STATES, Campaign, Sample
from evalplat.cases.models import Case
from evalplat.cases.queries import offer_visible
from evalplat.db import DbSession
from evalplat.extensions import db
from evalplat.organisations.models import Agency, Region, ReviewerProfile
from evalplat.results.models import Result
from evalplat.results.operations import OPEN, campaign_ratings
from evalplat.reviews.models import Review, ReviewItem, ReviewState, RubricVersion
from evalplat.reviews.rubrics import rubric_of
from scoring import Ratings
from scoring.calibration import fit_rater_effects
from scoring.reliability import ICCResult, icc, krippendorff_alpha

if TYPE_CHECKING:
    from evalplat.appeals.models import Appeal

#: A reviewer is flagged lenient or severe when |bias| ≥ this many points and |bias| / SE > Z_FLAG.
BIAS_POINTS_FLAG = 3.0
Z_FLAG = 2.576
#: … inconsistent when their residual SD exceeds this multiple of the pooled residual SD.
CONSISTENCY_FLAG = 1.5
MIN_CASES_FLAG = 3


def reviewer_letter(index: int) -> str:
    """A, B, … Z, AA, AB … — the anonymous name of the index-th reviewer of a case."""
    letters = string.ascii_uppercase
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = letters[rest] + name
    return name


# --- organiser: consolidation overview ----------------------------------------------------------------------


@dataclass
class Overview:
    samples: int
    by_kind: dict[str, int]
    adjudicating: int
    unfinished: list[str]
    unfinished_total: int
    escalated: int


def overview(campaign: Campaign, *, limit: int = 50) -> Overview:
    """Counts of a campaign's results by kind, cases in adjudication, and the unfinished cases (first ``limit``)."""
    session = db.session
    samples = session.scalar(sa.select(sa.func.count()).select_from(Sample).where(
        Sample.campaign_id == campaign.id, Sample.is_training.is_(False))) or 0
    by_kind = {str(k): n for k, n in session.execute(
        sa.select(Result.kind, sa.func.count()).join(Sample, Sample.id == Result.sample_id)
        .where(Sample.campaign_id == campaign.id, Result.current.is_(True)).group_by(Result.kind))}
    has_result = sa.select(Result.id).where(Result.current.is_(True), Result.sample_id == Sample.id).exists()
    adjudicating = session.scalar(sa.select(sa.func.count(sa.distinct(Assignment.sample_id)))
                                  .join(Sample, Sample.id == Assignment.sample_id)
                                  .where(Sample.campaign_id == campaign.id, Assignment.round == AssignmentRound.ADJUDICATION,
                                         Assignment.state.in_(OPEN), ~has_result)) or 0
    escalated = session.scalar(sa.select(sa.func.count(sa.distinct(Assignment.sample_id)))
                               .join(Sample, Sample.id == Assignment.sample_id)
                               .where(Sample.campaign_id == campaign.id,
                                      Assignment.round == AssignmentRound.ADJUDICATION)) or 0
    unfinished_q = sa.select(Sample.code).where(Sample.campaign_id == campaign.id, Sample.is_training.is_(False),
                                                ~has_result)
    total_unfinished = session.scalar(sa.select(sa.func.count()).select_from(unfinished_q.subquery())) or 0
    codes = list(session.scalars(unfinished_q.order_by(Sample.code).limit(limit)))
    return Overview(samples, by_kind, adjudicating, codes, total_unfinished, escalated)


def results_page(campaign: Campaign, *, page: int, per_page: int) -> tuple[list[Any], int]:
    """Current results of a campaign, one joined query per page: code, case type, kind, totals, grade."""
    base = (sa.select(Sample.id, Sample.code, Case.case_type, Result.kind, Result.total, Result.raw_total,
                      Result.calibrated_total, Result.grade, Result.disagreement)
            .join(Result, sa.and_(Result.sample_id == Sample.id, Result.current.is_(True)))
            .join(Case, Case.id == Sample.case_id).where(Sample.campaign_id == campaign.id))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
    rows = db.session.execute(base.order_by(Sample.code).offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def history(sample_id: int) -> list[Result]:
    """Every result of a sample, newest first (current and history)."""
    return list(db.session.scalars(sa.select(Result).where(Result.sample_id == sample_id)
                                   .order_by(Result.id.desc())))


# --- reliability panel ----------------------------------------------------------------------------------------


@dataclass
class ItemReliability:
    rubric: str
    code: str
    label: str
    ratings: int
    cases: int
    alpha: float | None
    icc: float | None


@dataclass
class ReviewerEffect:
    reviewer_id: int
    name: str
    cases: int
    bias: float
    bias_se: float
    residual_sd: float | None
    flags: list[str]


@dataclass
class Panel:
    cases: int
    reviews: int
    reviewers: int
    alpha: float | None
    icc1: Any
    icc1k: Any
    items: list[ItemReliability]
    effects: list[ReviewerEffect]
    residual_sd: float | None
    groups: int
    escalated: int
    consolidated: int
    flagged: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def share_escalated(self) -> float | None:
        return self.escalated / self.consolidated if self.consolidated else None


def _finite(value: Any) -> float | None:
    """A float that JSON (and PostgreSQL's json type) can hold: NaN and infinities become None."""
    return float(value) if value is not None and math.isfinite(value) else None


def _alpha(r: Ratings) -> float | None:
    try:
        return _finite(krippendorff_alpha(r, level="interval"))
    except ValueError:
        return None


def _icc(r: Ratings, form: str) -> dict[str, Any] | None:
    """The ICC result as plain JSON-safe fields (NaN → None); None where it is undefined."""
    try:
        value = icc(r, form=form)
    except (ValueError, ZeroDivisionError):  # e.g. no variance within any case: ICC undefined
        return None
    if not math.isfinite(value.value):
        return None
    return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}


def _plain(value: Any) -> Any:
    """numpy scalars to Python ones, non-finite floats to None."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return _finite(float(value))
    return value


def _icc_result(fields: dict[str, Any] | None) -> ICCResult | None:
    if fields is None:
        return None
    values: dict[str, Any] = {k: (math.nan if v is None and k not in ("form", "balanced") else v)
                              for k, v in fields.items()}
    return ICCResult(**values)


def _item_ratings(session: DbSession, campaign: Campaign) -> dict[tuple[int, str], tuple[list[int], list[int], list[float]]]:
    """(rubric version id, item code) → long-format (sample, reviewer, points) of applicable items."""
    stmt = (sa.select(Assignment.sample_id, Assignment.reviewer_id, Review.rubric_version_id, ReviewItem.item_code,
                      ReviewItem.points)
            .join(Review, Review.assignment_id == Assignment.id).join(ReviewItem, ReviewItem.review_id == Review.id)
            .join(Sample, Sample.id == Assignment.sample_id)
            .where(Sample.campaign_id == campaign.id, Sample.is_training.is_(False),
                   Assignment.round == AssignmentRound.INITIAL, Review.state == ReviewState.SUBMITTED,
                   ReviewItem.not_applicable.is_(False), ReviewItem.points.is_not(None)))
    out: dict[tuple[int, str], tuple[list[int], list[int], list[float]]] = {}
    # Core rows, streamed: 1.7 million item scores nationally, without the ORM's per-row loading.
    result = session.connection().execute(stmt, execution_options={"yield_per": 20000})
    for part in result.partitions():
        for sample_id, reviewer_id, version_id, code, points in part:
            key = (version_id, code)
            entry = out.get(key)
            if entry is None:
                entry = out[key] = ([], [], [])
            entry[0].append(sample_id)
            entry[1].append(reviewer_id)
            entry[2].append(cast(float, points))  # the select keeps scored items only
    return out


def _escalation_counts(session: DbSession, campaign: Campaign) -> tuple[int, int]:
    """Cases escalated to adjudication, and cases consolidated or in adjudication."""
    escalated = session.scalar(sa.select(sa.func.count(sa.distinct(Assignment.sample_id)))
                               .join(Sample, Sample.id == Assignment.sample_id)
                               .where(Sample.campaign_id == campaign.id,
                                      Assignment.round == AssignmentRound.ADJUDICATION)) or 0
    consolidated = session.scalar(
        sa.select(sa.func.count(sa.distinct(Result.sample_id))).join(Sample, Sample.id == Result.sample_id)
        .where(Sample.campaign_id == campaign.id, Result.current.is_(True))) or 0
    consolidated = max(consolidated + (session.scalar(
        sa.select(sa.func.count(sa.distinct(Assignment.sample_id))).join(Sample, Sample.id == Assignment.sample_id)
        .where(Sample.campaign_id == campaign.id, Assignment.round == AssignmentRound.ADJUDICATION,
               Assignment.state.in_(OPEN))) or 0), escalated)
    return escalated, consolidated


def reliability_figures(session: DbSession, campaign: Campaign, *, with_items: bool = True) -> dict[str, Any]:
    """The reliability panel's figures as plain JSON-safe data, without names or locale-dependent labels.

    Krippendorff's alpha (interval) and ICC(1)/ICC(1,k) on totals and per rubric item; the additive
    rater-effects model (:func:`scoring.calibration.fit_rater_effects`) for each reviewer's leniency (bias,
    with its standard error and the number of cases it rests on) and consistency (residual SD), and from the
    same fit the bias-corrected total of every case (``corrected``: sample id → score). Flags: a bias of at
    least :data:`BIAS_POINTS_FLAG` points that is significant at 1 % (|bias|/SE > 2.576), or a residual SD
    above :data:`CONSISTENCY_FLAG` × the pooled one, for reviewers with at least :data:`MIN_CASES_FLAG` cases.
    :func:`panel_from_figures` turns them into a :class:`Panel` for one locale.
    """
    ratings = campaign_ratings(session, campaign)
    escalated, consolidated = _escalation_counts(session, campaign)
    figures: dict[str, Any] = {"cases": 0, "reviews": 0, "reviewers": 0, "alpha": None, "icc1": None,
                               "icc1k": None, "items": [], "effects": [], "residual_sd": None, "groups": 0,
                               "escalated": escalated, "consolidated": consolidated, "corrected": {}}
    if ratings is None:
        return figures
    fit = fit_rater_effects(ratings)
    pooled = math.sqrt(fit.residual_variance) if fit.residual_df > 0 else None
    figures.update(cases=ratings.n_units, reviews=len(ratings), reviewers=ratings.n_raters,
                   alpha=_alpha(ratings), icc1=_icc(ratings, "ICC1"), icc1k=_icc(ratings, "ICC1k"),
                   residual_sd=_finite(pooled), groups=int(fit.n_groups))
    figures["corrected"] = {str(int(u)): round(min(100.0, max(0.0, float(v))), 4)
                            for u, v in zip(fit.unit_labels, fit.unit_score, strict=True) if np.isfinite(v)}
    for i, label in enumerate(fit.rater_labels):
        n = int(fit.rater_n[i])
        bias, se = float(fit.rater_bias[i]), float(fit.rater_bias_se[i])
        sd = _finite(float(fit.rater_residual_sd[i]))
        flags = []
        if n >= MIN_CASES_FLAG:
            if abs(bias) >= BIAS_POINTS_FLAG and se > 0 and abs(bias) / se > Z_FLAG:
                flags.append("lenient" if bias > 0 else "severe")
            if pooled and sd is not None and sd > CONSISTENCY_FLAG * pooled:
                flags.append("inconsistent")
        figures["effects"].append({"reviewer_id": int(label), "cases": n, "bias": bias, "bias_se": se,
                                   "residual_sd": sd, "flags": flags})
    figures["effects"].sort(key=lambda e: (-len(e["flags"]), -abs(e["bias"])))
    if with_items:
        versions = {row.id: row for row in session.scalars(sa.select(RubricVersion).where(
            RubricVersion.id.in_(sa.select(Review.rubric_version_id).join(Assignment, Assignment.id == Review.assignment_id)
                                 .join(Sample, Sample.id == Assignment.sample_id)
                                 .where(Sample.campaign_id == campaign.id).distinct())))}
        for (version_id, code), (units, raters, values) in sorted(_item_ratings(session, campaign).items()):
            row = versions.get(version_id)
            labels = {"zh": code, "en": code}
            rubric_name = str(version_id)
            if row is not None:
                rubric_name = f"{row.key} v{row.version}"
                with contextlib.suppress(KeyError):
                    labels = rubric_of(row).item(code).label.to_dict()
            r = Ratings.from_long(np.asarray(units), np.asarray(raters), np.asarray(values, dtype=np.float64))
            item_icc = _icc(r, "ICC1")
            figures["items"].append({"rubric": rubric_name, "code": code, "labels": labels, "ratings": len(r),
                                     "cases": r.n_units, "alpha": _alpha(r),
                                     "icc": item_icc["value"] if item_icc else None})
    return figures


_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities as the strings JSON lacks numbers for (PostgreSQL's json refuses them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def from_json(value: Any) -> Any:
    """The inverse of :func:`json_safe`."""
    if isinstance(value, str):
        return _NON_FINITE.get(value, value)
    if isinstance(value, dict):
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def panel_from_figures(figures: dict[str, Any], *, locale: str = "zh") -> Panel:
    """The :class:`Panel` of :func:`reliability_figures` in ``locale``, with the reviewers' current names."""
    figures = from_json(figures)
    ids = [e["reviewer_id"] for e in figures["effects"]]
    names = dict(db.session.execute(sa.select(ReviewerProfile.id, User.display_name)
                                    .join(User, User.id == ReviewerProfile.user_id)
                                    .where(ReviewerProfile.id.in_(ids))).all()) if ids else {}
    language = "zh" if str(locale).startswith("zh") else "en"
    effects = [ReviewerEffect(e["reviewer_id"], names.get(e["reviewer_id"], str(e["reviewer_id"])), e["cases"],
                              e["bias"], e["bias_se"], e["residual_sd"], list(e["flags"])) for e in figures["effects"]]
    items = [ItemReliability(i["rubric"], i["code"], i["labels"].get(language, i["code"]), i["ratings"], i["cases"],
                             i["alpha"], i["icc"]) for i in figures["items"]]
    return Panel(cases=figures["cases"], reviews=figures["reviews"], reviewers=figures["reviewers"],
                 alpha=figures["alpha"], icc1=_icc_result(figures["icc1"]), icc1k=_icc_result(figures["icc1k"]),
                 items=items, effects=effects, residual_sd=figures["residual_sd"], groups=figures["groups"],
                 escalated=figures["escalated"], consolidated=figures["consolidated"],
                 flagged=sum(1 for e in effects if e.flags))


def reliability_panel(campaign: Campaign, *, locale: str = "zh", with_items: bool = True) -> Panel:
    """The reliability panel computed now (see :func:`reliability_figures`; pages use the stored snapshot)."""
    return panel_from_figures(reliability_figures(db.session, campaign, with_items=with_items), locale=locale)


def calibrated_page(campaign: Campaign, corrected: dict[str, float], *, page: int, per_page: int
                    ) -> tuple[list[dict[str, Any]], int]:
    """Raw and bias-corrected totals side by side for a page of current results.

    ``corrected`` maps a sample id (as text) to its bias-corrected total (``reliability_figures()["corrected"]``).
    """
    rows, total = results_page(campaign, page=page, per_page=per_page)
    return [{"row": r, "corrected": corrected.get(str(r.id))} for r in rows], total


# --- adjudication / appeal decision ---------------------------------------------------------------------------


@dataclass
class AnonymousReview:
    name: str
    total: float | None
    grade: Any
    vetoes: list[str]
    summary: str
    items: dict[str, ReviewItem]


def earlier_reviews(sample_id: int, *, rounds: tuple[AssignmentRound, ...] = (AssignmentRound.INITIAL,)
                    ) -> list[AnonymousReview]:
    """The submitted reviews of a case as 评估人A/B/…: no reviewer id, name or profile leaves this function."""
    reviews = db.session.scalars(
        sa.select(Review).join(Assignment, Assignment.id == Review.assignment_id)
        .where(Assignment.sample_id == sample_id, Assignment.round.in_(rounds), Review.state == ReviewState.SUBMITTED)
        .options(sa.orm.selectinload(Review.items)).order_by(Assignment.id)).all()
    return [AnonymousReview(reviewer_letter(i), r.total, r.grade, list(r.vetoes or []), r.summary_comment,
                            {item.item_code: item for item in r.items}) for i, r in enumerate(reviews)]


def open_decisions(user: User) -> list[Any]:
    """The user's open adjudication and appeal assignments, with the case code (one query); an offer of a
    case whose redaction is not approved waits."""
    profile = user.reviewer_profile
    if profile is None:
        return []
    return list(db.session.execute(
        sa.select(Assignment.id, Assignment.round, Assignment.state, Assignment.due_at, Sample.code, Campaign.name)
        .join(Sample, Sample.id == Assignment.sample_id).join(Campaign, Campaign.id == Sample.campaign_id)
        .where(Assignment.reviewer_id == profile.id, Assignment.state.in_(OPEN),
               Assignment.round.in_([AssignmentRound.ADJUDICATION, AssignmentRound.APPEAL]), offer_visible())
        .order_by(Assignment.due_at, Assignment.id)).all())


# --- agencies ---------------------------------------------------------------------------------------------


def visible_campaigns(user: User) -> list[Campaign]:
    """Campaigns whose results are published (newest first); for an organiser, those of its jurisdiction, of
    its sub-jurisdictions and of its ancestors (:func:`results_campaigns_for`)."""
    from evalplat.organisations.jurisdiction import results_campaigns_for

    stmt = sa.select(Campaign).where(Campaign.state.in_(PUBLISHED_STATES))
    if user.is_organiser:
        stmt = stmt.where(results_campaigns_for(user))
    return list(db.session.scalars(stmt.order_by(Campaign.year.desc(), Campaign.id.desc())))


def agency_results(agency_id: int, campaign: Campaign, *, page: int, per_page: int) -> tuple[list[Any], int]:
    """An agency's current results in a published campaign with its own case numbers (one query per page)."""
    if campaign.state not in PUBLISHED_STATES:
        return [], 0
    from evalplat.appeals.models import Appeal

    appeal_state = sa.select(Appeal.state).where(Appeal.sample_id == Sample.id).limit(1).scalar_subquery()
    base = (sa.select(Sample.id, Sample.code, Case.case_number, Case.case_type, Case.cause, Result.kind, Result.total,
                      Result.grade, appeal_state.label("appeal_state"))
            .join(Case, Case.id == Sample.case_id)
            .join(Result, sa.and_(Result.sample_id == Sample.id, Result.current.is_(True)))
            .where(Sample.campaign_id == campaign.id, Case.agency_id == agency_id, Sample.is_training.is_(False)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
    rows = db.session.execute(base.order_by(Case.case_number).offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


@dataclass
class CaseFeedback:
    sample: Sample
    case: Case
    result: Result
    history: list[Result]
    items: list[dict[str, Any]]
    reviews: list[AnonymousReview]
    appeal: Appeal | None


def case_feedback(sample: Sample, *, locale: str) -> CaseFeedback | None:
    """What an agency sees of one of its published cases: final score and grade, per-item points with every
    reviewer's comment (reviewers anonymous), the result history and the appeal."""
    results = history(sample.id)
    current = next((r for r in results if r.current), None)
    if current is None:
        return None
    reviews = earlier_reviews(sample.id)
    version_id = db.session.scalar(
        sa.select(Review.rubric_version_id).join(Assignment, Assignment.id == Review.assignment_id)
        .where(Assignment.sample_id == sample.id).limit(1))
    row = db.session.get(RubricVersion, version_id) if version_id else None
    items: list[dict[str, Any]] = []
    if row is not None:
        for item in rubric_of(row).items:
            comments = [(r.name, r.items[item.code].comment) for r in reviews
                        if item.code in r.items and r.items[item.code].comment]
            items.append({"code": item.code, "label": item.label.get(locale), "max": item.max_points,
                          "points": (current.item_points or {}).get(item.code), "comments": comments})
    from evalplat.appeals.models import Appeal

    appeal = db.session.scalar(sa.select(Appeal).where(Appeal.sample_id == sample.id)
                               .options(sa.orm.selectinload(Appeal.attachments)))
    return CaseFeedback(sample, sample.case, current, results, items, reviews, appeal)


# --- circular --------------------------------------------------------------------------------------------------


@dataclass
class CircularRow:
    agency: str
    city: str
    cases: int
    mean: float
    excellent: int
    good: int
    passed: int
    failed: int

    @property
    def share_good(self) -> float:
        return (self.excellent + self.good) / self.cases if self.cases else 0.0


def circular(campaign: Campaign) -> list[CircularRow]:
    """Province-wide figures per agency (one aggregate query): cases, mean total, grade counts."""
    grade = Result.grade
    rows = db.session.execute(
        sa.select(Agency.name, Region.name, sa.func.count(), sa.func.avg(Result.total),
                  *[sa.func.sum(sa.case((grade == g, 1), else_=0)) for g in ("excellent", "good", "pass", "fail")])
        .select_from(Sample).join(Case, Case.id == Sample.case_id).join(Agency, Agency.id == Case.agency_id)
        .join(Region, Region.id == Agency.city_id)
        .join(Result, sa.and_(Result.sample_id == Sample.id, Result.current.is_(True)))
        .where(Sample.campaign_id == campaign.id, Sample.is_training.is_(False))
        .group_by(Agency.id, Agency.name, Region.name).order_by(Region.name, Agency.name)).all()
    return [CircularRow(a, c, int(n), float(m or 0), int(e or 0), int(g or 0), int(p or 0), int(f or 0))
            for a, c, n, m, e, g, p, f in rows]


def grade_totals(rows: list[CircularRow]) -> dict[str, Any]:
    cases = sum(r.cases for r in rows)
    good = sum(r.excellent + r.good for r in rows)
    mean = sum(r.mean * r.cases for r in rows) / cases if cases else 0.0
    return {"cases": cases, "share_good": good / cases if cases else 0.0, "mean": mean}



# --- what an appeal re-reviewer reads of the appeal ------------------------------------------------------------


@dataclass(frozen=True)
class AppealForReReview:
    """The agency's appeal as the re-reviewer reads it: reasons and attachments redacted, items labelled."""

    reason: str
    items: list[str]
    attachments: list[tuple[str, str | None, str]]  # (placeholder name, redacted text or None, why none)


def appeal_for_rereview(appeal: Any, case: Any, rubric: Any, *, locale: str) -> AppealForReReview:
    """The appeal's reasons and its attachments' text redacted with the case's known names (as the case file is).

    The texts redacted when the appeal was filed (``Appeal.reason_redacted``, ``AppealAttachment.redacted_text``:
    what the organiser saw before accepting it) are read as stored; only an appeal filed before they were kept,
    or an attachment whose text could not be read then, is redacted here. Attachments are read from their text
    layer (PDF), as Word documents or as plain text; a scan without a text layer is not OCR'd on the page and
    says so.
    """
    from flask_babel import gettext as _

    from evalplat.cases.operations import redact_for_case
    from evalplat.extract.core import extract_text
    from evalplat.files.errors import CodedError
    from evalplat.services import get_storage

    items = [_item_label(code, rubric, locale) for code in appeal.contested_items or []]
    attachments: list[tuple[str, str | None, str]] = []
    for number, att in enumerate(appeal.attachments, start=1):
        name = _("Attachment %(n)d", n=number)
        if att.redacted_text is not None:
            attachments.append((name, att.redacted_text, ""))
            continue
        try:
            text = extract_text(get_storage().get(att.storage_key), att.original_filename, ocr="never").text
        except (CodedError, OSError, ValueError):
            attachments.append((name, None, _("Its text could not be read; the organiser has the file.")))
            continue
        if not text.strip():
            attachments.append((name, None, _("A scan without a text layer; the organiser has the file.")))
            continue
        attachments.append((name, redact_for_case(case, text), ""))
    reason = appeal.reason_redacted if appeal.reason_redacted is not None else redact_for_case(case, appeal.reason or "")
    return AppealForReReview(reason, items, attachments)


def _item_label(code: str, rubric: Any, locale: str) -> str:
    """A contested item's name in the case's rubric ("total" for the overall score)."""
    from evalplat.results.labels import result_label

    if code in {item.code for item in rubric.items}:
        return str(rubric.item(code).label.get(locale))
    return result_label(code)


# --- estimates weighted by the inverse inclusion probability (risk-weighted samples) ------------------------------


@dataclass(frozen=True)
class WeightedFigures:
    """Province-wide estimates from a risk-weighted sample (Hájek, each case weighted by 1 / its probability).

    ``mean`` is the estimated mean total of all cases in the population, ``share_good`` the estimated share
    graded excellent or good; their ``unweighted`` fields are the plain sample figures, which describe the drawn
    cases only."""

    n: int
    mean: Any  # scoring.survey.WeightedEstimate
    share_good: Any
    population: float
    cases_with_signals: int


def weighted_figures(session: DbSession, campaign: Campaign, *, level: float = 0.95) -> WeightedFigures | None:
    """The weighted estimates of a risk-weighted campaign's current results; None for other plans, when no case
    has a result yet, or when a result's sample carries no inclusion probability."""
    from evalplat.campaigns.models import SamplingMode
    from scoring.survey import hajek_mean

    if campaign.plan is None or campaign.plan.mode != SamplingMode.RISK:
        return None
    rows = session.execute(
        sa.select(Result.total, Result.grade, Sample.inclusion_probability, Sample.stratum, Sample.risk_signals)
        .join(Result, sa.and_(Result.sample_id == Sample.id, Result.current.is_(True)))
        .where(Sample.campaign_id == campaign.id, Sample.is_training.is_(False))).all()
    if not rows or any(r.inclusion_probability is None for r in rows):
        return None
    total = [float(r.total) for r in rows]
    good = [1.0 if str(r.grade) in ("excellent", "good") else 0.0 for r in rows]
    p = [float(r.inclusion_probability) for r in rows]
    strata = [r.stratum for r in rows]
    mean = hajek_mean(total, p, strata=strata, level=level)
    return WeightedFigures(len(rows), mean, hajek_mean(good, p, strata=strata, level=level), mean.population,
                           sum(1 for r in rows if r.risk_signals))
