from datetime import timedelta

import sqlalchemy as sa
from tests_support import without_csrf_token

from evalplat.accounts.models import LoginAttempt, Role, User
from evalplat.db import utcnow


def test_login_and_first_page_per_role(client, make_user, login):
    for role in Role:
        user = make_user(role)
        login(client, user)
        page = client.get("/home")
        assert page.status_code == 200
        assert user.display_name in page.get_data(as_text=True)
        client.post("/logout")


def test_unknown_user_and_wrong_password_look_the_same(client, make_user):
    user = make_user(Role.ORGANISER)
    wrong = client.post("/login", data={"username": user.username, "password": "wrong-password-123"})
    unknown = client.post("/login", data={"username": "nobody-here", "password": "wrong-password-123"})
    assert wrong.status_code == unknown.status_code == 200
    # the typed username is echoed back into the form; apart from it the pages are identical
    assert (without_csrf_token(wrong.get_data(as_text=True)).replace(user.username, "<u>")
            == without_csrf_token(unknown.get_data(as_text=True)).replace("nobody-here", "<u>"))


def test_failed_logins_are_counted_in_the_database_and_lock_the_account(app, client, make_user, db):
    user = make_user(Role.ORGANISER)
    for _ in range(app.config["EVALPLAT_LOGIN_MAX_FAILURES"]):
        client.post("/login", data={"username": user.username, "password": "wrong-password-123"})
    failures = db.session.scalar(sa.select(sa.func.count()).select_from(LoginAttempt)
                                 .where(LoginAttempt.username == user.username, LoginAttempt.success.is_(False)))
    assert failures == app.config["EVALPLAT_LOGIN_MAX_FAILURES"]
    locked = client.post("/login", data={"username": user.username, "password": "correct-horse-battery"})
    assert locked.status_code == 200
    assert "/home" not in locked.headers.get("Location", "")
    # the window passes: the same password works again
    db.session.execute(sa.update(LoginAttempt).values(at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert client.post("/login", data={"username": user.username,
                                       "password": "correct-horse-battery"}).status_code == 302


def test_next_accepts_only_local_paths(client, make_user):
    user = make_user(Role.ORGANISER)
    for target, expected in [("/admin/users", "/admin/users"), ("https://evil.example/", "/home"),
                             ("//evil.example/x", "/home"), ("/\\evil.example", "/home")]:
        response = client.post(f"/login?next={target}",
                               data={"username": user.username, "password": "correct-horse-battery"})
        assert response.status_code == 302
        assert response.headers["Location"] == expected, target
        client.post("/logout")


def test_session_is_renewed_on_login(client, make_user):
    user = make_user(Role.ORGANISER)
    with client.session_transaction() as sess:
        sess["planted"] = "by-attacker"
    client.post("/login", data={"username": user.username, "password": "correct-horse-battery"})
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_password_change_ends_other_sessions(app, make_user, db):
    user = make_user(Role.ORGANISER)
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        c.post("/login", data={"username": user.username, "password": "correct-horse-battery"})
        assert c.get("/home").status_code == 200
    response = first.post("/account/password", data={"current": "correct-horse-battery",
                                                      "new": "another-long-secret", "confirm": "another-long-secret"})
    assert response.status_code == 302
    assert first.get("/home").status_code == 200
    assert second.get("/home").status_code == 302  # old cookie no longer works


def test_deactivated_user_is_signed_out(app, client, make_user, login, db):
    admin = make_user(Role.ORGANISER)
    victim = make_user(Role.PEER_REVIEWER)
    other = app.test_client()
    login(other, victim)
    login(client, admin)
    assert client.post(f"/admin/users/{victim.id}/active/0").status_code == 302
    assert other.get("/home").status_code == 302
    assert db.session.get(User, victim.id).active is False


def test_logout_ends_the_session(client, make_user, login):
    login(client, make_user(Role.ORGANISER))
    client.post("/logout")
    assert client.get("/home").status_code == 302


def test_organiser_creates_user_and_duplicate_is_refused(client, make_user, login, db):
    login(client, make_user(Role.ORGANISER))
    data = {"username": "new.reviewer", "display_name": "新评审", "roles": ["peer_reviewer"], "agency_id": 0,
            "password": "a-good-long-password"}
    assert client.post("/admin/users/new", data=data).status_code == 302
    created = db.session.scalar(sa.select(User).where(User.username == "new.reviewer"))
    assert created.roles == {Role.PEER_REVIEWER}
    assert created.must_change_password
    again = client.post("/admin/users/new", data=data, headers={"Referer": "http://localhost/admin/users/new"},
                        follow_redirects=True)
    assert "new.reviewer" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)
                             .where(User.username == "new.reviewer")) == 1


def test_security_headers(client):
    response = client.get("/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_organiser_turns_on_totp_and_then_needs_the_code(app, client, make_user, login, db):
    import pyotp

    admin = make_user(Role.ORGANISER)
    login(client, admin)
    client.post("/account/two-factor/start")
    db.session.expire_all()
    secret = db.session.get(User, admin.id).totp_pending
    wrong = client.post("/account/two-factor", data={"code": "000000"}, follow_redirects=True)
    assert db.session.get(User, admin.id).totp_secret is None
    assert wrong.status_code == 200
    assert client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, admin.id).totp_secret == secret
    fresh = app.test_client()
    no_code = fresh.post("/login", data={"username": admin.username, "password": "correct-horse-battery"})
    assert no_code.status_code == 200  # refused without the code
    # the code that turned it on was spent: the next step's code signs in
    from datetime import timedelta

    next_code = pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))
    ok = fresh.post("/login", data={"username": admin.username, "password": "correct-horse-battery",
                                    "totp": next_code})
    assert ok.status_code == 302


def test_back_to_refuses_a_foreign_referrer(app):
    from evalplat.security import back_to

    with app.test_request_context("/x", headers={"Referer": "https://evil.example/phish"}):
        assert back_to("/home") == "/home"
    with app.test_request_context("/x", headers={"Referer": "http://localhost/campaigns?page=2"}):
        assert back_to("/home") == "/campaigns?page=2"
