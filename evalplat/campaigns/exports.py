"""CSV and XLSX exports of a campaign: samples, assignments, results and the sampling report.

Values are labelled in the reader's language and written through the platform's one spreadsheet writer
(:mod:`reports.spreadsheet`), so no value becomes a formula. Each table is one query.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from evalplat.assignments.models import Assignment
from evalplat.campaigns import queries
from evalplat.campaigns.models import Campaign, Sample
from evalplat.cases.models import Case
from evalplat.extensions import db
from evalplat.i18n import lazy_gettext as _l
from evalplat.labels import label, number, when
from evalplat.organisations.models import Agency
from reports.spreadsheet import XlsxWriter, csv_bytes

FORMATS = ("csv", "xlsx")


def _samples(campaign: Campaign) -> tuple[list[Any], list[list[Any]]]:
    rows, _total = queries.samples_page(campaign, page=1, per_page=10**9)
    head = [_l("Code"), _l("Agency"), _l("Case number"), _l("Case type"), _l("Stratum"), _l("Redaction"),
            _l("Reviewers"), _l("Inclusion probability"), _l("Weight (1 / probability)"), _l("Risk signals")]
    return head, [[code, agency, case_number, label(case_type), stratum, label("redaction_" + state), reviewers,
                   round(p, 6) if p is not None else "", round(1 / p, 4) if p else "", "" if risk is None else risk]
                  for _id, code, stratum, case_number, case_type, agency, reviewers, _case, state, p, risk in rows]


def _assignments(campaign: Campaign) -> tuple[list[Any], list[list[Any]]]:
    rows = db.session.execute(
        sa.select(Sample.code, Assignment.round, Assignment.reviewer_id, Assignment.state, Assignment.due_at,
                  Assignment.created_at).join(Sample, Sample.id == Assignment.sample_id)
        .where(Sample.campaign_id == campaign.id).order_by(Sample.code, Assignment.id)).all()
    names = queries.reviewer_labels({r[2] for r in rows})
    head = [_l("Code"), _l("Round"), _l("Reviewer"), _l("State"), _l("Due"), _l("Created")]
    return head, [[code, label(rnd), names.get(rid, ""), label(state), when(due), when(created)]
                  for code, rnd, rid, state, due, created in rows]


def _results(campaign: Campaign) -> tuple[list[Any], list[list[Any]]]:
    from evalplat.results.labels import result_label
    from evalplat.results.models import Result

    rows = db.session.execute(
        sa.select(Sample.code, Agency.name, Case.case_type, Result.kind, Result.total, Result.raw_total,
                  Result.calibrated_total, Result.grade)
        .join(Result, sa.and_(Result.sample_id == Sample.id, Result.current.is_(True)))
        .join(Case, Case.id == Sample.case_id).join(Agency, Agency.id == Case.agency_id)
        .where(Sample.campaign_id == campaign.id).order_by(Sample.code)).all()
    head = [_l("Code"), _l("Agency"), _l("Case type"), _l("Kind"), _l("Official total"), _l("Raw"),
            _l("Bias-corrected"), _l("Grade")]
    return head, [[code, agency, label(case_type), result_label(kind), number(total), number(raw),
                   number(calibrated, missing=_l("not computed")), label(grade)]
                  for code, agency, case_type, kind, total, raw, calibrated, grade in rows]


def _report(campaign: Campaign) -> tuple[list[Any], list[list[Any]]]:
    draw = queries.published_draw(campaign)
    codes = [str(r.get("agency")) for r in draw["report"] if r.get("agency")]
    agencies = queries.agency_names(codes)
    head = [_l("Agency"), _l("Case type"), _l("Closing year"), _l("Population"), _l("Requested"), _l("Sample"),
            _l("Rate")]
    out = []
    for row in draw["report"]:
        total = row.get("label") == "total"
        out.append([str(_l("All strata")) if total else agencies.get(str(row.get("agency")), row.get("agency") or ""),
                    "" if total else label(row.get("case_type") or ""), row.get("year") or "", row.get("population"),
                    row.get("requested"), row.get("sample"), number((row.get("rate") or 0) * 100, 1) + "%"])
    return head, out


def _risk_signals(campaign: Campaign) -> tuple[list[Any], list[list[Any]]]:
    """The risk signals frozen with the population (risk plans), one row per case with signals, in the order of
    their digest (case id as text): the case id and count that :func:`evalplat.sampling.risk.signals_digest`
    hashes, so that a bureau can recompute the digest shown beside the export, and each case's inclusion
    probability — the drawn cases' as recorded on their samples, the others' from a re-run of the draw (left
    empty if the cases changed since the freeze and the re-run no longer matches the frozen population)."""
    from evalplat.campaigns import operations

    signals = operations.frozen_signals(campaign) or {}
    wanted = sorted((case_id for case_id, n in signals.items() if n > 0))
    drawn = dict(db.session.execute(sa.select(Sample.case_id, Sample.inclusion_probability)
                                    .where(Sample.campaign_id == campaign.id, Sample.is_training.is_(False))).all())
    targets: dict[str, float] | None = None
    if wanted and campaign.seed and campaign.population_digest:
        result = operations.run_draw(db.session, campaign)
        if result.population_digest == campaign.population_digest:
            targets = dict(result.eligible_probabilities)
    facts: dict[int, tuple[str, str]] = {}
    ids = [int(c) for c in wanted]
    for start in range(0, len(ids), 20_000):
        facts.update((cid, (number_, agency)) for cid, number_, agency in db.session.execute(
            sa.select(Case.id, Case.case_number, Agency.name).join(Agency, Agency.id == Case.agency_id)
            .where(Case.id.in_(ids[start:start + 20_000]))))
    head = [_l("Case id"), _l("Risk signals"), _l("Inclusion probability"), _l("Drawn in the sample"), _l("Case number"),
            _l("Agency")]
    rows = []
    for case_id in wanted:
        cid = int(case_id)
        if cid in drawn:
            p: Any = drawn[cid] if drawn[cid] is not None else ""
        elif targets is not None:
            p = targets.get(case_id, 0.0)
        else:
            p = ""
        case_number, agency = facts.get(cid, ("", ""))
        rows.append([case_id, signals[case_id], round(p, 9) if p != "" else "", str(_l("yes") if cid in drawn else _l("no")),
                     case_number, agency])
    return head, rows


TABLES: dict[str, tuple[Any, Callable[[Campaign], tuple[list[Any], list[list[Any]]]]]] = {
    "samples": (_l("Sampled cases"), _samples),
    "assignments": (_l("Assignments"), _assignments),
    "results": (_l("Results"), _results),
    "sampling-report": (_l("Sampling report"), _report),
    "risk-signals": (_l("Risk signals"), _risk_signals),
}


def available(campaign: Campaign, table: str) -> bool:
    """Whether the campaign has the table: the frozen risk signals only for a risk plan whose population is
    frozen."""
    if table == "risk-signals":
        from evalplat.campaigns.operations import frozen_signals

        return campaign.population_frozen_at is not None and frozen_signals(campaign) is not None
    return True


def export(campaign: Campaign, table: str, fmt: str) -> tuple[bytes, str, str]:
    """(content, mimetype, file name) of one table of the campaign."""
    title, build = TABLES[table]
    head, rows = build(campaign)
    header = [str(h) for h in head]
    name = f"{campaign.code_prefix}-{table}.{fmt}"
    if fmt == "csv":
        return csv_bytes([header, *rows]), "text/csv", name
    book = XlsxWriter()
    sheet = book.sheet(str(title))
    book.append(sheet, header)
    for row in rows:
        book.append(sheet, row)
    return book.to_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name
