"""Read-only JSON API of closing-review results (for the subsidy payment that follows closing, 补贴发放).

A blueprint of its own, nested in the closing blueprint, with the API's bearer-token check
(:func:`evalplat.api.auth.authenticate`) and the scope ``closing:read``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, g, jsonify, request
from sqlalchemy.orm import joinedload

from evalplat.api import openapi
from evalplat.api.auth import authenticate
from evalplat.cases.models import Case
from evalplat.closing.models import ClosingReview, ClosingState
from evalplat.closing.queries import result_document, review_of_case
from evalplat.extensions import db
from evalplat.organisations.models import Agency
from evalplat.security import api_scope

api_bp = Blueprint("api", __name__, url_prefix="/api/v1/closing")
api_bp.before_request(authenticate)

SCOPE = "closing:read"
MAX_LIMIT = 1000

_NULLABLE_STR = {"anyOf": [{"type": "string"}, {"type": "null"}]}
_TEXT = {"type": "object", "required": ["zh", "en"], "properties": {"zh": {"type": "string"}, "en": {"type": "string"}}}
openapi.EXTRA_SCHEMAS.update({
    "ClosingResult": {
        "type": "object",
        "required": ["case_id", "case_number", "agency_code", "case_type", "state", "closed", "closed_at"],
        "properties": {
            "case_id": {"type": "integer"}, "case_number": {"type": "string"}, "agency_code": {"type": "string"},
            "case_type": {"type": "string"},
            "state": {"type": "string", "enum": ["not_started", "awaiting_first", "awaiting_second", "returned",
                                                 "closed"]},
            "closed": {"type": "boolean", "description": "Both levels passed: the case is closed (subsidy may follow)."},
            "closed_at": {**_NULLABLE_STR, "description": "When the second level confirmed the file (ISO 8601)."},
            "checklist": {"type": "string"}, "checklist_version": {"type": "string"},
            "round": {"type": "integer"}, "returns": {"type": "integer"},
            "due_on": {**_NULLABLE_STR, "description": "Deadline of a returned file's missing materials."},
            "missing": {"type": "array", "items": {"type": "object", "required": ["item", "status"], "properties": {
                "item": {"type": "string"}, "status": {"type": "string", "enum": ["missing", "defective"]},
                "note": {"type": "string"}, "label": {"anyOf": [_TEXT, {"type": "null"}]}}}},
            "checks": {"type": "array", "items": {"type": "object", "required": ["level", "round", "outcome", "at"],
                                                  "properties": {"level": {"type": "integer"},
                                                                 "round": {"type": "integer"},
                                                                 "outcome": {"type": "string"},
                                                                 "at": {"type": "string"}}}},
        }},
    "ClosedPage": {"type": "object", "required": ["agency", "since", "total", "offset", "limit", "items"],
                   "properties": {"agency": {"type": "string"}, "since": {"type": "string"},
                                  "total": {"type": "integer"}, "offset": {"type": "integer"},
                                  "limit": {"type": "integer"},
                                  "items": {"type": "array", "items": {"$ref": "#/components/schemas/ClosingResult"}}}},
})
openapi.EXTRA_PATHS.update({
    "/api/v1/closing/cases/{case_id}": openapi._get(
        "Closing-review result of one case (结案审查)", SCOPE, "ClosingResult",
        [{"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer"}}]),
    "/api/v1/closing/closed": openapi._get(
        "Cases of an agency closed after both review levels, oldest first (for the subsidy payment)", SCOPE,
        "ClosedPage",
        [{"name": "agency", "in": "query", "required": True, "schema": {"type": "string"},
          "description": "The agency's code."},
         {"name": "since", "in": "query", "required": False, "schema": {"type": "string", "format": "date"}},
         {"name": "offset", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}},
         {"name": "limit", "in": "query", "required": False,
          "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100}}]),
})


def _visible_agency(agency_id: int) -> bool:
    """Whether the token's issuer sees the agency's closing reviews (its jurisdiction's agencies); a token issued
    from the command line (no issuer) reads every agency, as the other read APIs do. Another jurisdiction's
    agency is as unknown as a missing one."""
    from evalplat.accounts.models import User
    from evalplat.closing.models import sees_closing_of

    issuer_id = g.api_token.created_by_id
    if issuer_id is None:
        return True
    issuer = db.session.get(User, issuer_id)
    return issuer is not None and sees_closing_of(issuer, agency_id)


@api_bp.get("/cases/<int:case_id>")
@api_scope(SCOPE)
def case_result(case_id: int) -> Any:
    """The closing-review result of one case: state, whether closed and when, what a returned file lacks."""
    case = db.session.get(Case, case_id)
    if case is None or not _visible_agency(case.agency_id):
        abort(404)
    return jsonify(result_document(review_of_case(case.id), case))


@api_bp.get("/closed")
@api_scope(SCOPE)
def closed() -> Any:
    """Cases closed (both levels passed) of an agency (``agency`` = its code), oldest first, from ``since``."""
    code = request.args.get("agency", "")
    agency = db.session.scalar(sa.select(Agency).where(Agency.code == code)) if code else None
    if agency is None or not _visible_agency(agency.id):
        abort(404, description="agency: give the code of an existing agency")
    try:
        since = date.fromisoformat(request.args.get("since", "1970-01-01"))
    except ValueError:
        abort(400, description="since must be a date YYYY-MM-DD")
    raw_offset, raw_limit = request.args.get("offset", "0"), request.args.get("limit", "100")
    if not raw_offset.isdigit() or not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        abort(400, description=f"offset must be an integer >= 0 and limit between 1 and {MAX_LIMIT}")
    stmt = (sa.select(ClosingReview).join(Case, Case.id == ClosingReview.case_id)
            .where(ClosingReview.agency_id == agency.id, ClosingReview.state == ClosingState.CLOSED,
                   ClosingReview.closed_at >= datetime.combine(since, time(), UTC))
            .options(joinedload(ClosingReview.case).joinedload(Case.agency)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(stmt.order_by(ClosingReview.closed_at, ClosingReview.id)
                              .offset(int(raw_offset)).limit(int(raw_limit))).all()
    return jsonify(agency=agency.code, since=since.isoformat(), total=total, offset=int(raw_offset),
                   limit=int(raw_limit), items=[result_document(r, r.case) for r in rows])
