"""Name search on the reviewers list and the users list (the search box of each page)."""

from __future__ import annotations

from evalplat.accounts.models import Role


def _named(db, user, name):
    user.display_name = name
    db.session.commit()
    return user


def test_reviewer_list_finds_by_name(db, client, make_user, make_reviewer, login):
    ting = make_reviewer()
    _named(db, ting.user, "李婷")
    other = make_reviewer()
    _named(db, other.user, "王强")
    login(client, make_user(Role.ORGANISER))
    page = client.get("/reviewers?q=李婷&active=all").get_data(as_text=True)
    assert "李婷" in page
    assert "王强" not in page
    assert "王强" in client.get("/reviewers?q=王&active=all").get_data(as_text=True)
    assert "李婷" in client.get(f"/reviewers?q={ting.user.username}&active=all").get_data(as_text=True)


def test_reviewer_search_takes_percent_and_underscore_literally(db, client, make_user, make_reviewer, login):
    _named(db, make_reviewer().user, "张三")
    login(client, make_user(Role.ORGANISER))
    assert "张三" not in client.get("/reviewers?q=%25&active=all").get_data(as_text=True)
    assert "张三" not in client.get("/reviewers?q=_&active=all").get_data(as_text=True)


def test_user_list_finds_by_name_or_username(db, client, make_user, login):
    _named(db, make_user(Role.AGENCY_STAFF, username="staff_hz"), "赵敏")
    _named(db, make_user(Role.AGENCY_STAFF, username="staffxgz"), "钱多")
    login(client, make_user(Role.ORGANISER))
    page = client.get("/admin/users?q=赵敏").get_data(as_text=True)
    assert "staff_hz" in page
    assert "staffxgz" not in page
    by_username = client.get("/admin/users?q=staff_").get_data(as_text=True)
    assert "staff_hz" in by_username
    assert "staffxgz" not in by_username  # "_" is a character here, not a wildcard
