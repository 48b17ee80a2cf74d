import sqlalchemy as sa
from tests_support import csrf_token

from evalplat.accounts.models import Role, User


def test_post_without_csrf_token_is_rejected_and_changes_nothing(client, make_user, login, csrf_on, db):
    admin = make_user(Role.ORGANISER)
    page = client.get("/login")
    client.post("/login", data={"username": admin.username, "password": "correct-horse-battery",
                                "csrf_token": csrf_token(page.get_data(as_text=True))})
    before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    response = client.post("/admin/users/new", data={"username": "sneaky", "display_name": "x",
                                                     "roles": ["organiser"], "agency_id": 0,
                                                     "password": "a-good-long-password"})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == before


def test_login_without_csrf_token_fails(client, make_user, csrf_on):
    user = make_user(Role.ORGANISER)
    response = client.post("/login", data={"username": user.username, "password": "correct-horse-battery"})
    assert response.status_code == 400
