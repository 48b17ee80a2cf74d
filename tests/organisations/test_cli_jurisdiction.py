"""The command line and jurisdictions (issue 19): the operator's tool is platform-wide, but a command run on behalf
of an organiser (``--as``, ``--user``) checks the object against that organiser's jurisdiction, as the web does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from jurisdiction_tree import PASSWORD, build_tree

from evalplat.accounts import operations as accounts
from evalplat.accounts.models import Role, User
from evalplat.campaigns.models import Campaign, CampaignState
from evalplat.cases.models import Case, CaseType
from evalplat.followups.models import FollowupAttempt, FollowupPlan, FollowupTarget, PlanMode


@pytest.fixture
def tree(db: Any) -> Any:
    return build_tree(db.session)


def _user(db: Any, username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


def test_users_create_places_an_organiser_in_the_jurisdiction_named(runner: Any, db: Any, tree: Any) -> None:
    result = runner.invoke(args=["users", "create", "org.cli", "--role", "organiser", "--jurisdiction",
                                 tree.regions["P1C1"].code, "--password", "Cli-organiser-passphrase-2024"])
    assert result.exit_code == 0, result.output
    assert _user(db, "org.cli").jurisdiction_id == tree.regions["P1C1"].id
    unknown = runner.invoke(args=["users", "create", "org.nowhere", "--role", "organiser", "--jurisdiction", "X99"])
    assert unknown.exit_code != 0
    assert "unknown region code 'X99'" in unknown.output


def test_users_create_as_an_organiser_stays_inside_its_jurisdiction(runner: Any, db: Any, tree: Any) -> None:
    city = tree.organisers["P1C1"].username
    above = runner.invoke(args=["users", "create", "org.above", "--role", "organiser", "--jurisdiction",
                                tree.regions["P1"].code, "--as", city])
    far = runner.invoke(args=["users", "create", "staff.far", "--role", "agency_staff", "--agency",
                              tree.agencies["P2C1"].code, "--as", city])
    assert above.exit_code != 0
    assert far.exit_code != 0
    assert _user(db, "org.above") is None
    assert _user(db, "staff.far") is None
    near = runner.invoke(args=["users", "create", "staff.near", "--role", "agency_staff", "--agency",
                               tree.agencies["P1C1K"].code, "--as", city])
    county = runner.invoke(args=["users", "create", "org.county", "--role", "organiser", "--as", city, "--jurisdiction",
                                 tree.regions["P1C1K"].code])
    assert near.exit_code == 0, near.output
    assert county.exit_code == 0, county.output
    assert _user(db, "org.county").jurisdiction_id == tree.regions["P1C1K"].id


def test_campaign_commands_as_an_organiser_refuse_another_jurisdictions_campaign(runner: Any, db: Any,
                                                                                 tree: Any) -> None:
    db.session.add(Campaign(name="市2评估", code_prefix="SIBL", year=2024, state=CampaignState.DRAFT,
                            jurisdiction=tree.regions["P1C2"]))
    db.session.commit()
    for organiser in ("P1C1", "P1"):  # the sibling city, and the parent province: neither runs it
        refused = runner.invoke(args=["campaign", "plan", "SIBL", "--mode", "fixed", "--per-stratum", "1", "--as",
                                      tree.organisers[organiser].username])
        assert refused.exit_code != 0
        assert f"{tree.organisers[organiser].username} does not run campaign SIBL" in refused.output
        db.session.expire_all()
        assert db.session.scalar(sa.select(Campaign).where(Campaign.code_prefix == "SIBL")).plan is None
    owner = runner.invoke(args=["campaign", "plan", "SIBL", "--mode", "fixed", "--per-stratum", "1", "--as",
                                tree.organisers["P1C2"].username])
    assert owner.exit_code == 0, owner.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(Campaign).where(Campaign.code_prefix == "SIBL")).plan is not None
    platform = runner.invoke(args=["campaign", "show", "SIBL"])  # no --as: the operator's platform-wide view
    assert platform.exit_code == 0, platform.output


def test_followup_import_for_another_jurisdictions_agency_is_refused(runner: Any, db: Any, tree: Any,
                                                                     tmp_path: Path) -> None:
    agency = tree.agencies["P1C1K"]
    case = Case(agency=agency, case_number="回访〔2024〕1号", year=2024, sequence_no=1, case_type=CaseType.CIVIL,
                cause="劳动争议")
    plan = FollowupPlan(agency_id=agency.id, year=2024, mode=PlanMode.ALL, seed="s", population=1)
    db.session.add_all([case, plan])
    db.session.flush()
    db.session.add(FollowupTarget(plan_id=plan.id, case_id=case.id, agency_id=agency.id, position=1,
                                  inclusion_probability=1.0))
    db.session.commit()
    path = tmp_path / "calls.csv"
    path.write_text("案号,回访日期,结果\n回访〔2024〕1号,2024-06-01,无人接听\n", encoding="utf-8")

    def attempts() -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(FollowupAttempt)) or 0

    # another province's organiser, and even the agency's own organiser: only its follow-up staff import
    for user in (tree.organisers["P2C1"], tree.organisers["P1C1"]):
        refused = runner.invoke(args=["followups", "import", agency.code, str(path), "--user", user.username])
        assert refused.exit_code != 0
        assert "row 2" not in refused.output  # refused before the file is read: nothing told about the rows
    assert attempts() == 0
    staff = accounts.create_user(db.session, actor=None, username="callers.p1c1k", display_name="回访员",
                                 password=PASSWORD, roles=[Role.AGENCY_STAFF], agency=agency)
    db.session.commit()
    done = runner.invoke(args=["followups", "import", agency.code, str(path), "--user", staff.username])
    assert done.exit_code == 0, done.output
    assert attempts() == 1
