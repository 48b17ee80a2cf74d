"""Demo campaigns: at every level of the jurisdiction tree, each run by its own organiser.

* Guangdong (``organiser``): one campaign through every stage (published, with appeals) over four cities —
  Jiangmen among them, so that Jiangmen sees the province's published results for its agencies — and a second
  one still in scoring;
* Jiangmen (``organiser.jiangmen``): a city campaign of its own over 20 % of its county agencies' files, published; its
  reviewers come from the province's expert team and from Jiangmen's own pool, regional avoidance applied;
* Guangxi (``organiser.guangxi``): the second province's own campaign, published.

Everything goes through the real operations — sampling (plan, seed, freeze, draw), redaction approval,
assignment (preview, commit), the reviewer's accept and submit, consolidation and adjudication, official
scores, publication, the circular and appeals — with simulated scores from a seeded model:

    item fraction = case quality + reviewer leniency + noise   (clipped to 0–1, times the item's maximum)
    case quality  = the lawyer's skill (higher for the lawyers an agency relies on) + the case's own luck

so that most cases agree, some disagree and are adjudicated, and the reliability panel has real structure.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import Role, User, UserRole
from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentState
from evalplat.campaigns.models import Campaign, CampaignState, Sample
from evalplat.db import DbSession
from evalplat.errors import InvalidTransition
from evalplat.organisations.models import Agency, Region, RegionLevel
from forms.review import SUBMIT, ItemEntry, ReviewScores
from forms.rubrics import Rubric, level_for_points

__all__ = ["DemoCampaigns", "build_demo_campaigns", "review_scores", "score_assignment"]


def review_scores(rubric: Rubric, fraction: float | dict[str, float], *, veto: str | None = None,
                  comment: str = "", rng: random.Random | None = None, noise: float = 0.0) -> ReviewScores:
    """A complete, valid review of ``rubric``: every item at ``fraction`` of its maximum (per item with a dict).

    Parameters
    ----------
    rubric : Rubric
    fraction : float or dict
        Share of each item's maximum points, 0–1.
    veto : str, optional
        A veto item to trigger.
    comment : str
        A comment written on every item that lost points.
    rng : random.Random, optional
        With ``noise`` > 0, each item's fraction is perturbed by a normal draw of that SD.
    """
    entries: dict[str, ItemEntry] = {}
    points: dict[str, Any] = {}
    for item in rubric.items:
        f = fraction.get(item.code, 1.0) if isinstance(fraction, dict) else fraction
        if rng is not None and noise > 0:
            f += rng.gauss(0.0, noise)
        value = int(round(min(1.0, max(0.0, f)) * float(item.max_points)))
        level = level_for_points(item, value)
        note = comment if comment and value < item.max_points else ""
        entries[item.code] = ItemEntry(item.code, level.code, value, False, veto == item.code, note)
        points[item.code] = value
    return ReviewScores(mode=SUBMIT, entries=entries, points=points, vetoes=(veto,) if veto else ())


def score_assignment(session: DbSession, assignment: Assignment, scores: ReviewScores, now: datetime,
                     summary: str = "") -> Any:
    """The reviewer accepts (if needed) and submits a review, through the workspace's operations."""
    from evalplat.reviews.operations import accept_assignment, submit_review

    user = assignment.reviewer.user
    if assignment.state == AssignmentState.OFFERED:
        accept_assignment(session, assignment=assignment, actor=user, now=now)
    review = submit_review(session, assignment=assignment, actor=user, data=scores, now=now)
    if summary:
        review.summary_comment = summary
    return review


COMMENTS = ("会见笔录不够完整，未记录告知权利义务。", "证据收集不充分，未调取关键书证。", "代理意见结构清晰但论证不足。",
            "结案归档材料缺少回访记录。", "辩护意见针对性强，采纳情况良好。")


@dataclass
class DemoCampaigns:
    """What :func:`build_demo_campaigns` made (``levels``: the city's and the second province's campaigns)."""

    published: int
    scoring: int
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    levels: dict[str, int] = field(default_factory=dict)


def _organiser(session: DbSession, username: str | None = None) -> User:
    """The organiser called ``username``; by default the first organiser (the main province's)."""
    query = sa.select(User).join(UserRole, UserRole.user_id == User.id).where(UserRole.role == Role.ORGANISER)
    if username is not None:
        query = query.where(User.username == username)
    user = session.scalar(query.order_by(User.id).limit(1))
    if user is None:
        raise RuntimeError(f"the demo has no organiser {username or ''}; run `flask --app wsgi demo` first")
    return user


def _city_agencies(session: DbSession, cities: int, skip: int, organiser: User, also: tuple[str, ...] = ()
                   ) -> list[int]:
    """Agencies of the organiser's cities number ``skip`` … ``skip + cities - 1`` in code order (and of its
    cities named in ``also``)."""
    from evalplat.organisations.jurisdiction import in_subtree

    mine = sa.and_(Region.level == RegionLevel.CITY, in_subtree(Region.id, organiser.jurisdiction_id, session))
    city_ids = list(session.scalars(sa.select(Region.id).where(mine).order_by(Region.code).offset(skip)
                                    .limit(cities)))
    city_ids += [c for c in session.scalars(sa.select(Region.id).where(mine, Region.name.in_(also)))
                 if c not in city_ids]
    return list(session.scalars(sa.select(Agency.id).where(Agency.city_id.in_(city_ids)).order_by(Agency.id)))


def _county_agencies(session: DbSession, city_name: str) -> list[int]:
    """The county-level agencies of a city (not the city's own agency)."""
    city = sa.select(Region.id).where(Region.name == city_name, Region.level == RegionLevel.CITY).scalar_subquery()
    return list(session.scalars(sa.select(Agency.id).where(Agency.city_id == city, Agency.region_id != city)
                                .order_by(Agency.id)))


def _approve_redactions(session: DbSession, campaign: Campaign, organiser: User,
                        collect_files: Callable[[DbSession, list[int]], int] | None = None) -> int:
    """Collect the drawn cases' files where the demo stored none, then redact and approve the sampled cases
    (the anonymisation step reviewers depend on)."""
    from evalplat.cases.models import Case, Document
    from evalplat.cases.operations import approve_redaction, redact_case

    drawn = list(session.scalars(sa.select(Sample.case_id).where(Sample.campaign_id == campaign.id)
                                 .order_by(Sample.id)))
    missing = sorted(set(drawn) - set(session.scalars(sa.select(Document.case_id).where(Document.case_id.in_(drawn)))))
    if missing and collect_files is not None:
        collect_files(session, missing)
    elif missing:
        numbers = session.scalars(sa.select(Case.case_number).where(Case.id.in_(missing[:3])))
        raise RuntimeError(f"demo campaign {campaign.code_prefix}: {len(missing)} drawn cases have no file "
                           f"({', '.join(numbers)} …); their reviewers could never open them — generate the demo "
                           "with --documents all")
    done = skipped = 0
    for case_id in drawn:
        redact_case(session, case_id)
        case = session.get(Case, case_id)
        assert case is not None
        try:
            approve_redaction(session, actor=organiser, case=case)
        except InvalidTransition:  # a case without documents (or nothing extracted) has nothing to approve
            skipped += 1
        else:
            done += 1
    return done


#: The province's plan (Guangdong 2022: one case per agency and type) and a city's over its own county agencies,
#: which reviews a share of their files (Jinchang 2024: 20 %) — so that the lawyers a county relies on have the
#: three reviewed cases the expert-pool rule asks for (one or two reviewed cases never make an expert).
PROVINCE_PLAN = {"mode": "fixed", "per_stratum": 1, "fold_administrative": True}
CITY_PLAN = {"mode": "proportion", "rate": "20%", "minimum": 1, "fold_administrative": True}


def _new_campaign(session: DbSession, organiser: User, *, name: str, prefix: str, year: int, agencies: list[int],
                  seed: str, now: datetime, plan: dict[str, Any] | None = None) -> Campaign:
    from evalplat.assignments import operations as assigning
    from evalplat.campaigns import operations as ops

    campaign = ops.create_campaign(session, actor=organiser, name=name, year=year, code_prefix=prefix,
                                   scope_kind="agencies", scope_agency_ids=agencies, reviewers_per_case=3,
                                   min_evaluators=1)
    ops.set_plan(session, actor=organiser, campaign=campaign, plan=dict(plan or PROVINCE_PLAN))
    ops.fix_seed(session, actor=organiser, campaign=campaign, seed=seed, source="demo", now=now)
    ops.freeze_population(session, actor=organiser, campaign=campaign, now=now)
    ops.draw_sample(session, actor=organiser, campaign=campaign, now=now)
    ops.pin_rubrics(session, actor=organiser, campaign=campaign)
    run = assigning.preview_run(session, campaign=campaign, actor=organiser, now=now)
    if not run.proposed:
        raise RuntimeError(f"demo campaign {prefix}: the assignment engine found no assignment: "
                           f"{run.summary.get('problems')}")
    assigning.commit_run(session, run=run, actor=organiser, now=now)
    ops.transition(session, actor=organiser, campaign=campaign, to_state=CampaignState.SCORING, now=now)
    return campaign


def _case_quality(session: DbSession, campaign: Campaign, rng: random.Random, quality: dict[int, float]) -> None:
    """The simulated quality of each sampled case: its lawyer's skill plus the case's own luck.

    Agencies give most of their cases to the lawyers they rely on (a county's few regular legal-aid lawyers take
    dozens of cases a year, most lawyers one or two), and those lawyers' files are the better kept ones: skill
    rises with the log of the lawyer's legal-aid cases of the year (0.78 for one case, about 0.93 for forty),
    so that the busiest lawyers earn a place in the expert pool and the rest stay near the mean of 80.
    """
    from evalplat.cases.models import Case

    rows = session.execute(sa.select(Sample.id, Case.lawyer_id).join(Case, Case.id == Sample.case_id)
                           .where(Sample.campaign_id == campaign.id).order_by(Sample.id)).all()
    lawyers = {lawyer for _sid, lawyer in rows if lawyer is not None}
    load = dict(session.execute(sa.select(Case.lawyer_id, sa.func.count()).where(
        Case.lawyer_id.in_(lawyers), Case.year == campaign.year).group_by(Case.lawyer_id)).all())
    for sample_id, lawyer in rows:
        skill = min(0.95, 0.74 + 0.05 * math.log1p(load.get(lawyer, 0))) if lawyer is not None else 0.8
        quality.setdefault(sample_id, min(0.98, max(0.35, skill + rng.gauss(0.0, 0.06))))


def _score_round(session: DbSession, campaign: Campaign, rng: random.Random, quality: dict[int, float],
                 leniency: dict[int, float], now: datetime, share: float = 1.0) -> int:
    """Submit initial reviews (a share of them) with the simulated model; returns how many."""
    from evalplat.reviews.rubrics import rubric_for_assignment

    _case_quality(session, campaign, rng, quality)
    rows = session.scalars(sa.select(Assignment).join(Sample, Sample.id == Assignment.sample_id)
                           .where(Sample.campaign_id == campaign.id, Assignment.round == AssignmentRound.INITIAL,
                                  Assignment.state.in_([AssignmentState.OFFERED, AssignmentState.ACCEPTED]))
                           .order_by(Assignment.id)).all()
    done = 0
    for assignment in rows:
        if share < 1.0 and rng.random() > share:
            continue
        q = quality[assignment.sample_id]
        lean = leniency.setdefault(assignment.reviewer_id, rng.gauss(0.0, 0.04))
        _row, rubric = rubric_for_assignment(session, assignment)
        veto = None
        if q < 0.45 and rubric.veto_items and rng.random() < 0.5:
            veto = rubric.veto_items[0].code
        scores = review_scores(rubric, q + lean, veto=veto, comment=rng.choice(COMMENTS), rng=rng, noise=0.05)
        score_assignment(session, assignment, scores, now, summary=rng.choice(COMMENTS))
        done += 1
    return done


def _adjudicate(session: DbSession, campaign: Campaign, rng: random.Random, quality: dict[int, float],
                now: datetime) -> int:
    from evalplat.results.operations import decide

    rows = session.scalars(sa.select(Assignment).join(Sample, Sample.id == Assignment.sample_id)
                           .where(Sample.campaign_id == campaign.id, Assignment.round == AssignmentRound.ADJUDICATION,
                                  Assignment.state.in_([AssignmentState.OFFERED, AssignmentState.ACCEPTED]))
                           .order_by(Assignment.id)).all()
    for assignment in rows:
        total = round(100 * min(0.99, max(0.3, quality.get(assignment.sample_id, 0.8) + rng.gauss(0, 0.02))), 1)
        decide(session, assignment=assignment, actor=assignment.reviewer.user, total=total, vetoes=[],
               reasons="复评专家审阅全部卷宗与三位评估人意见后认定：" + rng.choice(COMMENTS), now=now)
    return len(rows)


def _staff_of(session: DbSession, agency_id: int) -> User | None:
    return session.scalar(sa.select(User).join(UserRole, UserRole.user_id == User.id)
                          .where(User.agency_id == agency_id, UserRole.role == Role.AGENCY_STAFF)
                          .order_by(User.id).limit(1))


def _appeals(session: DbSession, campaign: Campaign, organiser: User, now: datetime) -> dict[str, int]:
    from evalplat.appeals.operations import accept_appeal, file_appeal, reject_appeal
    from evalplat.cases.models import Case
    from evalplat.results.operations import decide

    counts = {"accepted": 0, "rejected": 0, "pending": 0}
    samples = session.execute(sa.select(Sample, Case.agency_id).join(Case, Case.id == Sample.case_id)
                              .where(Sample.campaign_id == campaign.id).order_by(Sample.code)).all()
    used: set[int] = set()
    plan = ["accepted", "rejected", "pending"]
    for sample, agency_id in samples:
        if not plan:
            break
        if agency_id in used:
            continue
        staff = _staff_of(session, agency_id)
        if staff is None:
            continue
        used.add(agency_id)
        outcome = plan.pop(0)
        appeal = file_appeal(session, actor=staff, sample=sample, reason="本案办案律师已按期会见并提交书面意见，评分未考虑补充材料。",
                             contested_items=["total"], attachments=[], storage=None, now=now)
        if outcome == "accepted":
            accept_appeal(session, actor=organiser, appeal=appeal, note="材料充分，启动复核。", now=now)
            assignment = session.scalar(sa.select(Assignment).where(Assignment.sample_id == sample.id,
                                                                    Assignment.round == AssignmentRound.APPEAL))
            assert assignment is not None
            decide(session, assignment=assignment, actor=assignment.reviewer.user, total=86.0, vetoes=[],
                   reasons="复核认定补充的会见笔录属实，相应评分项予以调整。", now=now)
        elif outcome == "rejected":
            reject_appeal(session, actor=organiser, appeal=appeal, reasons="补充材料与评分结论无关，维持原评定。", now=now)
        counts[outcome] += 1
    return counts


def _run_to_publication(session: DbSession, campaign: Campaign, organiser: User, rng: random.Random,
                        quality: dict[int, float], leniency: dict[int, float], t0: datetime,
                        now: datetime, collect_files: Any = None) -> dict[str, int]:
    """Anonymise, score, consolidate, adjudicate and publish a freshly assigned campaign (with its circular)."""
    from evalplat.campaigns import operations as ops
    from evalplat.results.operations import consolidate, publish_circular, set_official_scores

    redacted = _approve_redactions(session, campaign, organiser, collect_files)
    reviews = _score_round(session, campaign, rng, quality, leniency, t0 + timedelta(days=10))
    consolidate(session, campaign=campaign, actor=organiser, now=t0 + timedelta(days=20), require_full=False)
    adjudicated = _adjudicate(session, campaign, rng, quality, t0 + timedelta(days=25))
    set_official_scores(session, campaign=campaign, actor=organiser, choice="raw", now=t0 + timedelta(days=26))
    ops.transition(session, actor=organiser, campaign=campaign, to_state=CampaignState.CONSOLIDATING,
                   now=t0 + timedelta(days=26))
    ops.update_settings(session, actor=organiser, campaign=campaign, appeal_opens_at=t0 + timedelta(days=27),
                        appeal_closes_at=now + timedelta(days=14))
    ops.transition(session, actor=organiser, campaign=campaign, to_state=CampaignState.PUBLISHED,
                   now=t0 + timedelta(days=27))
    publish_circular(session, campaign=campaign, actor=organiser, now=t0 + timedelta(days=28))
    return {"redacted_cases": redacted, "reviews": reviews, "adjudicated": adjudicated}


def _has_user(session: DbSession, username: str) -> bool:
    return session.scalar(sa.select(User.id).where(User.username == username)) is not None


#: The demo's campaigns below and beside the province: (key, organiser, name, sample prefix, whose agencies)
LEVEL_CAMPAIGNS: tuple[tuple[str, str, str, str, str], ...] = (
    ("city", "organiser.jiangmen", "{year} 年度江门市法律援助案件质量评估（示例）", "JM{year}", "江门市"),
    ("second_province", "organiser.guangxi", "{year} 年度广西法律援助案件质量同行评估（示例）", "GX{year}", "广西壮族自治区"),
)


def build_demo_campaigns(session: DbSession, *, seed: int = 2024, year: int = 2024, now: datetime,
                         cities: int = 3, progress: Callable[[str], None] | None = None,
                         collect_files: Callable[[DbSession, list[int]], int] | None = None) -> DemoCampaigns:
    """Add the demo campaigns to the demo provinces (in the caller's transaction; not committed).

    The province's first campaign (agencies of ``cities`` cities, and of Jiangmen) is sampled, anonymised,
    assigned, scored with some disagreements adjudicated, consolidated, published with its circular, and has
    appeals accepted (and re-reviewed), rejected and pending. The second (the next cities) is still in scoring,
    two thirds of its reviews in. Where the demo has them, Jiangmen's organiser runs a city campaign over its
    county agencies and Guangxi's organiser a campaign over Guangxi's agencies, both to publication.

    Where the demo stored only some cases' files, ``collect_files`` (:class:`evalplat.demo.command.FileCollector`)
    writes the drawn cases' files after each draw, as a bureau collects them; without it such a draw is refused.
    """
    from evalplat.campaigns import operations as ops

    started = time.perf_counter()
    say = progress or (lambda _m: None)
    rng = random.Random(seed)
    organiser = _organiser(session)
    ops.ensure_rubric_versions(session, actor=organiser)
    quality: dict[int, float] = {}
    leniency: dict[int, float] = {}
    t0 = now - timedelta(days=60)

    say("published campaign: sampling and anonymising")
    first = _new_campaign(session, organiser, name=f"{year} 年度法律援助案件质量同行评估（示例）", prefix=f"GD{year}",
                          year=year, agencies=_city_agencies(session, cities, 0, organiser, also=("江门市",)),
                          seed=f"demo-{seed}-1", now=t0)
    say("published campaign: scoring and publication")
    done = _run_to_publication(session, first, organiser, rng, quality, leniency, t0, now, collect_files)
    say("published campaign: appeals")
    appeals = _appeals(session, first, organiser, now - timedelta(days=5))

    say("second campaign: still scoring")
    second = _new_campaign(session, organiser, name=f"{year} 年度第二批案件质量评估（示例，评分中）",
                           prefix=f"GD{year}B", year=year, agencies=_city_agencies(session, cities, cities, organiser),
                           seed=f"demo-{seed}-2", now=now - timedelta(days=7))
    _approve_redactions(session, second, organiser, collect_files)
    reviews_second = _score_round(session, second, rng, quality, leniency, now - timedelta(days=2), share=0.67)
    counts = {**done, "reviews": done["reviews"] + reviews_second, **appeals}

    levels: dict[str, int] = {}
    for key, username, name, prefix, place in LEVEL_CAMPAIGNS:
        if not _has_user(session, username):
            continue
        say(f"{key} campaign ({username}): sampling, scoring and publication")
        owner = _organiser(session, username)
        agencies = _county_agencies(session, place) if key == "city" else _city_agencies(session, 99, 0, owner)
        campaign = _new_campaign(session, owner, name=name.format(year=year), prefix=prefix.format(year=year),
                                 year=year, agencies=agencies, seed=f"demo-{seed}-{key}", now=t0 + timedelta(days=3),
                                 plan=CITY_PLAN if key == "city" else PROVINCE_PLAN)
        made = _run_to_publication(session, campaign, owner, rng, quality, leniency, t0 + timedelta(days=3), now,
                                   collect_files)
        for k, v in made.items():
            counts[k] = counts.get(k, 0) + v
        levels[key] = campaign.id
    session.flush()
    counts["samples_published"] = session.scalar(sa.select(sa.func.count()).select_from(Sample)
                                                 .where(Sample.campaign_id == first.id)) or 0
    return DemoCampaigns(first.id, second.id, counts, time.perf_counter() - started, levels)
