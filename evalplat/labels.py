"""Translated labels for stored codes (enums, roles, states), kept outside the database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from evalplat.i18n import lazy_gettext as _l
from reports import numbers

LABELS: dict[str, Any] = {
    # roles
    "organiser": _l("Organiser"),
    "agency_staff": _l("Agency staff"),
    "peer_reviewer": _l("Peer reviewer"),
    "evaluator": _l("Third-party evaluator"),
    "adjudicator": _l("Adjudicator"),
    "second_checker": _l("Second-level file checker"),
    "ministry": _l("National read-only (ministry)"),
    # case types
    "criminal": _l("Criminal"),
    "civil": _l("Civil"),
    "administrative": _l("Administrative"),
    "non_litigation": _l("Non-litigation"),
    # reviewer kinds
    "peer": _l("Peer lawyer"),
    # grades
    "excellent": _l("Excellent"),
    "good": _l("Good"),
    "pass": _l("Pass"),
    "fail": _l("Fail"),
    # campaign states
    "draft": _l("Draft"),
    "sampled": _l("Sampled"),
    "assigned": _l("Assigned"),
    "scoring": _l("Scoring"),
    "consolidating": _l("Consolidating"),
    "published": _l("Published"),
    "appeals_closed": _l("Appeals closed"),
    "final": _l("Final"),
    # assignment states
    "offered": _l("To accept"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "submitted": _l("Submitted"),
    "withdrawn": _l("Withdrawn"),
    # appeal states
    "filed": _l("Filed"),
    "rejected": _l("Rejected"),
    "decided": _l("Decided"),
    # assignment rounds
    "calibration": _l("Calibration"),
    "initial": _l("Initial review"),
    "adjudication": _l("Adjudication"),
    "appeal": _l("Appeal re-review"),
    # region levels (and campaign scope kinds)
    "nation": _l("Nation"),
    "province": _l("Province"),
    "city": _l("Prefecture-level city"),
    "county": _l("County"),
    "agencies": _l("Chosen agencies"),
    # assignment runs
    "preview": _l("Preview"),
    "committed": _l("Committed"),
    "undone": _l("Undone"),
    "discarded": _l("Discarded"),
    # conflicts
    "open": _l("To decide"),
    "confirmed": _l("Confirmed"),
    "dismissed": _l("Dismissed"),
    "computed": _l("Found by the rules"),
    "declared": _l("Declared by the reviewer"),
    # sampling
    "fixed": _l("Fixed number per stratum"),
    "proportion": _l("Share of each stratum"),
    "designated": _l("Designated sequence numbers"),
    "census": _l("Every case"),
    "risk": _l("Risk-weighted"),
    "agency": _l("Agency"),
    "case_type": _l("Case type"),
    "year": _l("Closing year"),
    # redaction state of a sampled case
    "redaction_pending": _l("Awaiting approval"),
    "redaction_approved": _l("Approved"),
    "redaction_none": _l("No documents"),
    # review state
    "to_accept": _l("To accept"),
    "to_score": _l("To score"),
    "overdue": _l("Overdue"),
    # redaction span kinds and sources
    "person": _l("Person"),
    "lawyer": _l("Lawyer"),
    "firm": _l("Law firm"),
    "court": _l("Court"),
    "procuratorate": _l("Procuratorate"),
    "police": _l("Police"),
    "org": _l("Organisation"),
    "place": _l("Place"),
    "address": _l("Address"),
    "id_card": _l("ID card number"),
    "phone": _l("Phone number"),
    "email": _l("E-mail address"),
    "bank_card": _l("Bank card number"),
    "plate": _l("Licence plate"),
    "licence": _l("Practice licence number"),
    "case_number": _l("Case number"),
    "legal_aid_number": _l("Legal-aid number"),
    "doc_number": _l("Document number"),
    "number": _l("Number"),
    "auto": _l("Automatic"),
    "manual": _l("Added by hand"),
    "known": _l("Known party"),
    "party": _l("Named as a party of the case"),
    # objects of the audit log
    "api_token": _l("API token"),
    "assignment": _l("Assignment"),
    "assignment_run": _l("Assignment run"),
    "campaign": _l("Campaign"),
    "case": _l("Case"),
    "closing_review": _l("Closing review"),
    "conflict": _l("Conflict of interest"),
    "conflicts": _l("Conflicts of interest"),
    "demo": _l("Demo data"),
    "document": _l("Document"),
    "document_page": _l("Document page"),
    "followup_complaint": _l("Follow-up complaint"),
    "followup_plan": _l("Follow-up plan"),
    "followup_target": _l("Follow-up case"),
    "import": _l("Import"),
    "login_throttle": _l("Sign-in throttle"),
    "review": _l("Review"),
    "reviewer": _l("Reviewer"),
    "reviewer_pool": _l("Reviewer pool"),
    "rubric_version": _l("Rubric version"),
    "sample": _l("Sampled case"),
    "self_evaluation": _l("Self-evaluation"),
    "user": _l("User"),
}

# Tables of the domains (document kinds, result kinds, conflict reasons …): ``label`` looks there after LABELS,
# so one filter translates every stored code wherever it is shown.
_TABLES: list[dict[str, Any]] = []


def register(table: dict[str, Any]) -> dict[str, Any]:
    """Add a domain's label table to the ones ``label`` consults (returns it unchanged)."""
    if not any(t is table for t in _TABLES):
        _TABLES.append(table)
    return table


def label(value: Any, table: dict[str, Any] | None = None) -> str:
    """The translated label of a stored code (from ``table``, default the shared one); unknown codes as they are."""
    if value is None:
        return ""
    key = value.value if isinstance(value, Enum) else str(value)
    if table is not None:
        text = table.get(key)
        return str(text) if text is not None else label(value)
    for source in (LABELS, *_TABLES):
        text = source.get(key)
        if text is not None:
            return str(text)
    return key


DEFAULT_TIMEZONE = "Asia/Shanghai"


def timezone() -> ZoneInfo:
    """The zone times are shown in (``EVALPLAT_TIMEZONE``, default Beijing time); they are stored in UTC."""
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_TIMEZONE)


def local(value: datetime) -> datetime:
    """A stored (UTC, possibly naive) time in the display zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(timezone())


def when(value: datetime | date | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time as people read it, in the display zone; a date as it is; nothing as a dash."""
    if value is None:
        return "—"
    if not isinstance(value, datetime):
        return value.isoformat()
    return local(value).strftime(fmt)


def day(value: datetime | date | None) -> str:
    """The calendar day of a time in the display zone."""
    return when(value, "%Y-%m-%d")


def number(value: Any, digits: int = 1, missing: Any = None, sign: bool = False, trim: bool = False) -> str:
    """A figure for people (``reports.numbers.number``): fixed decimals, never ``nan`` or exponent notation.

    ``missing`` says why a value is absent (for example "too few reviews"); without it a dash is shown.
    """
    return numbers.number(value, digits, sign=sign, trim=trim, missing=missing)


def count(value: Any, missing: Any = None) -> str:
    """A count as a whole number with thousands separators (``reports.numbers.count``)."""
    return numbers.count(value, missing=missing)


def percent(value: Any, digits: int = 0, missing: Any = None, sign: bool = False, trim: bool = False) -> str:
    """A share (0–1) as a percentage."""
    return numbers.percent(value, digits, sign=sign, trim=trim, missing=missing)


def interval(low: Any, high: Any, digits: int = 1, missing: Any = None, share: bool = False,
             sign: bool = False) -> str:
    """``low–high`` (shares as percentages with ``share=True``); a dash when an end is missing."""
    return numbers.interval(low, high, digits, share=share, sign=sign, missing=missing)


def per_request(func: Any) -> Any:
    """A template filter Jinja must not evaluate at compile time: ``{{ 'offered'|label }}`` would otherwise be
    folded into the compiled template in the language of the first request that compiled it."""
    from jinja2 import pass_context

    @pass_context
    def apply(_context: Any, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return apply


FILTERS = {name: per_request(func) for name, func in
           {"label": label, "when": when, "day": day, "number": number, "count": count, "percent": percent,
            "interval": interval}.items()}
# ``interval(low, high)`` takes two values, so templates call it as a function.
GLOBALS = {"interval": interval}
