"""A small demo world for the security tests: two campaigns through every stage, built with the real operations.

Four agencies (two per campaign) in four cities, reviewers in six cities with distinctive names, usernames and
firms (so a leak of any of them can be searched for), case files whose original text carries the client's
name, ID number and phone, and an XSS payload in every kind of user text (review comments, decline reasons,
appeal reasons, decision reasons, display names).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from evalplat.accounts import operations as account_ops
from evalplat.accounts.models import Role, User

PASSWORD = "correct-horse-battery"  # noqa: S105 - test data
CITIES = 6
CASE_AGENCIES = 4
PEERS_PER_CITY = 3
XSS = '<script>alert("xss-{n}")</script><img src=x onerror="alert({n})">'


def xss(n: str) -> str:
    """A distinct payload per field, so a hit names the field."""
    return XSS.format(n=n)


def _id_number(seq: int) -> str:
    """A valid 18-digit resident ID number (GB 11643 check digit)."""
    body = f"440703198{seq % 10}0{(seq % 9) + 1}15{seq:03d}"[:17]
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


CLIENTS = ["欧阳振华", "司徒美玲", "上官建国", "皇甫秀英", "诸葛志强", "慕容晓燕", "东方明辉", "令狐春梅"]


@dataclass
class Secret:
    """What the original file of a case says about its client (never shown to reviewers)."""

    name: str
    id_number: str
    phone: str


@dataclass
class Identity:
    """A reviewer's identifying strings."""

    user_id: int
    profile_id: int
    strings: tuple[str, ...]


@dataclass
class World:
    organiser: int
    staff: list[int]  # one per agency, by agency index
    agencies: list[int]
    reviewers: list[Identity]
    published: int
    scoring: int
    secrets: dict[int, Secret] = field(default_factory=dict)  # case id -> secret
    payloads: dict[str, str] = field(default_factory=dict)  # field -> payload
    api_secret: str = ""
    ids: dict[str, list[Any]] = field(default_factory=dict)


def _user(session: Session, username: str, display: str, roles: list[Role], agency: Any = None) -> User:
    return account_ops.create_user(session, actor=None, username=username, display_name=display, password=PASSWORD,
                                   roles=roles, agency=agency)


def build_world(session: Session, storage: Any) -> World:  # noqa: PLR0915 - one scene, step by step
    """Build the world into an empty, migrated database (committed)."""
    from evalplat.api.operations import issue_token
    from evalplat.appeals.models import Appeal, AppealAttachment
    from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentState
    from evalplat.campaigns.models import Sample
    from evalplat.cases import importer
    from evalplat.cases.models import Case, CaseParty, Document, PartyRole
    from evalplat.cases.operations import process_document
    from evalplat.db import utcnow
    from evalplat.demo.campaigns import build_demo_campaigns
    from evalplat.demo.rubrics import ensure_rubric_versions
    from evalplat.jobs.models import JobRecord
    from evalplat.organisations.models import (
        Agency,
        CaseType,
        Firm,
        Lawyer,
        Region,
        RegionLevel,
        ReviewerKind,
        ReviewerProfile,
    )
    from evalplat.results.models import Result
    from evalplat.reviews.models import Review, ReviewItem
    from evalplat.reviews.operations import decline_assignment

    now = utcnow()
    from evalplat.organisations.jurisdiction import national_region

    nation = national_region(session)  # the organiser below works for the nation: its pool is the nation's
    province = Region(code="SEC00", name="安全省", level=RegionLevel.PROVINCE, parent=nation)
    session.add(province)
    cities = [Region(code=f"SEC{i + 1:02d}", name=f"安全{i + 1}市", level=RegionLevel.CITY, parent=province)
              for i in range(CITIES)]
    session.add_all(cities)
    session.flush()
    organiser = _user(session, "sec.organiser", "组织者", [Role.ORGANISER])
    agencies, staff = [], []
    for i in range(CASE_AGENCIES):
        agency = Agency(code=f"SA{i:02d}", name=f"安全{i + 1}市法律援助中心", region=cities[i], city=cities[i])
        session.add(agency)
        session.flush()
        agencies.append(agency)
        staff.append(_user(session, f"sec.staff{i}", f"机构职员{i}", [Role.AGENCY_STAFF], agency))

    identities: list[Identity] = []
    n = 0
    for c, city in enumerate(cities):
        for k in range(PEERS_PER_CITY + 1):
            n += 1
            peer = k < PEERS_PER_CITY
            display, username = f"匿评人{n:02d}号", f"anonrev{n:02d}x"
            user = _user(session, username, display, [Role.PEER_REVIEWER if peer else Role.EVALUATOR])
            firm = lawyer = None
            organisation = None
            if peer:
                firm = Firm(name=f"隐秘第{n:02d}律师事务所", region=city, city=city)
                session.add(firm)
                session.flush()
                lawyer = Lawyer(name=display, licence_no=f"99{c}{n:02d}2010000{n:04d}", firm=firm,
                                years_of_practice=10, case_types=["criminal", "civil"])
                session.add(lawyer)
                session.flush()
            else:
                organisation = f"隐秘第{n:02d}政法大学"
            profile = ReviewerProfile(user=user, kind=ReviewerKind.PEER if peer else ReviewerKind.EVALUATOR,
                                      region=city, city=city, jurisdiction=nation,
                                      firm_id=firm.id if firm else None, lawyer=lawyer,
                                      organisation=organisation, case_types=["criminal", "civil"], capacity=12)
            session.add(profile)
            session.flush()
            strings = [display, username] + ([firm.name, lawyer.licence_no] if firm and lawyer else [organisation])
            identities.append(Identity(user.id, profile.id, tuple(s for s in strings if s)))
    # Adjudicators of appeals and decisions come from the same pool; an adjudicator-role user too.
    adjudicator = _user(session, "sec.adjudicator", "复评专家", [Role.ADJUDICATOR])

    ensure_rubric_versions(session)
    secrets: dict[int, Secret] = {}
    seq = 0
    for i, agency in enumerate(agencies):
        firm = Firm(name=f"承办律所{i}", region=agency.city, city=agency.city)
        session.add(firm)
        session.flush()
        lawyer = Lawyer(name=f"承办律师{i}", licence_no=f"1440{i}2010000{i:04d}", firm=firm, years_of_practice=6,
                        case_types=["criminal", "civil"])
        session.add(lawyer)
        session.flush()
        for case_type in (CaseType.CRIMINAL, CaseType.CIVIL):
            seq += 1
            client = CLIENTS[seq - 1]
            secret = Secret(client, _id_number(seq), f"1391234{seq:04d}")
            case = Case(agency=agency, case_number=f"安援〔2024〕第{seq:04d}号", year=2024, sequence_no=seq,
                        case_type=case_type, cause="盗窃罪" if case_type == CaseType.CRIMINAL else "劳动争议",
                        assigned_on=date(2024, 3, 1), first_meeting_on=date(2024, 3, 3),
                        closed_on=date(2024, 9, 1), lawyer=lawyer, firm_id=firm.id)
            session.add(case)
            session.flush()
            party = CaseParty(case_id=case.id, role=PartyRole.CLIENT)
            party.name = client
            session.add(party)
            text = (f"安全{i + 1}市人民法院判决书\n受援人{client}，男，身份证号{secret.id_number}，电话{secret.phone}。\n"
                    f"辩护人承办律师{i}，承办律所{i}律师。\n本院认为，受援人{client}的行为应依法处理。\n"
                    f"{client}于二〇二四年到案，联系电话{secret.phone}。")
            document = importer.add_document(session, case_id=case.id, data=text.encode("utf-8"),
                                             filename="判决书.txt", storage=storage)
            assert document is not None
            process_document(session, document.id)
            secrets[case.id] = secret
    session.flush()

    made = build_demo_campaigns(session, seed=7, year=2024, now=now, cities=2)

    # --- user text with an XSS payload in every field that shows user text ---------------------------
    payloads: dict[str, str] = {}
    review = session.scalar(sa.select(Review).join(Assignment, Assignment.id == Review.assignment_id)
                            .join(Sample, Sample.id == Assignment.sample_id)
                            .where(Sample.campaign_id == made.published).order_by(Review.id).limit(1))
    assert review is not None
    payloads["review_summary"] = review.summary_comment = xss("summary")
    item = session.scalar(sa.select(ReviewItem).where(ReviewItem.review_id == review.id).limit(1))
    assert item is not None
    payloads["review_item_comment"] = item.comment = xss("item")
    decided = session.scalar(sa.select(Result).join(Sample, Sample.id == Result.sample_id)
                             .where(Sample.campaign_id == made.published, Result.current.is_(True),
                                    Result.reasons.is_not(None), Result.reasons != "").limit(1))
    if decided is not None:
        payloads["decision_reasons"] = decided.reasons = xss("decision")
    appeals = session.scalars(sa.select(Appeal).order_by(Appeal.id)).all()
    assert appeals, "the published demo campaign has appeals"
    payloads["appeal_reason"] = appeals[-1].reason = xss("appeal")
    key = storage.put(b"%PDF-1.4\n% attachment of the appeal\n")
    appeals[-1].attachments.append(AppealAttachment(original_filename="补充材料.pdf", storage_key=key,
                                                    content_type="application/pdf", size=38))
    # "sn": a display name holds 64 characters (PostgreSQL enforces it; SQLite does not)
    payloads["staff_display_name"] = staff[0].display_name = xss("sn")
    offered = session.scalar(sa.select(Assignment).join(Sample, Sample.id == Assignment.sample_id)
                             .where(Sample.campaign_id == made.scoring, Assignment.round == AssignmentRound.INITIAL,
                                    Assignment.state.in_([AssignmentState.OFFERED, AssignmentState.ACCEPTED]))
                             .order_by(Assignment.id).limit(1))
    assert offered is not None
    payloads["decline_reason"] = xss("decline")
    decline_assignment(session, assignment=offered, actor=offered.reviewer.user, reason=payloads["decline_reason"],
                       conflict=True, now=now)
    _token, api_secret = issue_token(session, actor=organiser, name="sec-token",
                                     scopes=["rankings:read", "expert_pool:read", "priorities:read"])
    first_doc = session.scalar(sa.select(Document).order_by(Document.id).limit(1))
    assert first_doc is not None
    session.add(JobRecord(id="0" * 31 + "1", task="cases.process_document", object_type="document",
                          object_id=first_doc.id, created_by_id=staff[0].id))
    session.commit()
    return World(organiser.id, [s.id for s in staff], [a.id for a in agencies], identities, made.published,
                 made.scoring, secrets, payloads, api_secret, ids={"adjudicator": [adjudicator.id]})


#: Bookkeeping that sign-in and API use may change: left out of "nothing changed" comparisons.
BOOKKEEPING = {"login_attempts": {"*"}, "users": {"last_login_at", "password_hash"},
               "api_tokens": {"last_used_at"}}


def digest(session: Session, *, exclude: dict[str, set[str]] | None = None) -> dict[str, str]:
    """A per-table fingerprint of every row (columns in ``exclude`` left out), to compare before and after.

    Audit events of sign-ins (``user.login``) are bookkeeping too and are left out.
    """
    import hashlib

    from evalplat.extensions import db

    exclude = BOOKKEEPING if exclude is None else exclude
    out: dict[str, str] = {}
    for table in db.metadata.sorted_tables:
        if exclude.get(table.name) == {"*"}:
            continue
        cols = [c for c in table.columns if c.name not in exclude.get(table.name, set())]
        query = sa.select(*cols).order_by(*table.primary_key.columns)
        if table.name == "audit_events":
            query = query.where(table.c.action != "user.login")
        rows = session.execute(query).all()
        h = hashlib.sha256()
        for row in rows:
            h.update(repr(tuple(row)).encode())
        out[table.name] = f"{len(rows)}:{h.hexdigest()[:16]}"
    return out
