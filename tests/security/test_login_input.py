"""Sign-in hardening beyond tests/foundation/test_auth.py, cookie flags in production, and input limits."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from conftest import sign_in
from tests_support import without_csrf_token

from evalplat.accounts.models import LoginAttempt, Role, User
from evalplat.appeals.models import Appeal
from evalplat.campaigns.models import Sample
from evalplat.cases.models import Case, Document

PW = "correct-horse-battery"  # noqa: S105 - test data
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


def _login(client: Any, username: str, password: str = PW, address: str = "10.0.0.1", **extra: str) -> Any:
    return client.post("/login", data={"username": username, "password": password, **extra},
                       environ_base={"REMOTE_ADDR": address})


def test_failures_on_other_accounts_never_refuse_a_correct_password(app, client, make_user, db):
    """Issue 13 item 5: 60 failed sign-ins with made-up names from one address (the reverse proxy every user
    shares) do not keep anyone else out; the address waits only for the accounts it guessed at."""
    victim, colleague = make_user(Role.PEER_REVIEWER), make_user(Role.ORGANISER)
    for i in range(60):
        _login(client, f"made-up-{i}", "wrong-password-123", address="10.9.9.9")
    _login(client, colleague.username, "wrong-password-123", address="10.9.9.9")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginAttempt)
                             .where(LoginAttempt.address == "10.9.9.9", LoginAttempt.success.is_(False))) == 61
    assert _login(client, victim.username, address="10.9.9.9").status_code == 302
    client.post("/logout")
    # the account this address guessed at waits, even with its right password, and the wait is recorded
    assert _login(client, colleague.username, address="10.9.9.9").status_code == 200
    assert db.session.scalar(sa.select(LoginAttempt.throttled).order_by(LoginAttempt.id.desc()).limit(1)) is True
    assert _login(client, colleague.username, address="10.1.1.1").status_code == 302


def test_account_waits_grow_with_each_failure_and_end_without_a_lockout(app, client, make_user, db):
    from datetime import timedelta

    from evalplat.accounts import throttle
    from evalplat.db import utcnow

    rules = throttle.Rules.from_config(app.config)
    waits = [throttle.delay_after(n, rules.account_free, rules) for n in range(rules.account_free + 8)]
    assert waits[:rules.account_free] == [0] * rules.account_free
    assert waits[rules.account_free] == rules.first_delay
    assert waits[rules.account_free + 1] == 2 * rules.first_delay
    assert waits[-1] == rules.max_delay
    user = make_user(Role.ORGANISER)

    def later(seconds: float) -> None:  # time passes: every attempt so far moves back
        for attempt in db.session.scalars(sa.select(LoginAttempt)):
            attempt.at -= timedelta(seconds=seconds)
        db.session.commit()

    for _ in range(rules.account_free):
        _login(client, user.username, "wrong-password-123")
    first = throttle.account_state(db.session, user.username, utcnow(), rules)
    assert (first.wait_until - first.last_failure).total_seconds() == rules.first_delay
    assert _login(client, user.username).status_code == 200  # still waiting: refused unexamined, not counted
    assert throttle.account_state(db.session, user.username, utcnow(), rules).failures == rules.account_free
    later(rules.first_delay)
    _login(client, user.username, "wrong-password-123")  # one more failure once the wait is over
    second = throttle.account_state(db.session, user.username, utcnow(), rules)
    assert (second.wait_until - second.last_failure).total_seconds() == 2 * rules.first_delay
    later(rules.first_delay)
    assert _login(client, user.username).status_code == 200  # half-way through the longer wait
    later(rules.first_delay)
    assert _login(client, user.username).status_code == 302  # the wait is over: no lockout


def test_organiser_sees_and_clears_sign_in_throttles(app, client, make_user, db):
    from evalplat.audit.models import AuditEvent

    organiser, user = make_user(Role.ORGANISER), make_user(Role.AGENCY_STAFF)
    for _ in range(app.config["EVALPLAT_LOGIN_MAX_FAILURES"]):
        _login(client, user.username, "wrong-password-123", address="10.7.7.7")
    assert _login(client, user.username, address="10.7.7.8").status_code == 200  # waiting
    boss = _at(app.test_client(), "10.0.0.2")
    assert _login(boss, organiser.username, address="10.0.0.2").status_code == 302
    page = boss.get("/admin/sign-in-throttles").get_data(as_text=True).split('id="throttles"')[1]
    assert f"<code>{user.username}</code>" in page
    assert "10.7.7.7" in page
    assert boss.post("/admin/sign-in-throttles/clear", data={"kind": "account", "key": user.username}).status_code == 302
    after = boss.get("/admin/sign-in-throttles").get_data(as_text=True)
    assert f"<code>{user.username}</code>" not in after.split('id="throttles"')[1]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "login_throttle.cleared")) == 1
    assert _login(_at(app.test_client(), "10.7.7.8"), user.username, address="10.7.7.8").status_code == 302
    staff = _at(app.test_client(), "10.0.0.3")
    assert _login(staff, user.username, address="10.0.0.3").status_code == 302
    assert staff.get("/admin/sign-in-throttles").status_code == 403
    assert staff.post("/admin/sign-in-throttles/clear", data={"kind": "address", "key": "10.7.7.7"}).status_code == 403


@pytest.mark.parametrize(("trusted", "remote", "forwarded", "seen"), [
    (0, "10.0.0.9", "203.0.113.7", "10.0.0.9"),  # nothing trusted: the header is ignored
    (1, "10.0.0.9", "203.0.113.7", "203.0.113.7"),  # one hop
    (1, "10.0.0.9", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # a client cannot prepend its own
    ("10.0.0.9", "10.0.0.9", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # by address
    ("10.0.0.0/24", "10.0.0.9", "203.0.113.7, 10.0.0.3", "203.0.113.7"),  # two trusted hops in a network
    ("10.0.0.9", "192.0.2.50", "203.0.113.7", "192.0.2.50"),  # not from the proxy: ignored
])
def test_forwarded_for_is_believed_only_from_trusted_proxies(trusted, remote, forwarded, seen):
    from flask import Flask, request

    from evalplat.web import install_proxy_fix

    app = Flask("proxy-test")
    app.config["EVALPLAT_TRUSTED_PROXIES"] = trusted
    app.add_url_rule("/ip", "ip", lambda: request.remote_addr or "")
    install_proxy_fix(app)
    answer = app.test_client().get("/ip", headers={"X-Forwarded-For": forwarded},
                                   environ_base={"REMOTE_ADDR": remote})
    assert answer.get_data(as_text=True) == seen


def test_throttled_account_looks_like_a_wrong_password(app, client, make_user):
    user = make_user(Role.ORGANISER)
    wrong = _login(client, user.username, "wrong-password-123")
    for _ in range(app.config["EVALPLAT_LOGIN_MAX_FAILURES"]):
        _login(client, user.username, "wrong-password-123")
    locked = _login(client, user.username)
    assert locked.status_code == wrong.status_code == 200
    assert without_csrf_token(locked.get_data(as_text=True)) == without_csrf_token(wrong.get_data(as_text=True))


def test_wrong_second_factor_counts_as_a_failure_and_locks(app, client, make_user, db):
    user = make_user(Role.ORGANISER)
    secret = pyotp.random_base32()
    db.session.get(User, user.id).totp_secret = secret
    db.session.commit()
    for _ in range(app.config["EVALPLAT_LOGIN_MAX_FAILURES"]):
        assert _login(client, user.username, totp="000000").status_code == 200
    failures = db.session.scalar(sa.select(sa.func.count()).select_from(LoginAttempt)
                                 .where(LoginAttempt.username == user.username, LoginAttempt.success.is_(False)))
    assert failures == app.config["EVALPLAT_LOGIN_MAX_FAILURES"], "wrong codes were not counted"
    # the account is now locked: even the right code is refused (no guessing 10^6 codes)
    assert _login(client, user.username, totp=pyotp.TOTP(secret).now()).status_code == 200


def _at(client: Any, address: str = "10.0.0.1") -> Any:
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _cookie(client: Any) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


@pytest.mark.parametrize("how", ["logout", "password", "deactivation", "admin_reset"])
def test_old_session_cookies_stop_working(app, make_user, db, how):
    user = make_user(Role.ORGANISER)
    admin = make_user(Role.ORGANISER)
    client = _at(app.test_client())
    assert _login(client, user.username).status_code == 302
    stolen = _cookie(client)
    copy = _at(app.test_client())  # same address and agent: session protection can't tell
    copy.set_cookie("session", stolen, domain="localhost")
    assert copy.get("/home").status_code == 200, "a copied cookie works before (the test can fail)"
    if how == "logout":
        client.post("/logout")
    elif how == "password":
        assert client.post("/account/password", data={"current": PW, "new": "another-long-secret",
                                                      "confirm": "another-long-secret"}).status_code == 302
        assert client.get("/home").status_code == 200  # this session carries over
    else:
        boss = _at(app.test_client())
        assert _login(boss, admin.username).status_code == 302
        if how == "deactivation":
            assert boss.post(f"/admin/users/{user.id}/active/0").status_code == 302
        else:
            assert boss.post(f"/admin/users/{user.id}/password",
                             data={"password": "a-new-long-password-1"}).status_code == 302
        assert db.session.get(User, user.id) is not None
    replay = _at(app.test_client())
    replay.set_cookie("session", stolen, domain="localhost")
    assert replay.get("/home").status_code == 302, f"a cookie copied before {how} still works"


@pytest.mark.parametrize("target", ["https:/evil.example", "/%2F%2Fevil.example", "javascript:alert(1)",
                                    " //evil.example", "/\t/evil.example", "http://localhost.evil.example/"])
def test_next_never_leaves_the_site(client, make_user, target):
    user = make_user(Role.ORGANISER)
    response = client.post("/login", query_string={"next": target}, data={"username": user.username, "password": PW})
    assert response.status_code == 302
    location = response.headers["Location"]
    from urllib.parse import urlsplit

    assert location.startswith("/"), location
    assert not location.startswith("//"), location
    assert urlsplit(location).netloc == "", location


def test_session_cookie_flags_in_production(tmp_path, monkeypatch):
    from evalplat import create_app
    from evalplat.files import generate_key

    monkeypatch.setenv("EVALPLAT_ENV", "production")
    app = create_app({"SECRET_KEY": "p" * 40, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                      "EVALPLAT_DATA_KEYS": "k1:" + generate_key(), "EVALPLAT_STORAGE_URL": f"file://{tmp_path}"})
    response = app.test_client().get("/login")
    cookie = response.headers.get("Set-Cookie", "")
    assert "session=" in cookie
    lowered = cookie.lower()
    assert "secure" in lowered
    assert "httponly" in lowered
    assert "samesite=lax" in lowered
    assert "max-age" in response.headers.get("Strict-Transport-Security", "")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_oversized_request_gets_413_with_the_error_page(tmp_path):
    from conftest import make_world_app

    app = make_world_app(tmp_path, tmp_path / "unused.db", EVALPLAT_MAX_UPLOAD_MB=1)
    response = app.test_client().post("/login", data={"username": "x", "password": "y" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "text/html" in response.headers["Content-Type"]


def test_uploaded_files_are_checked_by_content(world_app: Any, world: Any) -> None:
    from evalplat.extensions import db

    staff = world.staff[0]
    agency = world.agencies[0]
    from datetime import date

    from evalplat.organisations.models import CaseType

    # a case no campaign has sampled (a sampled case's file is frozen: tests/security/test_frozen_evidence.py)
    case = Case(agency_id=agency, case_number="安援〔2024〕第9101号", year=2024, sequence_no=9101,
                case_type=CaseType.CRIMINAL, cause="盗窃罪", assigned_on=date(2024, 3, 1), closed_on=date(2024, 9, 1))
    db.session.add(case)
    db.session.commit()
    client = sign_in(world_app, staff)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Document))
    import io

    response = client.post(f"/cases/{case.id}/documents", content_type="multipart/form-data",
                           data={"files": [(io.BytesIO(EXE), "判决书.pdf")], "on_bad_file": "skip"},
                           follow_redirects=True)
    assert response.status_code == 200
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == before
    appealed = set(db.session.scalars(sa.select(Appeal.sample_id)))
    sample = db.session.scalar(sa.select(Sample).join(Case, Case.id == Sample.case_id)
                               .where(Case.agency_id == agency, Sample.campaign_id == world.published,
                                      Sample.id.not_in(appealed)).limit(1))
    assert sample is not None, "the world has an unappealed published case of agency 0"
    appeals = db.session.scalar(sa.select(sa.func.count()).select_from(Appeal))
    response = client.post(f"/appeals/new/{sample.id}", content_type="multipart/form-data",
                           data={"reason": "补充材料", "items": ["total"],
                                 "attachments": [(io.BytesIO(EXE), "会见笔录.pdf")]}, follow_redirects=True)
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appeal)) == appeals
    assert "会见笔录.pdf" in response.get_data(as_text=True)  # the refusal names the file
