"""Walk the URL map: fill every route's arguments from the world's objects, fetch, and read what came back.

Arguments are filled from the database, so the routes are exercised with real objects (not ``1``): every
campaign, sample, assignment, appeal, case, document … (``values``), or only the first of each (``first``).
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from evalplat.security import Policy, policy_for

ARG = re.compile(r"<(?:[^:>]+:)?([^>]+)>")
FORMATS = {"cases.template": ["csv", "xlsx"], "rankings.export": ["csv", "xlsx"], "campaigns.export": ["csv", "xlsx"],
           "rankings.report_download": ["pdf", "xlsx"]}


@dataclass
class Fetched:
    role: str
    method: str
    url: str
    endpoint: str
    status: int
    headers: dict[str, str]
    text: str
    error: str | None = None


def object_values(session: Any, victim: int | None = None) -> dict[str, list[str]]:
    """Every object id of every kind a route argument can name (``victim``: the user for account routes)."""
    from evalplat.accounts.models import User
    from evalplat.api.models import ApiToken
    from evalplat.appeals.models import Appeal
    from evalplat.assignments.models import Assignment, AssignmentRun, Conflict
    from evalplat.campaigns.models import Campaign, CampaignState, Sample
    from evalplat.cases.models import Case, Document
    from evalplat.jobs.models import JobRecord
    from evalplat.organisations.models import ReviewerProfile
    from evalplat.params import opaque_id  # reviewer URLs carry assignment ids as opaque tokens
    from evalplat.rankings import exports
    from evalplat.reviews.models import RubricVersion

    def ids(model: Any) -> list[str]:
        return [str(i) for i in session.scalars(sa.select(model.id).order_by(model.id))]

    campaigns = ids(Campaign)
    return {
        "campaign_id": campaigns, "sample_id": ids(Sample), "assignment_id": [opaque_id(int(i)) for i in ids(Assignment)],
        "appeal_id": ids(Appeal), "case_id": ids(Case), "document_id": ids(Document), "job_id": ids(JobRecord),
        "user_id": [str(victim)] if victim else ids(User)[-1:], "active": ["0", "1"], "reviewer_id": ids(ReviewerProfile)[-1:],
        "conflict_id": ids(Conflict), "decision": ["confirm", "dismiss"], "version_id": ids(RubricVersion),
        "token_id": ids(ApiToken), "to_state": [str(s) for s in CampaignState], "scope": ["all", *campaigns],
        "entity": list(exports.ENTITY), "table": list(exports.TABLES), "code": ["en"],
        "run_id": ids(AssignmentRun), "what": ["samples", "assignments", "results", "sampling-report"],
        # pairs are resolved in urls_for
        "_runs": [f"{c}/{r}" for r, c in session.execute(sa.select(AssignmentRun.id, AssignmentRun.campaign_id))],
        "_attachments": [f"{a.id}/{att.id}" for a in session.scalars(sa.select(Appeal)) for att in a.attachments],
    }


def urls_for(rule: Rule, values: dict[str, list[str]], *, first: bool = False) -> list[str]:
    """The rule's URLs with its arguments filled from ``values`` (every combination, or just the first)."""
    args = ARG.findall(rule.rule)
    if not args:
        return [rule.rule]
    pools: list[list[tuple[str, str]]] = []
    if set(args) >= {"campaign_id", "run_id"}:
        pools.append([(f"{p}", "") for p in values["_runs"]])
        rest = [a for a in args if a not in ("campaign_id", "run_id")]
    elif set(args) >= {"appeal_id", "attachment_id"}:
        pools.append([(f"{p}", "") for p in values["_attachments"]])
        rest = [a for a in args if a not in ("appeal_id", "attachment_id")]
    else:
        rest = args
    for arg in rest:
        options = FORMATS.get(rule.endpoint, []) if arg == "fmt" else values.get(arg, [])
        pools.append([(arg, v) for v in options])
    out = []
    for combo in itertools.product(*pools):
        filled: dict[str, str] = {}
        for key, value in combo:
            if "/" in key:  # a pair
                a, b = key.split("/")
                names = ("campaign_id", "run_id") if "campaign_id" in args else ("appeal_id", "attachment_id")
                filled.update(dict(zip(names, (a, b), strict=True)))
            else:
                filled[key] = value
        out.append(ARG.sub(lambda m, f=filled: f[m.group(1)], rule.rule))
        if first:
            break
    return out


def routes(app: Flask) -> Iterator[tuple[Rule, Policy]]:
    """Every rule of the URL map except packaged static files, with its declared policy."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        policy = policy_for(app, rule.endpoint)
        assert policy is not None, f"{rule.endpoint} has no access policy"
        yield rule, policy


def methods(rule: Rule) -> list[str]:
    return sorted(m for m in (rule.methods or ()) if m not in ("HEAD", "OPTIONS"))


def readable(response: Any) -> str:
    """The text a person would read in the response: HTML/JSON/CSV as is, PDF and XLSX extracted."""
    mime = response.mimetype or ""
    data = response.get_data()
    if mime == "application/pdf" and data.rstrip().endswith(b"%%EOF"):
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    if "spreadsheetml" in mime:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                         for cell in row if cell is not None)
    return data.decode("utf-8", errors="replace")


def fetch(client: FlaskClient, role: str, method: str, url: str, endpoint: str, **kw: Any) -> Fetched:
    """One request; an exception escaping the app (a 500 in production) is recorded, not raised."""
    try:
        response = client.open(url, method=method, **kw)
    except Exception as exc:  # noqa: BLE001 - recorded and reported by the test
        return Fetched(role, method, url, endpoint, 500, {}, "", f"{type(exc).__name__}: {exc}")
    return Fetched(role, method, url, endpoint, response.status_code, dict(response.headers), readable(response))


def allows(policy: Policy, roles: set[str] | None) -> bool:
    """Whether a user with ``roles`` (None: anonymous) passes the policy's area check."""
    if policy.kind == "public":
        return True
    if roles is None or policy.kind == "api":
        return False
    return policy.kind == "login" or bool(set(policy.roles) & roles)
