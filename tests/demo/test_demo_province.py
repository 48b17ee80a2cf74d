"""The demo province: counts, consistency of cases and files, determinism, logins, --if-empty, production."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from evalplat.accounts.models import Role, User
from evalplat.cases.models import Case, CaseParty, Document
from evalplat.demo import command
from evalplat.demo.province import DEMO_PASSWORD
from evalplat.extensions import db as _db
from evalplat.organisations.models import Agency, Firm, Lawyer, Region, ReviewerProfile

SMALL = 300

# Written out from the official list of Guangdong's prefecture-level cities, not taken from the generator.
GUANGDONG_CITIES = {"广州市", "韶关市", "深圳市", "珠海市", "汕头市", "佛山市", "江门市", "湛江市", "茂名市",
                    "肇庆市", "惠州市", "梅州市", "汕尾市", "河源市", "阳江市", "清远市", "东莞市", "中山市",
                    "潮州市", "揭阳市", "云浮市"}
# Guangxi's cities in the demo and their county-level divisions, from the official list (not the generator's source).
GUANGXI_CITIES = {"南宁市": {"兴宁区", "青秀区", "江南区", "西乡塘区", "良庆区", "邕宁区", "武鸣区", "隆安县", "马山县",
                           "上林县", "宾阳县", "横州市"},
                  "柳州市": {"城中区", "鱼峰区", "柳南区", "柳北区", "柳江区", "柳城县", "鹿寨县", "融安县",
                           "融水苗族自治县", "三江侗族自治县"},
                  "北海市": {"海城区", "银海区", "铁山港区", "合浦县"}}
JIANGMEN_COUNTY_AGENCIES = {"江门市蓬江区法律援助处", "江门市江海区法律援助处", "江门市新会区法律援助处",
                            "台山市法律援助处", "开平市法律援助处", "鹤山市法律援助处", "恩平市法律援助处"}


@pytest.fixture
def demo(runner: Any) -> Callable[..., Any]:
    def run(*args: str) -> Any:
        # the province alone; the demo campaigns are tested once below and by tests/results
        result = runner.invoke(args=["demo", "--no-campaigns", *args])
        return result

    return run


@pytest.fixture
def small_province(demo: Callable[..., Any]) -> Any:
    result = demo("--cases", str(SMALL), "--seed", "11")
    assert result.exit_code == 0, result.output
    return result


def _count(model: type[Any], *where: Any) -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def test_counts(small_province: Any) -> None:
    regions = _db.session.scalars(sa.select(Region)).all()
    by_level = Counter(r.level.value for r in regions)
    guangdong = next(r for r in regions if r.name == "广东省")
    cities = {r.name for r in regions if r.level.value == "city" and r.parent_id == guangdong.id}
    assert {r.name for r in regions if r.level.value == "province"} == {"广东省", "广西壮族自治区"}
    assert by_level["province"] == 2
    assert cities == GUANGDONG_CITIES
    assert {r.code: r.name for r in regions}["440703"] == "蓬江区"
    assert {r.code for r in regions if r.level.value == "city"} >= {"440100", "440700", "441900"}
    guangdong_agencies = _count(Agency, Agency.code.like("GD-%"))
    assert 140 <= guangdong_agencies <= 160
    assert _count(Agency) == guangdong_agencies + 29  # Guangxi: 3 city agencies and 26 county agencies
    jiangmen = _db.session.scalar(sa.select(Region).where(Region.name == "江门市"))
    jm_agencies = set(_db.session.scalars(sa.select(Agency.name).where(Agency.city_id == jiangmen.id)))
    assert jm_agencies == JIANGMEN_COUNTY_AGENCIES | {"江门市法律援助处"}
    assert 3200 <= _count(Lawyer) <= 3400  # 3,000 in Guangdong, 300 in Guangxi
    assert 640 <= _count(Firm) <= 680
    kinds = Counter(_db.session.scalars(sa.select(ReviewerProfile.kind)))
    # per province: peers and evaluators (200 in Guangdong, 42 in Guangxi), and the adjudicator's profile
    assert sum(kinds.values()) == 201 + 43
    adjudicator = _db.session.scalar(sa.select(User).where(User.username == "adjudicator"))
    assert adjudicator.reviewer_profile is not None
    assert adjudicator.roles == {Role.ADJUDICATOR}
    assert kinds["peer"] > 0
    assert kinds["evaluator"] > 0
    roles = Counter(r for u in _db.session.scalars(sa.select(User)) for r in u.roles)
    assert set(roles) == set(Role)  # the national read-only role (ministry) among them
    assert _count(Case) == SMALL
    assert "300 cases" in small_province.output


def test_the_second_province_is_guangxi_with_its_real_divisions_and_files(small_province: Any) -> None:
    guangxi = _db.session.scalar(sa.select(Region).where(Region.name == "广西壮族自治区"))
    assert guangxi.code == "450000"
    cities = {c.name: {k.name for k in c.children} for c in guangxi.children}
    assert cities == GUANGXI_CITIES
    agencies = _db.session.scalars(sa.select(Agency).where(Agency.code.like("GX-%"))).all()
    assert {a.city.name for a in agencies} == set(GUANGXI_CITIES)
    assert "柳州市融水苗族自治县法律援助处" in {a.name for a in agencies}
    cases = _db.session.scalars(sa.select(Case).join(Agency).where(Agency.code.like("GX-%"))).all()
    assert len(cases) == round(SMALL * command.SECOND_PROVINCE_SHARE)
    guangxi_places = set(GUANGXI_CITIES) | set().union(*GUANGXI_CITIES.values())
    for case in cases:
        assert case.lawyer.firm.city.parent_id == guangxi.id
        text = "\n".join(d.extracted_text for d in case.documents)
        assert "桂" in text
        assert "粤" not in text
        assert any(place in text for place in guangxi_places)
        assert not any(city in text for city in GUANGDONG_CITIES)
        client = next(p.name for p in case.parties if p.role.value == "client")
        assert client in text
    staff = _db.session.scalar(sa.select(User).where(User.username == "agency.nanning"))
    assert staff.agency.name == "南宁市法律援助处"


def test_peers_are_generated_lawyers_and_evaluators_have_no_firm(small_province: Any) -> None:
    for profile in _db.session.scalars(sa.select(ReviewerProfile)):
        if profile.kind.value == "peer":
            assert profile.lawyer is not None
            assert profile.firm_id == profile.lawyer.firm_id
            assert profile.user.has_role(Role.PEER_REVIEWER)
            assert profile.years_of_practice >= 3
        else:
            assert profile.firm_id is None
            assert profile.lawyer_id is None
            assert profile.organisation
            # third-party evaluators, and the provincial re-review expert (adjudicator) who decides disagreements
            assert profile.user.has_role(Role.EVALUATOR) or profile.user.roles == {Role.ADJUDICATOR}
        assert profile.case_types
        assert profile.capacity > 0


def test_cases_are_consistent_with_their_files(small_province: Any) -> None:
    cases = _db.session.scalars(sa.select(Case)).all()
    by_agency_year: dict[tuple[int, int], list[int]] = {}
    for case in cases:
        assert case.applied_on <= case.assigned_on <= case.first_meeting_on <= case.closed_on
        assert case.assigned_on - case.applied_on <= timedelta(days=10)  # decision ≤ 7 days, assignment ≤ 3 more
        assert case.closed_on.year == 2024
        assert case.cause
        assert case.stage_reached
        assert case.result
        assert case.firm_id == case.lawyer.firm_id
        by_agency_year.setdefault((case.agency_id, case.year), []).append(case.sequence_no)
        documents = sorted(case.documents, key=lambda d: d.position)
        assert [d.kind.value for d in documents] == ["application", "assignment_letter", "meeting_notes", "opinion",
                                                     "judgment", "closing_report"]
        letter = documents[1].extracted_text
        assert case.lawyer.name in letter
        assert case.lawyer.firm.name in letter
        assert case.lawyer.licence_no in letter
        assert case.agency.name in letter
        assert case.case_number in letter
        assert f"{case.assigned_on.year}年{case.assigned_on.month}月{case.assigned_on.day}日" in letter
        assert case.cause in "".join(d.extracted_text for d in documents)
        parties = {(p.role.value, p.name) for p in case.parties}
        client = [name for role, name in parties if role == "client"]
        assert len(client) == 1
        assert client[0] in documents[0].extracted_text
        assert any(role == "judge" for role, _ in parties)
    for numbers in by_agency_year.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    local = sum(1 for c in cases if c.lawyer.firm.city_id == c.agency.city_id)
    assert local / len(cases) > 0.8


def _generate_into(tmp_path: Path, name: str, seed: int) -> str:
    engine = sa.create_engine(f"sqlite:///{tmp_path / name}")
    _db.metadata.create_all(engine)
    with Session(engine) as session:
        command.generate(session, cases=SMALL, seed=seed)
        session.commit()
        digest = command.case_digest(session)
    engine.dispose()
    return digest


def test_same_seed_same_cases_on_any_database(demo: Callable[..., Any], tmp_path: Path) -> None:
    assert demo("--cases", str(SMALL), "--seed", "7").exit_code == 0
    here = command.case_digest(_db.session)
    assert _generate_into(tmp_path, "again.db", 7) == here
    assert _generate_into(tmp_path, "other.db", 8) != here


def test_every_agency_user_sees_only_their_agency(small_province: Any) -> None:
    from evalplat.cases.queries import case_list

    staff = [u for u in _db.session.scalars(sa.select(User)) if u.has_role(Role.AGENCY_STAFF)]
    assert len(staff) == _count(Agency)
    assert len({u.agency_id for u in staff}) == len(staff)
    per_agency = Counter(_db.session.scalars(sa.select(Case.agency_id)))
    for user in staff:
        assert user.roles == {Role.AGENCY_STAFF}
        rows, total = case_list(user, per_page=1000)
        assert total == per_agency[user.agency_id]
        assert {row.agency for row in rows} <= {user.agency.name}


def test_agency_staff_cannot_open_another_agencys_case(small_province: Any, client: FlaskClient,
                                                       login: Callable[..., Any]) -> None:
    user = _db.session.scalar(sa.select(User).where(User.username == "agency.jiangmen"))
    own = _db.session.scalar(sa.select(Case.id).where(Case.agency_id == user.agency_id))
    other = _db.session.scalar(sa.select(Case.id).where(Case.agency_id != user.agency_id))
    login(client, user, DEMO_PASSWORD)
    if own is not None:
        assert client.get(f"/cases/{own}").status_code == 200
    assert client.get(f"/cases/{other}").status_code == 404


@pytest.mark.parametrize("username", ["organiser", "agency.jiangmen", "agency.jiangmen.taishan", "peer001",
                                      "evaluator001", "adjudicator"])
def test_demo_users_can_sign_in(small_province: Any, client: FlaskClient, login: Callable[..., Any],
                                username: str) -> None:
    user = _db.session.scalar(sa.select(User).where(User.username == username))
    assert user is not None
    assert user.email.endswith("@demo.invalid")
    login(client, user, DEMO_PASSWORD)
    assert client.get("/").status_code in (200, 302)
    assert client.get("/logout").status_code in (302, 405)


def test_demo_logins_prints_the_documented_logins(small_province: Any, runner: Any) -> None:
    result = runner.invoke(args=["demo-logins"])
    assert result.exit_code == 0
    for expected in (DEMO_PASSWORD, "organiser", "agency.jiangmen ", "agency.jiangmen.enping", "peer001",
                     "evaluator001", "adjudicator", "江门市法律援助处", "organiser.jiangmen", "organiser.guangxi",
                     "ministry", "agency.nanning", "gx.peer001", "adjudicator.guangxi"):
        assert expected in result.output
    lines = result.output.splitlines()
    first = [line.split()[0] for line in lines if line.startswith("  ") and not line.startswith("  …")][:4]
    assert first == ["organiser", "organiser.jiangmen", "organiser.guangxi", "ministry"]


def test_if_empty_is_idempotent_and_a_second_run_is_refused(small_province: Any, demo: Callable[..., Any]) -> None:
    before = (_count(Agency), _count(Case), _count(User), _count(Document))
    again = demo("--cases", "50", "--if-empty")
    assert again.exit_code == 0
    assert "nothing to do" in again.output
    refused = demo("--cases", "50")
    assert refused.exit_code == 1
    assert "already holds" in refused.output
    assert (_count(Agency), _count(Case), _count(User), _count(Document)) == before


def test_production_is_refused(app: Flask, demo: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "EVALPLAT_ENV", "production")
    result = demo("--cases", "10")
    assert result.exit_code == 1
    assert "production" in result.output
    assert _count(Agency) == 0
    assert _count(User) == 0


def test_a_failure_leaves_nothing_behind(demo: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    real = command.generate_batches

    def failing(*args: Any, **kwargs: Any) -> Any:
        batches = real(*args, **kwargs)
        yield next(batches)
        raise RuntimeError("disk full")

    monkeypatch.setattr(command, "generate_batches", failing)
    monkeypatch.setattr(command, "CHUNK", 20)
    result = demo("--cases", "60")
    assert result.exit_code != 0
    _db.session.remove()
    assert _count(Agency) == 0
    assert _count(Case) == 0
    assert _count(CaseParty) == 0
    assert _count(User) == 0


def test_bad_arguments_are_named(demo: Callable[..., Any]) -> None:
    result = demo("--cases", "0")
    assert result.exit_code == 2
    assert "--cases" in result.output
    result = demo("--cases", "2000000")
    assert result.exit_code == 2
    assert "--cases" in result.output


def test_files_collected_after_a_draw_are_the_files_all_would_have_stored(app: Any, tmp_path: Path) -> None:
    # --documents none, then every case's file collected: the same province as --documents all, byte for byte
    # (records, parties in order, document texts); and a collected file names the record's client and lawyer
    digests = {}
    for policy in ("all", "none"):
        engine = sa.create_engine(f"sqlite:///{tmp_path / policy}.db")
        _db.metadata.create_all(engine)
        with Session(engine) as session:
            summary = command.generate(session, cases=SMALL, seed=5, documents=policy)
            if policy == "none":
                assert session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0
                ids = list(session.scalars(sa.select(Case.id).order_by(Case.id)))
                assert summary.collect_files is not None
                assert summary.collect_files(session, ids[::7]) == len(ids[::7])
                assert summary.collect_files(session, ids[::7]) == 0  # nothing twice
                case = session.get(Case, ids[7])
                letter = next(d for d in case.documents if d.kind.value == "assignment_letter").extracted_text
                client = next(p.name for p in case.parties if p.role.value == "client")
                assert case.lawyer.name in letter
                assert case.case_number in letter
                assert client in "".join(d.extracted_text for d in case.documents)
                summary.collect_files(session, ids)
            else:
                assert summary.collect_files is None
            session.commit()
            digests[policy] = command.case_digest(session)
        engine.dispose()
    assert digests["none"] == digests["all"]


def test_demo_campaigns_refuse_a_draw_without_files_by_name(app: Any) -> None:
    from evalplat.db import utcnow
    from evalplat.demo.campaigns import build_demo_campaigns

    with app.app_context():
        command.generate(_db.session, cases=SMALL, seed=3, documents="none")
        with pytest.raises(RuntimeError, match="drawn cases have no file"):
            build_demo_campaigns(_db.session, now=utcnow())
        _db.session.rollback()


def test_default_demo_holds_a_published_and_a_scoring_campaign(runner: Any) -> None:
    from evalplat.appeals.models import Appeal, AppealState
    from evalplat.assignments.models import Assignment, AssignmentRound
    from evalplat.campaigns.models import Campaign, CampaignState, Sample
    from evalplat.cases.models import Case
    from evalplat.organisations.models import ReviewerProfile

    result = runner.invoke(args=["demo", "--cases", str(SMALL), "--seed", "11"])
    assert result.exit_code == 0, result.output
    campaigns = {c.code_prefix: c for c in _db.session.scalars(sa.select(Campaign))}
    assert {k: (c.state, c.jurisdiction.name, _db.session.get(User, c.created_by_id).username)
            for k, c in campaigns.items()} == {
        "GD2024": (CampaignState.PUBLISHED, "广东省", "organiser"),
        "GD2024B": (CampaignState.SCORING, "广东省", "organiser"),
        "JM2024": (CampaignState.PUBLISHED, "江门市", "organiser.jiangmen"),
        "GX2024": (CampaignState.PUBLISHED, "广西壮族自治区", "organiser.guangxi")}
    appeal_states = {a.state for a in _db.session.scalars(sa.select(Appeal))}
    assert {AppealState.REJECTED, AppealState.FILED} <= appeal_states

    def sampled(prefix: str) -> list[Case]:
        return list(_db.session.scalars(sa.select(Case).join(Sample, Sample.case_id == Case.id)
                                        .where(Sample.campaign_id == campaigns[prefix].id)))

    # the province's published campaign reaches Jiangmen's agencies too (the city sees them as the province's)
    assert any(case.agency.city.name == "江门市" for case in sampled("GD2024"))
    # Jiangmen's campaign: its county agencies only; reviewers from the province's team (and Jiangmen's own
    # pool: the engine may use it), never from another province's pool, never one from Jiangmen itself
    # (regional avoidance)
    assert sampled("JM2024")
    assert all(case.agency.city.name == "江门市" and case.agency.region.name != "江门市" for case in sampled("JM2024"))
    pools = {p.jurisdiction.name for p in _db.session.scalars(
        sa.select(ReviewerProfile).join(Assignment, Assignment.reviewer_id == ReviewerProfile.id)
        .join(Sample, Sample.id == Assignment.sample_id)
        .where(Sample.campaign_id == campaigns["JM2024"].id, Assignment.round == AssignmentRound.INITIAL))}
    assert "广东省" in pools
    assert pools <= {"广东省", "江门市"}
    reviewers_cities = set(_db.session.scalars(
        sa.select(ReviewerProfile.city_id).join(Assignment, Assignment.reviewer_id == ReviewerProfile.id)
        .join(Sample, Sample.id == Assignment.sample_id).where(Sample.campaign_id == campaigns["JM2024"].id)))
    assert sampled("JM2024")[0].agency.city_id not in reviewers_cities
    # Guangxi's campaign: Guangxi's agencies, Guangxi's reviewers
    assert {case.agency.code[:3] for case in sampled("GX2024")} == {"GX-"}
    gx_pools = {p.jurisdiction.name for p in _db.session.scalars(
        sa.select(ReviewerProfile).join(Assignment, Assignment.reviewer_id == ReviewerProfile.id)
        .join(Sample, Sample.id == Assignment.sample_id).where(Sample.campaign_id == campaigns["GX2024"].id))}
    assert gx_pools == {"广西壮族自治区"}
    # the demo's accounts at every level
    jurisdictions = {u.username: u.jurisdiction.name for u in _db.session.scalars(sa.select(User).where(
        User.username.in_(["organiser", "organiser.jiangmen", "organiser.guangxi", "ministry"])))}
    assert jurisdictions == {"organiser": "广东省", "organiser.jiangmen": "江门市",
                             "organiser.guangxi": "广西壮族自治区", "ministry": "全国"}
