"""Migrations build the schema on a fresh database, go down and up again, and match the models."""

import os
import secrets
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from evalplat import create_app
from evalplat.extensions import db

MIGRATIONS = str(Path(__file__).resolve().parents[2] / "migrations")


@pytest.fixture
def fresh_database(app, tmp_path):
    """An empty database of the same kind as the suite's (SQLite file, or a new PostgreSQL database)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql"):
        name = f"evalplat_mig_{secrets.token_hex(4)}"
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        yield f"sqlite:///{tmp_path / 'mig.db'}"


@pytest.fixture
def fresh_app(fresh_database):
    """An app on the fresh database; its engine's connections are closed before the database is dropped
    (a pool left to the garbage collector reported its open psycopg connections in whichever test ran then)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "k" * 40, "SQLALCHEMY_DATABASE_URI": fresh_database})
    yield app
    with app.app_context():
        db.engine.dispose()


def test_upgrade_downgrade_upgrade_and_no_drift(fresh_app):
    from flask_migrate import downgrade, upgrade

    with fresh_app.app_context():
        upgrade(directory=MIGRATIONS)
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"users", "cases", "campaigns", "reviews", "audit_events"} <= tables
        downgrade(directory=MIGRATIONS, revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"


def test_suite_database_is_the_configured_one(app):
    wanted = os.environ.get("EVALPLAT_TEST_DATABASE_URL")
    if wanted:
        assert app.config["SQLALCHEMY_DATABASE_URI"].split("@")[-1] == wanted.split("@")[-1]
    else:
        assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")


def test_upgrade_of_a_populated_database_keeps_its_rows(fresh_app):
    """A database that already holds users and rows pointing at them upgrades to the head without loss.

    SQLite alters a table by copying it and dropping the old one; with foreign keys enforced that drop
    failed on every database with an audit trail ("FOREIGN KEY constraint failed: DROP TABLE users").
    """
    from flask_migrate import upgrade

    with fresh_app.app_context():
        upgrade(directory=MIGRATIONS, revision="0003")
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO users (id, username, display_name, password_hash, active, session_token, "
                "must_change_password, created_at) VALUES (7, 'kept', '保留', 'x', true, 't', false, "
                "CURRENT_TIMESTAMP)"))
            conn.execute(sa.text(
                "INSERT INTO audit_events (id, at, actor_id, action, object_type, prev_hash, hash) VALUES "
                "(1, CURRENT_TIMESTAMP, 7, 'user.login', 'user', '', 'h1')"))
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT username FROM users")).scalars().all() == ["kept"]
            assert conn.execute(sa.text("SELECT actor_id FROM audit_events")).scalars().all() == [7]


def _populate_before_jurisdictions(conn: sa.Connection, *, provinces: int) -> None:
    """Rows of an installation as it was before juris_1: provinces without a parent, their cities and counties,
    agencies, reviewers, organisers and campaigns."""
    sql = sa.text
    for p in range(1, provinces + 1):
        conn.execute(sql(f"INSERT INTO regions (id, code, name, level, parent_id) VALUES "
                         f"({p}, '4{p}0000', '省{p}', 'province', NULL), "
                         f"({10 + p}, '4{p}0700', '市{p}', 'city', {p}), "
                         f"({20 + p}, '4{p}0703', '县{p}', 'county', {10 + p})"))
        conn.execute(sql(f"INSERT INTO agencies (id, code, name, region_id, city_id, active) VALUES "
                         f"({p}, 'A{p}', '法援{p}', {20 + p}, {10 + p}, true)"))
    for uid, name in ((1, "org.one"), (2, "org.two"), (3, "org.idle"), (4, "reviewer")):
        conn.execute(sql(
            "INSERT INTO users (id, username, display_name, password_hash, active, session_token, "
            f"must_change_password, created_at) VALUES ({uid}, '{name}', '{name}', 'x', true, 't{uid}', false, "
            "CURRENT_TIMESTAMP)"))
        role = "peer_reviewer" if name == "reviewer" else "organiser"
        conn.execute(sql(f"INSERT INTO user_roles (user_id, role) VALUES ({uid}, '{role}')"))
    conn.execute(sql(
        "INSERT INTO reviewer_profiles (id, user_id, kind, region_id, city_id, years_of_practice, case_types, "
        f"specialties, capacity, active, created_at) VALUES (1, 4, 'evaluator', {10 + provinces}, "
        f"{10 + provinces}, 3, '[]', '', 5, true, CURRENT_TIMESTAMP)"))
    campaigns = [(1, "agencies", "NULL", f"'[{provinces}]'", 2),  # the last province's agency, by org.two
                 (2, "city", "11", "'[]'", 1),                      # province 1's city, by org.one
                 (3, "province", "NULL", "'[]'", "NULL")]           # the whole installation
    for cid, kind, region, agencies, creator in campaigns:
        conn.execute(sql(
            "INSERT INTO campaigns (id, name, code_prefix, year, scope_kind, scope_region_id, scope_agency_ids, "
            "state, reviewers_per_case, min_evaluators, disagreement_rules, grade_bands, ranking_rules, "
            "assignment_rules, due_days, official_scores, created_by_id, created_at, version) VALUES "
            f"({cid}, 'c{cid}', 'C{cid}', 2024, '{kind}', {region}, {agencies}, 'draft', 2, 0, '{{}}', '{{}}', "
            f"'{{}}', '{{}}', 21, 'raw', {creator}, CURRENT_TIMESTAMP, 1)"))


def _jurisdiction_rows(conn: sa.Connection) -> dict[str, object]:
    sql = sa.text
    nation = conn.execute(sql("SELECT id, name, level, parent_id FROM regions WHERE code = '000000'")).one()
    return {
        "nation": nation,
        "province_parents": conn.execute(sql(
            "SELECT parent_id FROM regions WHERE level = 'province' ORDER BY id")).scalars().all(),
        "campaigns": conn.execute(sql("SELECT jurisdiction_id FROM campaigns ORDER BY id")).scalars().all(),
        "reviewer": conn.execute(sql("SELECT jurisdiction_id FROM reviewer_profiles")).scalar_one(),
        "users": conn.execute(sql("SELECT jurisdiction_id FROM users ORDER BY id")).scalars().all(),
    }


def test_jurisdiction_upgrade_of_one_province_puts_everything_in_it_and_downgrades_without_loss(fresh_app):
    from flask_migrate import downgrade, upgrade

    with fresh_app.app_context():
        upgrade(directory=MIGRATIONS, revision="hard_a_5")
        with db.engine.begin() as conn:
            _populate_before_jurisdictions(conn, provinces=1)
        upgrade(directory=MIGRATIONS, revision="juris_1")
        with db.engine.connect() as conn:
            rows = _jurisdiction_rows(conn)
        nation = rows["nation"]
        assert (nation.name, nation.level, nation.parent_id) == ("全国", "nation", None)
        assert rows["province_parents"] == [nation.id]
        assert rows["campaigns"] == [1, 1, 1]  # every campaign is the province's
        assert rows["reviewer"] == 1
        assert rows["users"] == [1, 1, 1, None]  # organisers work for the province; the reviewer has none
        downgrade(directory=MIGRATIONS, revision="hard_a_5")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM regions WHERE code = '000000'")).scalar() == 0
            assert conn.execute(sa.text("SELECT parent_id FROM regions WHERE id = 1")).scalar() is None
            counts = [conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
                      for t in ("regions", "agencies", "users", "user_roles", "campaigns", "reviewer_profiles")]
        assert counts == [3, 1, 4, 4, 3, 1]
        upgrade(directory=MIGRATIONS)


def test_jurisdiction_upgrade_of_two_provinces_places_each_row_in_the_province_it_belongs_to(fresh_app):
    from flask_migrate import upgrade

    with fresh_app.app_context():
        upgrade(directory=MIGRATIONS, revision="hard_a_5")
        with db.engine.begin() as conn:
            _populate_before_jurisdictions(conn, provinces=2)
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            rows = _jurisdiction_rows(conn)
        nation_id = rows["nation"].id
        assert rows["province_parents"] == [nation_id, nation_id]
        # agency of province 2 → province 2; city of province 1 → province 1; the whole installation → nation
        assert rows["campaigns"] == [2, 1, nation_id]
        assert rows["reviewer"] == 2  # the reviewer's city lies in province 2
        # org.one created province 1's campaign, org.two province 2's; org.idle touched nothing: the nation
        assert rows["users"] == [1, 2, nation_id, None]


def test_postcase_4_gives_drawn_samples_their_probability_and_refuses_to_drop_risk_plans(fresh_app, capfd):
    """Samples drawn before the inclusion-probability column get n/N of their stratum from the stored report on
    upgrade; a downgrade is refused by name while a campaign uses the risk mode, and works once none does."""
    from datetime import UTC, datetime

    from flask_migrate import downgrade, upgrade

    from evalplat.campaigns import operations as ops
    from evalplat.campaigns.models import Sample
    from evalplat.demo import command

    now = datetime(2026, 1, 5, tzinfo=UTC)
    with fresh_app.app_context():
        upgrade(directory=MIGRATIONS)
        command.generate(db.session, cases=300, documents="none")
        year = command.DEFAULT_YEAR
        campaigns = {}
        for prefix, plan in (("FX2024", {"mode": "fixed", "per_stratum": 1, "strata": ["case_type"]}),
                             ("RK2024", {"mode": "risk", "per_stratum": 5, "strata": ["case_type"]})):
            campaign = ops.create_campaign(db.session, actor=None, name=prefix, year=year, code_prefix=prefix)
            ops.set_plan(db.session, actor=None, campaign=campaign, plan=plan)
            ops.fix_seed(db.session, actor=None, campaign=campaign, seed="s", source="test", now=now)
            ops.freeze_population(db.session, actor=None, campaign=campaign, now=now)
            ops.draw_sample(db.session, actor=None, campaign=campaign, now=now)
            campaigns[prefix] = campaign.id
        db.session.commit()
        before = dict(db.session.execute(sa.select(Sample.id, Sample.inclusion_probability)
                                         .where(Sample.campaign_id == campaigns["FX2024"])).all())
        assert before
        assert all(0 < p < 1 for p in before.values())
        db.session.remove()
        with pytest.raises(SystemExit):  # flask-migrate logs the migration's RuntimeError and exits
            downgrade(directory=MIGRATIONS, revision="juris_1")
        assert f"campaigns {campaigns['RK2024']} use the risk sampling mode" in capfd.readouterr().err
        with db.engine.connect() as conn:  # postcase_4 stays (later revisions may or may not have been undone:
            # PostgreSQL rolls the whole refused downgrade back, SQLite keeps what ran before the refusal)
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() != "juris_1"
            assert "inclusion_probability" in {c["name"] for c in sa.inspect(conn).get_columns("samples")}
        with db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM samples WHERE campaign_id = :c"), {"c": campaigns["RK2024"]})
            conn.execute(sa.text("DELETE FROM sampling_plans WHERE campaign_id = :c"), {"c": campaigns["RK2024"]})
        downgrade(directory=MIGRATIONS, revision="juris_1")
        with db.engine.connect() as conn:
            assert "inclusion_probability" not in {c["name"] for c in sa.inspect(conn).get_columns("samples")}
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            after = dict(conn.execute(sa.text("SELECT id, inclusion_probability FROM samples")).all())
        assert after == pytest.approx(before)


def _insert_row(conn: sa.Connection, table: str, **values: object) -> None:
    """Insert into a table as the database has it at this revision (reflected), giving every other required
    column a plain value of its type — so the test does not restate each table's columns."""
    from datetime import UTC, datetime

    reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
    row = dict(values)
    for column in reflected.columns:
        if column.name in row or column.nullable or column.primary_key or column.server_default is not None:
            continue
        kind = column.type
        row[column.name] = (datetime(2025, 1, 1, tzinfo=UTC) if isinstance(kind, sa.DateTime)
                            else False if isinstance(kind, sa.Boolean)
                            else 1 if isinstance(kind, sa.Integer | sa.Float | sa.Numeric)
                            else {} if isinstance(kind, sa.JSON) else "")
    conn.execute(reflected.insert().values(**row))


def _populate_rubric_uses(conn: sa.Connection) -> dict[str, int]:
    """Two provinces (a city under the first), campaigns of each, and rubric versions used in one province
    (pinned by a city's campaign; reviewed under in a province's campaign; a calibration reference), in both,
    and in none — the rows of an installation before jura_1."""
    nation = conn.execute(sa.text("SELECT id FROM regions WHERE code = '000000'")).scalar_one()
    for rid, code, level, parent in ((101, "440000", "province", nation), (102, "440700", "city", 101),
                                     (103, "450000", "province", nation)):
        _insert_row(conn, "regions", id=rid, code=code, name=code, level=level, parent_id=parent)
    _insert_row(conn, "agencies", id=101, code="JM", name="江门法援", region_id=102, city_id=102)
    for case_id in (101, 102):
        _insert_row(conn, "cases", id=case_id, agency_id=101, case_number=f"JM-{case_id}", case_type="criminal",
                    year=2024, sequence_no=case_id)
    for cid, owner in ((101, 102), (102, 101), (103, 103)):
        _insert_row(conn, "campaigns", id=cid, name=f"c{cid}", code_prefix=f"C{cid}", scope_kind="province",
                    state="scoring", official_scores="raw", jurisdiction_id=owner, scope_agency_ids=[],
                    year=2024, due_days=21, reviewers_per_case=2, min_evaluators=0)
    ids = {"city_pinned": 101, "province_reviewed": 102, "both": 103, "unused": 104, "calibration": 105}
    for n, vid in enumerate(ids.values(), start=1):
        _insert_row(conn, "rubric_versions", id=vid, key="criminal", version=n, case_types=["criminal"],
                    definition={"key": "criminal", "n": n}, content_hash=f"{n:064d}")
    for campaign, case_type, version in ((101, "criminal", 101), (103, "criminal", 103), (102, "civil", 103)):
        _insert_row(conn, "campaign_rubrics", campaign_id=campaign, case_type=case_type, rubric_version_id=version)
    _insert_row(conn, "samples", id=101, campaign_id=102, case_id=101, code="C102-1", stratum="s")
    _insert_row(conn, "samples", id=102, campaign_id=102, case_id=102, code="C102-2", stratum="s", is_training=True)
    _insert_row(conn, "users", id=101, username="rv", display_name="rv", password_hash="x", session_token="t")
    _insert_row(conn, "reviewer_profiles", id=101, user_id=101, kind="peer", region_id=102, city_id=102,
                jurisdiction_id=101, case_types=[])
    _insert_row(conn, "assignments", id=101, sample_id=101, reviewer_id=101, round="initial", state="accepted")
    _insert_row(conn, "reviews", id=101, assignment_id=101, rubric_version_id=102, state="draft", vetoes=[])
    _insert_row(conn, "calibration_references", sample_id=102, rubric_version_id=105, items={}, vetoes=[],
                total=80, grade="good")
    return {**ids, "nation": nation}


def test_jura_1_gives_each_rubric_version_the_province_it_was_used_in_and_downgrades_without_loss(
        fresh_app, capfd):
    """Versions used in one province (by a city's campaign there too) become the province's; used in two
    provinces, or never, the nation's. Nothing is lost, and the downgrade is refused by name while two owners
    hold the same key and number."""
    from flask_migrate import downgrade, upgrade

    with fresh_app.app_context():
        upgrade(directory=MIGRATIONS, revision="harden_1")
        with db.engine.begin() as conn:
            ids = _populate_rubric_uses(conn)
            before = conn.execute(sa.text("SELECT id, key, version, definition, content_hash FROM rubric_versions "
                                          "ORDER BY id")).all()
        upgrade(directory=MIGRATIONS, revision="jura_1")
        with db.engine.connect() as conn:
            owners = dict(conn.execute(sa.text("SELECT id, jurisdiction_id FROM rubric_versions")).all())
            after = conn.execute(sa.text("SELECT id, key, version, definition, content_hash FROM rubric_versions "
                                         "ORDER BY id")).all()
        assert after == before
        assert owners == {ids["city_pinned"]: 101, ids["province_reviewed"]: 101, ids["calibration"]: 101,
                          ids["both"]: ids["nation"], ids["unused"]: ids["nation"]}
        # a city of Guangxi's own criminal v1 clashes with Guangdong's under the old numbering
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO rubric_versions (id, key, version, case_types, definition, "
                                 "content_hash, frozen, created_at, jurisdiction_id) VALUES (106, 'criminal', 1, "
                                 "'[]', '{}', 'x', false, CURRENT_TIMESTAMP, 103)"))
        db.session.remove()
        with pytest.raises(SystemExit):
            downgrade(directory=MIGRATIONS, revision="harden_1")
        assert "rubric versions criminal v1 exist under several jurisdictions" in capfd.readouterr().err
        with db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM rubric_versions WHERE id = 106"))
        downgrade(directory=MIGRATIONS, revision="harden_1")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT id, key, version, definition, content_hash FROM rubric_versions "
                                        "ORDER BY id")).all() == before
        upgrade(directory=MIGRATIONS)


def test_jura_2_makes_the_platform_wide_token_lifetime_the_nations_and_downgrades_without_loss(fresh_app, capfd):
    from flask_migrate import downgrade, upgrade

    with fresh_app.app_context():
        upgrade(directory=MIGRATIONS, revision="jura_1")
        with db.engine.begin() as conn:
            _insert_row(conn, "users", id=7, username="org", display_name="org", password_hash="x",
                        session_token="t")
            _insert_row(conn, "api_token_policy", id=1, default_days=14, max_days=120, updated_by_id=7)
        upgrade(directory=MIGRATIONS, revision="jura_2")
        with db.engine.connect() as conn:
            nation = conn.execute(sa.text("SELECT id FROM regions WHERE code = '000000'")).scalar_one()
            rows = conn.execute(sa.text("SELECT jurisdiction_id, default_days, max_days, updated_by_id "
                                        "FROM api_token_policy")).all()
        assert [tuple(r) for r in rows] == [(nation, 14, 120, 7)]
        # a province's own lifetime cannot go back into the one platform-wide row
        with db.engine.begin() as conn:
            _insert_row(conn, "regions", id=900, code="440000", name="广东省", level="province", parent_id=nation)
            _insert_row(conn, "api_token_policy", jurisdiction_id=900, default_days=7, max_days=30)
        db.session.remove()
        with pytest.raises(SystemExit):
            downgrade(directory=MIGRATIONS, revision="jura_1")
        assert "广东省 set an API token lifetime of their own" in capfd.readouterr().err
        with db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM api_token_policy WHERE jurisdiction_id = 900"))
        downgrade(directory=MIGRATIONS, revision="jura_1")
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, default_days, max_days, updated_by_id FROM api_token_policy")).all()
        assert [tuple(r) for r in rows] == [(1, 14, 120, 7)]
        upgrade(directory=MIGRATIONS)


@pytest.mark.parametrize("provinces", [1, 2])
def test_jura_3_gives_bureau_checkers_the_installations_province_or_the_nation(fresh_app, provinces):
    """A second-level checker without an agency gets the only province (or, with several, the nation: it loses
    no file it saw); an agency's checker and an organiser keep theirs; the downgrade clears only the former."""
    from flask_migrate import downgrade, upgrade

    with fresh_app.app_context():
        upgrade(directory=MIGRATIONS, revision="jura_2")
        with db.engine.begin() as conn:
            nation = conn.execute(sa.text("SELECT id FROM regions WHERE code = '000000'")).scalar_one()
            for p in range(1, provinces + 1):
                _insert_row(conn, "regions", id=900 + p, code=f"4{p}0000", name=f"省{p}", level="province",
                            parent_id=nation)
            _insert_row(conn, "agencies", id=900, code="A9", name="法援", region_id=901, city_id=901)
            for uid, agency, role, place in ((1, None, "second_checker", None), (2, 900, "second_checker", None),
                                             (3, None, "organiser", 901)):
                _insert_row(conn, "users", id=uid, username=f"u{uid}", display_name=f"u{uid}", password_hash="x",
                            session_token=f"t{uid}", agency_id=agency, jurisdiction_id=place)
                _insert_row(conn, "user_roles", user_id=uid, role=role)
        upgrade(directory=MIGRATIONS, revision="jura_3")
        with db.engine.connect() as conn:
            places = conn.execute(sa.text("SELECT jurisdiction_id FROM users ORDER BY id")).scalars().all()
        assert places == [901 if provinces == 1 else nation, None, 901]
        downgrade(directory=MIGRATIONS, revision="jura_2")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT jurisdiction_id FROM users ORDER BY id")).scalars().all() == [
                None, None, 901]
        upgrade(directory=MIGRATIONS)
