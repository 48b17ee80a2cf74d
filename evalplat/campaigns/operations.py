"""The write path of campaigns: settings, rubric pinning, seed, population freeze and the draw.

Every function takes the session and the actor explicitly, checks the campaign's state, changes rows and
writes its audit event in the caller's transaction; the view or CLI commits once. Assignment operations
live in :mod:`evalplat.assignments.operations` and are re-exported here.

The sampling plan row keeps the engine's plan in ``params["engine"]`` (see
:meth:`evalplat.sampling.SamplingPlan.to_dict`), where the seed came from in ``params["seed_source"]``
and the last draw's report in ``params["report"]``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from evalplat.accounts.models import User
from evalplat.audit.operations import record
from evalplat.campaigns import states
from evalplat.campaigns.models import (
    Campaign,
    CampaignRubric,
    CampaignState,
    Sample,
    SamplingMode,
    ScopeKind,
)
from evalplat.campaigns.models import SamplingPlan as PlanRow
from evalplat.campaigns.population import iter_population
from evalplat.db import DbSession
from evalplat.errors import ConcurrentChange, DomainError, InvalidTransition
from evalplat.i18n import lazy_gettext as _l
from evalplat.organisations.models import Agency, Region, RegionLevel
from evalplat.reviews.models import RubricVersion
from evalplat.sampling import SampleResult, SamplingError, SamplingPlan, draw
from evalplat.sampling.records import digest_lines, prepare_population
from evalplat.sampling.risk import signals_digest

CODE_PREFIX_RE = re.compile(r"^[A-Z][A-Z0-9]{1,11}$")
_INSERT_CHUNK = 5000

# Settings an organiser may change, and until which state.
SETTINGS = ("name", "year", "code_prefix", "scope_kind", "scope_region_id", "scope_agency_ids",
            "reviewers_per_case", "min_evaluators", "disagreement_rules", "grade_bands", "assignment_rules",
            "due_days", "appeal_opens_at", "appeal_closes_at")
# Settings that decide who is sampled or who reviews: frozen once the population is frozen / assigned.
_SAMPLING_SETTINGS = frozenset({"year", "scope_kind", "scope_region_id", "scope_agency_ids", "code_prefix"})
_ASSIGNMENT_SETTINGS = frozenset({"reviewers_per_case", "min_evaluators", "assignment_rules"})


class CampaignError(DomainError):
    code = "campaign_error"
    status = 400


def in_user_language(english: str, chinese: str) -> str:
    """Pick an engine's English or Chinese message by the current locale (Chinese by default)."""
    from flask_babel import get_locale

    locale = get_locale()
    return english if locale is not None and locale.language == "en" else chinese


def sampling_message(exc: SamplingError) -> str:
    """The sampling engine's message in the user's language."""
    return in_user_language(exc.message_en, exc.message_zh)


# --- creation and settings ------------------------------------------------------------------------------


def _check_settings(session: DbSession, values: Mapping[str, Any], campaign: Campaign | None) -> None:
    prefix = values.get("code_prefix")
    if prefix is not None:
        if not CODE_PREFIX_RE.match(prefix):
            raise CampaignError(_l("The code prefix %(p)s is not valid: use 2–12 capital letters and digits, "
                                   "starting with a letter (e.g. GD2024).", p=prefix), code="bad_code_prefix")
        clash = session.scalar(sa.select(Campaign.id).where(Campaign.code_prefix == prefix,
                                                            Campaign.id != (campaign.id if campaign else -1)))
        if clash:
            raise CampaignError(_l("Another campaign already uses the code prefix %(p)s.", p=prefix),
                                code="duplicate_code_prefix")
    year = values.get("year")
    if year is not None and not 2000 <= int(year) <= 2100:
        raise CampaignError(_l("The year must be between 2000 and 2100."), code="bad_year")
    per_case = values.get("reviewers_per_case", campaign.reviewers_per_case if campaign else 2)
    min_eval = values.get("min_evaluators", campaign.min_evaluators if campaign else 0)
    if not 1 <= int(per_case) <= 9:
        raise CampaignError(_l("Reviewers per case must be between 1 and 9."), code="bad_per_case")
    if not 0 <= int(min_eval) <= int(per_case):
        raise CampaignError(_l("The minimum number of evaluators cannot exceed the reviewers per case."),
                            code="bad_min_evaluators")
    kind = values.get("scope_kind", campaign.scope_kind if campaign else ScopeKind.PROVINCE)
    region_id = values.get("scope_region_id", campaign.scope_region_id if campaign else None)
    agency_ids = values.get("scope_agency_ids", campaign.scope_agency_ids if campaign else [])
    if ScopeKind(kind) == ScopeKind.CITY:
        region = session.get(Region, region_id) if region_id else None
        if region is None or region.level != RegionLevel.CITY:
            raise CampaignError(_l("A city-wide campaign needs a city."), code="bad_scope")
    elif ScopeKind(kind) == ScopeKind.AGENCIES:
        wanted = set(agency_ids or [])
        found = set(session.scalars(sa.select(Agency.id).where(Agency.id.in_(wanted)))) if wanted else set()
        if not wanted or found != wanted:
            raise CampaignError(_l("Choose at least one agency; unknown agency ids: %(ids)s.",
                                   ids=", ".join(map(str, sorted(wanted - found))) or "—"), code="bad_scope")
    jurisdiction_id = values.get("jurisdiction_id", campaign.jurisdiction_id if campaign else None)
    if jurisdiction_id is not None:
        _check_scope_within(session, jurisdiction_id, ScopeKind(kind), region_id, agency_ids or [])
    opens = values.get("appeal_opens_at", campaign.appeal_opens_at if campaign else None)
    closes = values.get("appeal_closes_at", campaign.appeal_closes_at if campaign else None)
    if opens and closes and closes <= opens:
        raise CampaignError(_l("The appeal window must close after it opens."), code="bad_appeal_window")
    bands = values.get("grade_bands")
    if bands is not None and not (isinstance(bands, dict) and all(isinstance(v, (int, float)) for v in bands.values())
                                  and bands.get("excellent", 0) > bands.get("good", 0) > bands.get("pass", 0)):
        raise CampaignError(_l("Grade bands must be numbers with excellent > good > pass."), code="bad_grade_bands")


def _check_scope_within(session: DbSession, jurisdiction_id: int, kind: ScopeKind, region_id: int | None,
                        agency_ids: list[int]) -> None:
    """A campaign's scope lies inside its jurisdiction: its region, or every one of its agencies."""
    from evalplat.organisations.jurisdiction import descendant_region_ids, in_subtree

    if kind == ScopeKind.AGENCIES:
        outside = sorted(session.scalars(sa.select(Agency.id).where(
            Agency.id.in_(agency_ids), sa.not_(in_subtree(Agency.region_id, jurisdiction_id, session)))))
        if outside:
            raise CampaignError(_l("Agencies %(ids)s lie outside the campaign's jurisdiction.",
                                   ids=", ".join(map(str, outside))), code="scope_outside_jurisdiction")
    elif region_id is not None and region_id not in descendant_region_ids(jurisdiction_id, session):
        raise CampaignError(_l("The campaign's region lies outside its jurisdiction."),
                            code="scope_outside_jurisdiction")


def _campaign_jurisdiction(session: DbSession, actor: User | None, jurisdiction: Region | int | None,
                           values: Mapping[str, Any]) -> int:
    """The owner of a new campaign: the one given, else the organiser's own jurisdiction, else (no actor: the
    command line) the province containing its scope. An organiser creates campaigns only for its own."""
    from evalplat.organisations.jurisdiction import default_jurisdiction_for_scope

    wanted = jurisdiction.id if isinstance(jurisdiction, Region) else jurisdiction
    if actor is not None:
        if not actor.is_organiser or actor.jurisdiction_id is None:
            raise CampaignError(_l("Only an organiser with a jurisdiction creates campaigns."),
                                code="no_jurisdiction")
        if wanted is not None and wanted != actor.jurisdiction_id:
            raise CampaignError(_l("You can create campaigns only for your own jurisdiction."),
                                code="jurisdiction_outside")
        return actor.jurisdiction_id
    if wanted is not None:
        if session.get(Region, wanted) is None:
            raise CampaignError(_l("Unknown jurisdiction."), code="unknown_jurisdiction")
        return wanted
    return default_jurisdiction_for_scope(session, scope_region_id=values.get("scope_region_id"),
                                          scope_agency_ids=values.get("scope_agency_ids"))


def create_campaign(session: DbSession, *, actor: User | None, name: str, year: int, code_prefix: str,
                    jurisdiction: Region | int | None = None, **settings: Any) -> Campaign:
    """Create a campaign in state draft.

    Parameters
    ----------
    session : Session
    actor : User or None
    name, year, code_prefix
        Title, assessment year and the prefix of the anonymised sample codes (e.g. ``GD2024``).
    jurisdiction : Region, region id or None
        The owner; by default the actor's jurisdiction (an organiser may name no other), or with no actor the
        province containing the scope. The scope must lie inside it.
    **settings
        Any of :data:`SETTINGS` (scope, reviewers per case, rules, appeal window …).

    Returns
    -------
    Campaign
    """
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise CampaignError(_l("Unknown campaign settings: %(s)s.", s=", ".join(sorted(unknown))))
    values = {"name": name.strip(), "year": int(year), "code_prefix": code_prefix.strip().upper(), **settings}
    if not values["name"]:
        raise CampaignError(_l("A campaign needs a name."), code="no_name")
    values["jurisdiction_id"] = _campaign_jurisdiction(session, actor, jurisdiction, values)
    _check_settings(session, values, None)
    campaign = Campaign(created_by_id=actor.id if actor else None, **values)
    session.add(campaign)
    session.flush()
    record(session, actor_id=actor.id if actor else None, action="campaign.created", object_type="campaign",
           object_id=campaign.id, after={**_settings_of(campaign), "jurisdiction_id": campaign.jurisdiction_id})
    return campaign


def _settings_of(campaign: Campaign) -> dict[str, Any]:
    return {key: getattr(campaign, key) for key in SETTINGS}


# What an empty assignment_rules means (evalplat.assignments.operations reads them with these defaults).
ASSIGNMENT_RULE_DEFAULTS = {"regional_avoidance": True, "case_type_match": "preferred"}


def _normalised(key: str, value: Any) -> Any:
    """A setting in the form two values that mean the same compare equal in (so re-saving is no change)."""
    if key == "scope_agency_ids":  # a set of agencies: the order they were given in is no change
        return sorted(set(value or []))
    if key == "assignment_rules":  # the defaults spelt out are the defaults
        return {**ASSIGNMENT_RULE_DEFAULTS, **(value or {})}
    return value


def update_settings(session: DbSession, *, actor: User | None, campaign: Campaign, **values: Any) -> Campaign:
    """Change campaign settings; sampling settings are frozen with the population, assignment settings
    once assigned, and everything once scoring starts (the appeal window excepted)."""
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise CampaignError(_l("Unknown campaign settings: %(s)s.", s=", ".join(sorted(unknown))))
    if "scope_agency_ids" in values:
        values["scope_agency_ids"] = _normalised("scope_agency_ids", values["scope_agency_ids"])
    changed = {k: v for k, v in values.items() if _normalised(k, getattr(campaign, k)) != _normalised(k, v)}
    if not changed:
        return campaign
    if "code_prefix" in changed:
        changed["code_prefix"] = str(changed["code_prefix"]).strip().upper()
    if campaign.population_frozen_at is not None and _SAMPLING_SETTINGS & set(changed):
        raise CampaignError(_l("The population is frozen: year, scope and code prefix can no longer change."),
                            code="settings_frozen")
    if campaign.state not in (CampaignState.DRAFT, CampaignState.SAMPLED) and _ASSIGNMENT_SETTINGS & set(changed):
        raise CampaignError(_l("Reviewers are assigned: undo the assignment before changing its rules."),
                            code="settings_frozen")
    late_ok = {"appeal_opens_at", "appeal_closes_at", "name"}
    if campaign.state not in states.BEFORE_SCORING and set(changed) - late_ok:
        raise CampaignError(_l("Scoring has started: only the name and the appeal window can change."),
                            code="settings_frozen")
    _check_settings(session, changed, campaign)
    before = {k: getattr(campaign, k) for k in changed}
    for key, value in changed.items():
        setattr(campaign, key, value)
    session.flush()
    record(session, actor_id=actor.id if actor else None, action="campaign.settings_changed",
           object_type="campaign", object_id=campaign.id, before=before, after=changed)
    return campaign


# --- rubrics --------------------------------------------------------------------------------------------


def _rubric_version_number(text: str) -> int:
    """Rubric files carry versions such as "1.0"; the database numbers versions 1, 2, … per key."""
    head = str(text).split(".")[0]
    return int(head) if head.isdigit() else 1


def ensure_rubric_versions(session: DbSession, *, actor: User | None) -> list[RubricVersion]:
    """RubricVersion rows for the rubric files (``forms.rubrics.load_rubrics()``), created when missing.

    The files are the platform's own, so their versions belong to the nation (every jurisdiction sees them). A
    file whose content hash matches a version of the nation reuses it; a changed file gets the next version
    number of its key. Returns the current version of every rubric key.
    """
    from evalplat.organisations.jurisdiction import national_region
    from forms.rubrics import load_rubrics

    nation = national_region(session).id
    national = RubricVersion.jurisdiction_id == nation
    current: dict[str, RubricVersion] = {}
    for rubric in {id(r): r for r in load_rubrics().values()}.values():
        existing = session.scalar(sa.select(RubricVersion).where(
            national, RubricVersion.key == rubric.key, RubricVersion.content_hash == rubric.content_hash))
        if existing is None:
            last = session.scalar(sa.select(sa.func.max(RubricVersion.version))
                                  .where(national, RubricVersion.key == rubric.key))
            number = max(_rubric_version_number(rubric.version), (last or 0) + 1) if last else \
                _rubric_version_number(rubric.version)
            existing = RubricVersion(key=rubric.key, version=number, case_types=list(rubric.case_types),
                                     definition=rubric.to_dict(), content_hash=rubric.content_hash,
                                     created_by_id=actor.id if actor else None, jurisdiction_id=nation)
            session.add(existing)
            session.flush()
            record(session, actor_id=actor.id if actor else None, action="rubric.version_created",
                   object_type="rubric_version", object_id=existing.id,
                   after={"key": rubric.key, "version": number, "content_hash": rubric.content_hash,
                          "jurisdiction_id": nation})
        current[rubric.key] = existing
    return list(current.values())


def _newest_of(rows: Iterable[RubricVersion]) -> dict[str, int]:
    chosen: dict[str, int] = {}
    for row in rows:  # newest version of each key wins (ordered ascending)
        for case_type in row.case_types:
            chosen[case_type] = row.id
    return chosen


def newest_rubric_versions(session: DbSession, campaign: Campaign) -> dict[str, int]:
    """Case type → the version :func:`pin_rubrics` pins by default: the newest of each rubric the campaign's
    jurisdiction may use ({} while the database holds no version)."""
    from evalplat.organisations.jurisdiction import rubric_versions_for_region

    return _newest_of(session.scalars(sa.select(RubricVersion).where(rubric_versions_for_region(campaign.jurisdiction_id))
                                      .order_by(RubricVersion.key, RubricVersion.version, RubricVersion.id)))


def rubrics_to_pin(session: DbSession, campaign: Campaign) -> bool:
    """Whether pinning is still a step of the campaign: before the assignment always (the rubrics are being
    chosen); once assigned, only while a case type has no version pinned or a newer one can be pinned."""
    if campaign.state not in states.BEFORE_SCORING:
        return False
    if campaign.state in (CampaignState.DRAFT, CampaignState.SAMPLED):
        return True
    pinned = {r.case_type: r.rubric_version_id for r in campaign.rubrics}
    newest = newest_rubric_versions(session, campaign)
    return not pinned or any(pinned.get(case_type) != version for case_type, version in newest.items())


def pin_rubrics(session: DbSession, *, actor: User | None, campaign: Campaign,
                versions: Mapping[str, int] | None = None) -> dict[str, int]:
    """Pin one rubric version per case type.

    Parameters
    ----------
    versions : mapping of case type to RubricVersion id, optional
        Explicit choices; by default the newest version covering each case type (created from the rubric
        files when the database has none).

    Returns
    -------
    dict
        Case type → pinned RubricVersion id.
    """
    from evalplat.organisations.jurisdiction import rubric_versions_for_region

    if campaign.state not in states.BEFORE_SCORING:
        raise CampaignError(_l("Scoring has started: the rubrics can no longer change."), code="rubrics_frozen")
    usable = rubric_versions_for_region(campaign.jurisdiction_id)
    if versions is None:
        chosen = newest_rubric_versions(session, campaign) or _newest_of(ensure_rubric_versions(session, actor=actor))
    else:
        chosen = dict(versions)
        for case_type, version_id in chosen.items():
            found = session.scalar(sa.select(RubricVersion).where(RubricVersion.id == version_id, usable))
            if found is None:  # a sibling's or a child's version is as unknown as a missing one
                raise CampaignError(_l("Rubric version %(v)s is not one of this campaign's jurisdiction or of "
                                       "the jurisdictions above it.", v=version_id),
                                    code="rubric_outside_jurisdiction")
            if case_type not in found.case_types:
                raise CampaignError(_l("Rubric version %(v)s does not cover case type %(t)s.", v=version_id,
                                       t=case_type), code="bad_rubric")
    before = {r.case_type: r.rubric_version_id for r in campaign.rubrics}
    campaign.rubrics = [r for r in campaign.rubrics if r.case_type not in chosen]
    session.flush()
    for case_type, version_id in sorted(chosen.items()):
        campaign.rubrics.append(CampaignRubric(case_type=case_type, rubric_version_id=version_id))
    session.flush()
    record(session, actor_id=actor.id if actor else None, action="campaign.rubrics_pinned", object_type="campaign",
           object_id=campaign.id, before=before, after=chosen)
    return chosen


# --- the sampling plan, the seed and the population -----------------------------------------------------


def _require_unfrozen(campaign: Campaign) -> None:
    if campaign.population_frozen_at is not None:
        raise CampaignError(_l("The population is frozen: the plan and the seed can no longer change."),
                            code="population_frozen")
    if campaign.state != CampaignState.DRAFT:
        raise InvalidTransition(_l("The plan can only change while the campaign is a draft."),
                                code="campaign_not_draft")


def engine_plan(campaign: Campaign) -> SamplingPlan:
    """The sampling engine's plan stored for the campaign."""
    if campaign.plan is None or "engine" not in (campaign.plan.params or {}):
        raise CampaignError(_l("The campaign has no sampling plan yet."), code="no_plan")
    return SamplingPlan.from_dict(campaign.plan.params["engine"])


def set_plan(session: DbSession, *, actor: User | None, campaign: Campaign, plan: Mapping[str, Any],
             closed_from: datetime | None = None, closed_until: datetime | None = None) -> PlanRow:
    """Set (or replace) the sampling plan while the population is not frozen.

    Parameters
    ----------
    plan : mapping
        The engine plan as plain data (see :class:`evalplat.sampling.SamplingPlan`), e.g.
        ``{"mode": "fixed", "per_stratum": 1, "fold_administrative": True}``.
    closed_from, closed_until : datetime, optional
        A closing period replacing the campaign year as the population filter.
    """
    _require_unfrozen(campaign)
    try:
        parsed = SamplingPlan.from_dict(plan)
    except SamplingError as exc:
        raise CampaignError(sampling_message(exc), code=f"plan_{exc.code}") from None
    if closed_from and closed_until and closed_until < closed_from:
        raise CampaignError(_l("The closing period ends before it starts."), code="bad_period")
    row = campaign.plan
    before = dict(row.params.get("engine", {})) if row is not None else None
    if row is None:
        row = PlanRow(campaign=campaign, mode=SamplingMode(parsed.mode), params={})
        session.add(row)
    params = dict(row.params or {})
    params["engine"] = parsed.to_dict()
    row.params = params
    row.mode = SamplingMode(parsed.mode)
    row.strata = list(parsed.strata)
    row.fold_administrative = parsed.fold_administrative
    row.closed_from = closed_from
    row.closed_until = closed_until
    session.flush()
    record(session, actor_id=actor.id if actor else None, action="campaign.plan_set", object_type="campaign",
           object_id=campaign.id, before={"plan": before},
           after={"plan": parsed.to_dict(), "closed_from": closed_from, "closed_until": closed_until})
    return row


def fix_seed(session: DbSession, *, actor: User | None, campaign: Campaign, seed: str | None = None,
             source: str = "", now: datetime) -> str:
    """Fix the draw's seed before the population is frozen.

    Parameters
    ----------
    seed : str, optional
        A value typed in from a public source (e.g. a lottery result); generated when omitted.
    source : str
        Where a typed-in seed comes from (recorded and published with it).

    Returns
    -------
    str
        The seed.
    """
    _require_unfrozen(campaign)
    if campaign.plan is None:
        raise CampaignError(_l("Set the sampling plan before fixing the seed."), code="no_plan")
    if campaign.seed:
        raise CampaignError(_l("The seed is already fixed; it cannot be changed."), code="seed_fixed")
    value = (seed or "").strip() or secrets.token_hex(16)
    if len(value) > 128 or any(ch in value for ch in "\t\r\n"):
        raise CampaignError(_l("The seed must be one line of at most 128 characters."), code="bad_seed")
    origin = source.strip() if seed else "generated"
    if seed and not origin:
        raise CampaignError(_l("Say where a typed-in seed comes from (e.g. the lottery draw of a given day)."),
                            code="seed_source_required")
    campaign.seed = value
    campaign.plan.params = {**campaign.plan.params, "seed_source": origin, "seed_fixed_at": now.isoformat()}
    session.flush()
    record(session, actor_id=actor.id if actor else None, action="campaign.seed_fixed", object_type="campaign",
           object_id=campaign.id, after={"seed": value, "source": origin}, at=now)
    return value


@dataclass(frozen=True)
class FrozenPopulation:
    digest: str
    size: int


def freeze_population(session: DbSession, *, actor: User | None, campaign: Campaign, now: datetime) -> FrozenPopulation:
    """Freeze the population: record the SHA-256 digest of the ordered population and its size.

    The seed must be fixed first, so nobody can learn the population and then choose a seed.
    """
    _require_unfrozen(campaign)
    if not campaign.seed:
        raise CampaignError(_l("Fix the seed before freezing the population."), code="no_seed")
    engine_plan(campaign)
    try:
        ordered, lines = prepare_population(iter_population(session, campaign))
    except SamplingError as exc:
        raise CampaignError(sampling_message(exc), code=f"population_{exc.code}") from None
    if not ordered:
        raise CampaignError(_l("The campaign's scope and year contain no cases."), code="empty_population")
    digest = digest_lines(lines)
    campaign.population_digest = digest
    campaign.population_size = len(ordered)
    campaign.population_frozen_at = now
    after: dict[str, Any] = {"digest": digest, "size": len(ordered)}
    if campaign.plan is not None and campaign.plan.mode == SamplingMode.RISK:
        after.update(_freeze_signals(session, campaign))
    session.flush()
    record(session, actor_id=actor.id if actor else None, action="campaign.population_frozen",
           object_type="campaign", object_id=campaign.id, after=after, at=now)
    return FrozenPopulation(digest, len(ordered))


def _freeze_signals(session: DbSession, campaign: Campaign) -> dict[str, Any]:
    """Risk mode: keep the population's risk signals as they are now, so that the draw (and anyone checking it)
    uses these and not whatever the closing reviews, self-evaluations and follow-ups say later."""
    from evalplat.campaigns.population import population_filter
    from evalplat.cases.models import Case
    from evalplat.quality.queries import LOW_SELF_SCORE, risk_signals

    assert campaign.plan is not None
    signals = risk_signals(session, cases=sa.select(Case.id).where(*population_filter(campaign)))
    campaign.plan.risk_signals = signals
    summary = {"signals_digest": signals_digest(signals), "cases_with_signals": len(signals),
               "low_self_score": LOW_SELF_SCORE}
    campaign.plan.params = {**campaign.plan.params, "risk": summary}
    return summary


def frozen_signals(campaign: Campaign) -> dict[str, int] | None:
    """The risk signals frozen with the population (risk mode), else None."""
    if campaign.plan is None or campaign.plan.mode != SamplingMode.RISK:
        return None
    return {str(k): int(v) for k, v in (campaign.plan.risk_signals or {}).items()}


def run_draw(session: DbSession, campaign: Campaign) -> SampleResult:
    """Re-run the draw from the database (read only): the population now, the published plan and seed."""
    if not campaign.seed:
        raise CampaignError(_l("The campaign has no seed yet."), code="no_seed")
    try:
        return draw(iter_population(session, campaign), engine_plan(campaign), campaign.seed,
                    signals=frozen_signals(campaign))
    except SamplingError as exc:
        raise CampaignError(sampling_message(exc), code=f"sampling_{exc.code}") from None


def sample_codes(prefix: str, seed: str, case_keys: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Anonymised codes ``PREFIX-00001 …`` handed out in a seeded pseudo-random order.

    The order is by ``SHA-256("codes" || seed || key)``, so codes reveal neither the agency nor the
    population order, yet anyone with the seed gets the same codes.

    Parameters
    ----------
    prefix : str
        The campaign's code prefix.
    seed : str
        The campaign's seed.
    case_keys : iterable of (case id, canonical key)

    Returns
    -------
    dict
        Case id → code.
    """
    keyed = sorted(case_keys, key=lambda item: hashlib.sha256(f"codes\n{seed}\n{item[1]}".encode()).digest())
    width = max(5, len(str(len(keyed))))
    return {case_id: f"{prefix}-{n:0{width}d}" for n, (case_id, _key) in enumerate(keyed, start=1)}


def draw_sample(session: DbSession, *, actor: User | None, campaign: Campaign, now: datetime) -> SampleResult:
    """Draw the sample into Sample rows and move the campaign to sampled.

    The draw runs on the frozen population only: if the cases changed since the freeze (the digest
    differs), it is refused. Re-drawing in state sampled replaces the rows with the same result (the draw
    is deterministic); once assigned it is refused. Every draw is recorded in the audit log.
    """
    if campaign.state not in (CampaignState.DRAFT, CampaignState.SAMPLED):
        raise InvalidTransition(_l("Reviewers are already assigned: the sample can no longer be drawn again."),
                                code="redraw_refused")
    if campaign.population_frozen_at is None or not campaign.population_digest:
        raise CampaignError(_l("Freeze the population before drawing."), code="not_frozen")
    result = run_draw(session, campaign)
    if result.population_digest != campaign.population_digest:
        raise CampaignError(_l("The cases changed after the population was frozen (digest %(now)s, frozen "
                               "%(frozen)s); the draw is refused.", now=result.population_digest[:12],
                               frozen=campaign.population_digest[:12]), code="population_changed")
    from evalplat.sampling.records import canonical_key

    stratum_of = _stratum_labeller(result)
    codes = sample_codes(campaign.code_prefix, campaign.seed or "",
                         ((r.case_id, canonical_key(r.key)) for r in result.selected))
    signals = frozen_signals(campaign)
    rows = [{"campaign_id": campaign.id, "case_id": int(r.case_id), "code": codes[r.case_id],
             "stratum": stratum_of(r)[:96], "is_training": False, "drawn_at": now,
             "inclusion_probability": result.probabilities.get(r.case_id),
             "risk_signals": signals.get(r.case_id, 0) if signals is not None else None} for r in result.selected]
    try:
        session.execute(sa.delete(Sample).where(Sample.campaign_id == campaign.id))
        for start in range(0, len(rows), _INSERT_CHUNK):
            session.execute(sa.insert(Sample), rows[start:start + _INSERT_CHUNK])
    except IntegrityError as error:  # another draw of this campaign committed its rows first
        raise ConcurrentChange(_l("Someone else drew this campaign's sample at the same time; reload the page "
                                  "to see it."), code="draw_race") from error
    report = result.report_rows()
    assert campaign.plan is not None  # the draw ran on it (engine_plan)
    campaign.plan.params = {**campaign.plan.params, "report": report, "algorithm": result.algorithm,
                            "drawn_at": now.isoformat()}
    session.flush()
    record(session, actor_id=actor.id if actor else None, action="campaign.sample_drawn", object_type="campaign",
           object_id=campaign.id, at=now,
           after={"seed": result.seed, "plan": result.plan.to_dict(), "digest": result.population_digest,
                  "population": result.population_size, "sample": len(rows), "algorithm": result.algorithm,
                  "selected_sha256": selection_digest(result), "signals_digest": result.signals_digest})
    if campaign.state == CampaignState.DRAFT:
        states.transition(session, campaign, CampaignState.SAMPLED, actor=actor, now=now)
    return result


def selection_digest(result: SampleResult) -> str:
    """SHA-256 over the drawn case ids in population order, one per line (for a one-line comparison)."""
    return hashlib.sha256("".join(f"{case_id}\n" for case_id in result.case_ids).encode()).hexdigest()


def _stratum_labeller(result: SampleResult) -> Any:
    from evalplat.sampling import stratum_function

    key_of = stratum_function(result.plan)
    return lambda record: " / ".join(key_of(record))


@dataclass(frozen=True)
class Verification:
    """The outcome of re-running a campaign's draw."""

    digest_matches: bool
    selection_matches: bool
    population_digest: str
    published_digest: str | None
    drawn: int
    stored: int
    missing: list[int]
    extra: list[int]

    @property
    def ok(self) -> bool:
        return self.digest_matches and self.selection_matches


def verify_draw(session: DbSession, campaign: Campaign, *, seed: str | None = None,
                plan: Mapping[str, Any] | None = None, digest: str | None = None) -> Verification:
    """Re-run the draw from the published seed, plan and digest, and compare with the stored sample.

    Parameters
    ----------
    seed, plan, digest : optional
        The published values to check (default: the campaign's own).
    """
    seed_value = seed if seed is not None else campaign.seed
    if not seed_value:
        raise CampaignError(_l("The campaign has no seed yet."), code="no_seed")
    try:
        engine = SamplingPlan.from_dict(plan) if plan is not None else engine_plan(campaign)
        result = draw(iter_population(session, campaign), engine, seed_value, signals=frozen_signals(campaign))
    except SamplingError as exc:
        raise CampaignError(sampling_message(exc), code=f"sampling_{exc.code}") from None
    published = digest if digest is not None else campaign.population_digest
    drawn = {int(c) for c in result.case_ids}
    stored = set(session.scalars(sa.select(Sample.case_id).where(Sample.campaign_id == campaign.id)))
    return Verification(digest_matches=published == result.population_digest, selection_matches=drawn == stored,
                        population_digest=result.population_digest, published_digest=published,
                        drawn=len(drawn), stored=len(stored), missing=sorted(drawn - stored)[:20],
                        extra=sorted(stored - drawn)[:20])


def transition(session: DbSession, *, actor: User | None, campaign: Campaign, to_state: CampaignState | str,
               now: datetime) -> Campaign:
    """The state machine's :func:`evalplat.campaigns.states.transition`, for views and the CLI."""
    return states.transition(session, campaign, to_state, actor=actor, now=now)
