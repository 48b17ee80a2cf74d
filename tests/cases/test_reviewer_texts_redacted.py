"""Every text a reviewer, an adjudicator or a re-reviewer reads is redacted with the case's known names.

The scene (redaction_scene.py) puts real names in the parties, the lawyer, the firm, the agency, its city
and county, the case number, the cause and the result, the documents, an appeal's reason and its
attachment. Each of the three kinds of reader then walks every page and download they can open — every GET
route of the URL map their roles may enter, filled with every object id there is, and every link on the
pages they get — and none of those strings may appear.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest
import sqlalchemy as sa
from redaction_scene import build_scene, later, samples
from security import crawl

from evalplat.extensions import db as _db
from evalplat.params import opaque_id

HREF = re.compile(r'href="([^"]+)"')
SKIP = ("/logout", "/static/", "/assets/")


@pytest.fixture
def scene(db: Any, make_region: Any, make_agency: Any, make_firm: Any, make_lawyer: Any, make_case: Any,
          make_reviewer: Any, make_user: Any) -> Any:
    return build_scene(db, make_region, make_agency, make_firm, make_lawyer, make_case, make_reviewer, make_user)


def _score(db: Any, sample: Any, fractions: list[float], day: int) -> None:
    from evalplat.assignments.models import Assignment, AssignmentRound
    from evalplat.demo.campaigns import review_scores, score_assignment
    from evalplat.reviews.rubrics import rubric_for_assignment

    assignments = db.session.scalars(sa.select(Assignment).where(
        Assignment.sample_id == sample.id, Assignment.round == AssignmentRound.INITIAL).order_by(Assignment.id))
    for assignment, fraction in zip(assignments, fractions, strict=True):
        _row, rubric = rubric_for_assignment(db.session, assignment)
        score_assignment(db.session, assignment, review_scores(rubric, fraction, comment="意见"), later(day))
    db.session.commit()


def _user(db: Any, user_id: int) -> Any:
    from evalplat.accounts.models import User

    return db.session.get(User, user_id)


def _round(db: Any, sample_id: int, round_: str) -> Any:
    from evalplat.assignments.models import Assignment, AssignmentRound

    return db.session.scalar(sa.select(Assignment).where(Assignment.sample_id == sample_id,
                                                         Assignment.round == AssignmentRound(round_)))


def _route_urls(app: Any, roles: set[str]) -> list[str]:
    """Every GET URL of the URL map the roles may enter, each argument filled with every id of its kind."""
    values = crawl.object_values(_db.session)
    return [url for rule, policy in crawl.routes(app) if "GET" in crawl.methods(rule) and policy.kind != "api"
            and crawl.allows(policy, roles) for url in crawl.urls_for(rule, values)]


def _walk(client: Any, start: list[str]) -> dict[str, str]:
    """Fetch the URLs and every in-app link on the pages fetched, to closure; the text of each 200 answer."""
    seen: set[str] = set()
    queue = deque(start)
    texts: dict[str, str] = {}
    while queue and len(seen) < 3000:
        url = urldefrag(queue.popleft())[0]
        parts = urlsplit(url)
        if url in seen or parts.netloc or not url.startswith("/") or url.startswith(SKIP):
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200:
            continue
        text = crawl.readable(response)
        texts[url] = text
        if (response.mimetype or "").startswith("text/html"):
            queue.extend(h.replace("&amp;", "&") for h in HREF.findall(text))
    return texts


def _leaks(texts: dict[str, str], secrets: set[str]) -> list[tuple[str, str]]:
    return [(url, s) for url, text in texts.items() for s in secrets if s in text]


def test_reviewers_adjudicators_and_re_reviewers_never_read_a_known_name_on_any_page(
        app: Any, db: Any, scene: Any, login: Any) -> None:
    from evalplat.appeals.operations import accept_appeal, file_appeal
    from evalplat.assignments.models import Assignment
    from evalplat.campaigns import operations as ops
    from evalplat.campaigns.models import Campaign, Sample
    from evalplat.cases.models import Case
    from evalplat.results.operations import decide
    from evalplat.services import get_storage

    drawn = [sample.id for sample in samples(db, scene.campaign)]
    _score(db, db.session.get(Sample, drawn[0]), [0.35, 0.95], day=1)  # far apart: an adjudicator is asked
    adjudication = _round(db, drawn[0], "adjudication")
    assert adjudication is not None
    adjudication_id, adjudicator_id = adjudication.id, adjudication.reviewer.user.id
    for sample_id in drawn[1:]:
        _score(db, db.session.get(Sample, sample_id), [0.8, 0.82], day=1)
    # the adjudicator walks while the decision is open; then it is decided and the campaign published
    adjudicator_texts = _walk_as(app, login, _user(db, adjudicator_id))
    assert any("/decisions/" in url for url in adjudicator_texts), "the adjudicator's page was not reached"

    adjudication = db.session.get(Assignment, adjudication_id)
    decide(db.session, assignment=adjudication, actor=adjudication.reviewer.user, total=75, vetoes=[],
           reasons="裁定", now=later(2))
    campaign = db.session.get(Campaign, scene.campaign.id)
    organiser = _user(db, scene.organiser.id)
    ops.update_settings(db.session, actor=organiser, campaign=campaign, appeal_opens_at=later(3),
                        appeal_closes_at=later(30))
    for state in ("consolidating", "published"):
        ops.transition(db.session, actor=organiser, campaign=campaign, to_state=state, now=later(3))
    db.session.commit()
    appealed = db.session.get(Sample, drawn[1])
    case = db.session.get(Case, appealed.case_id)
    secrets = scene.secrets[case.id]
    client_name = next(n for n in secrets if n in case.cause)
    staff = next(u for u in (_user(db, s.id) for s in scene.staff) if u.agency_id == case.agency_id)
    attachment = f"补充说明：{client_name}的辩护人{case.lawyer.name}（{case.lawyer.firm.name}）按时会见。".encode()
    appeal = file_appeal(db.session, actor=staff, sample=appealed, reason=f"{client_name}案的评分有误，"
                         f"{case.lawyer.name}律师已由{case.agency.name}指派并出庭。", contested_items=["total"],
                         attachments=[("说明.txt", attachment)], storage=get_storage(), now=later(4))
    accept_appeal(db.session, actor=organiser, appeal=appeal, note="", now=later(5))
    db.session.commit()
    re_review = _round(db, drawn[1], "appeal")
    assert re_review is not None
    initial = db.session.scalars(sa.select(Assignment).where(Assignment.sample_id == drawn[2])).first()
    walkers = {"reviewer": initial.reviewer.user, "re-reviewer": re_review.reviewer.user}
    texts = {"adjudicator": adjudicator_texts}
    for kind, user in walkers.items():
        texts[kind] = _walk_as(app, login, user)
    assert any("/decisions/" in url for url in texts["re-reviewer"])
    assert f"/reviews/{opaque_id(initial.id)}" in texts["reviewer"]  # the reviewer's case page was read
    # what they read is the redacted text (the placeholders are there), and no known string anywhere
    assert "当事人" in "".join(texts["re-reviewer"].values())
    every_secret = set().union(*scene.secrets.values())
    for kind, pages in texts.items():
        assert len(pages) > 5, f"the {kind} reached too few pages"
        assert _leaks(pages, every_secret) == [], kind


def _walk_as(app: Any, login: Any, user: Any) -> dict[str, str]:
    client = app.test_client()
    login(client, user)
    start = ["/", *_route_urls(app, {str(r) for r in user.roles})]
    return _walk(client, start)
