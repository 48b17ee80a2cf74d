"""Accounts (issue 13 item 9): forced password change, strength, one-time TOTP codes, the secret at rest."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import timedelta
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa

from evalplat.accounts import operations
from evalplat.accounts.models import Role, User
from evalplat.db import utcnow

PW = "correct-horse-battery"  # noqa: S105 - test data


def _login(client: Any, user: User, password: str = PW, **extra: str) -> Any:
    return client.post("/login", data={"username": user.username, "password": password, **extra})


def test_must_change_password_is_enforced_on_every_page(app, client, make_user, db):
    user = make_user(Role.ORGANISER)
    db.session.get(User, user.id).must_change_password = True
    db.session.commit()
    assert _login(client, user).headers["Location"] == "/account/password"
    for url in ("/home", "/admin/users", "/campaigns", "/cases/", "/settings/api-tokens"):
        answer = client.get(url)
        assert answer.status_code == 302, url
        assert answer.headers["Location"] == "/account/password", url
    refused = client.post("/admin/users/new", data={"username": "sneaky", "display_name": "x", "roles": ["organiser"],
                                                    "agency_id": 0, "password": "a-good-long-password"})
    assert refused.headers["Location"] == "/account/password"
    assert db.session.scalar(sa.select(User).where(User.username == "sneaky")) is None
    assert client.get("/account/password").status_code == 200
    assert client.post("/account/password", data={"current": PW, "new": "violet-anchor-meadow-42",
                                                  "confirm": "violet-anchor-meadow-42"}).status_code == 302
    assert client.get("/home").status_code == 200


@pytest.mark.parametrize("weak", ["1234567890", "password12", "qwertyuiop", "1qaz2wsx3edc", "aaaaaaaaaaaa"])
def test_weak_and_common_passwords_are_refused(client, make_user, db, weak):
    user = make_user(Role.ORGANISER)
    client.post("/login", data={"username": user.username, "password": PW})
    client.post("/language/zh_Hans")
    page = client.post("/account/password", data={"current": PW, "new": weak, "confirm": weak},
                       follow_redirects=True)
    body = page.get_data(as_text=True)
    assert ("最常见的密码" in body) or ("容易被猜到" in body), body[-3000:]
    db.session.expire_all()
    assert _login(client.application.test_client(), user, weak).status_code == 200  # not changed
    with pytest.raises(operations.AccountError):
        operations.create_user(db.session, actor=None, username="weak.user", display_name="弱密码",
                               password=weak, roles=[Role.PEER_REVIEWER])


def test_demo_and_test_passwords_pass_the_strength_check():
    from evalplat.accounts.passwords import password_problem
    from evalplat.demo.province import DEMO_PASSWORD

    assert password_problem(DEMO_PASSWORD, "organiser") is None
    assert password_problem(PW, "peer001") is None


def test_password_naming_the_person_is_refused(db):
    with pytest.raises(operations.AccountError) as caught:
        operations.create_user(db.session, actor=None, username="wang.x", display_name="wangxiaoming",
                               password="wangxiaoming1", roles=[Role.PEER_REVIEWER])
    assert caught.value.code == "password_too_weak"


def _with_totp(db: Any, user: User) -> str:
    secret = pyotp.random_base32()
    row = db.session.get(User, user.id)
    row.totp_secret = secret
    db.session.commit()
    return secret


def test_totp_code_is_accepted_once_only(app, make_user, db):
    user = make_user(Role.ORGANISER)
    secret = _with_totp(db, user)
    code = pyotp.TOTP(secret).now()
    first, second = app.test_client(), app.test_client()
    assert _login(first, user, totp=code).status_code == 302
    assert _login(second, user, totp=code).status_code == 200, "the same code signed in twice"
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_last_step == pyotp.TOTP(secret).timecode(utcnow())


def test_totp_accepts_one_step_of_drift_and_no_more(make_user, db):
    now = utcnow()
    for offset, accepted in ((-90, False), (-60, False), (-30, True), (0, True), (30, True), (60, False)):
        user = db.session.get(User, make_user(Role.ORGANISER).id)
        secret = _with_totp(db, user)
        code = pyotp.TOTP(secret).at(now + timedelta(seconds=offset))
        assert operations.use_totp_code(db.session, user=user, code=code, now=now) is accepted, offset


def test_totp_secret_is_encrypted_at_rest(make_user, db):
    user = make_user(Role.ORGANISER)
    secret = _with_totp(db, user)
    raw = db.session.execute(sa.text("SELECT totp_secret_ciphertext FROM users WHERE id = :i"), {"i": user.id}).scalar_one()
    assert raw
    assert secret not in raw
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_secret == secret


def _session_payload(client: Any) -> str:
    cookie = client.get_cookie("session").value
    compressed = cookie.startswith(".")
    data = cookie.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    return (zlib.decompress(raw) if compressed else raw).decode()


def test_pending_totp_secret_is_kept_on_the_server_not_in_the_cookie(client, make_user, db):
    user = make_user(Role.ORGANISER)
    _login(client, user)
    assert client.post("/account/two-factor/start").status_code == 302
    page = client.get("/account/two-factor").get_data(as_text=True)
    db.session.expire_all()
    pending = db.session.get(User, user.id).totp_pending
    assert pending
    assert pending in page
    payload = _session_payload(client)
    json.loads(payload)  # the cookie was read, so the check below can fail
    assert pending not in payload
    raw = db.session.execute(sa.text("SELECT totp_pending FROM users WHERE id = :i"), {"i": user.id}).scalar_one()
    assert pending not in raw
    assert client.post("/account/two-factor", data={"code": pyotp.TOTP(pending).now()}).status_code == 302
    db.session.expire_all()
    row = db.session.get(User, user.id)
    assert (row.totp_secret, row.totp_pending) == (pending, None)
