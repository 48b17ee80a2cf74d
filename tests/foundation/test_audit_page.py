from evalplat.accounts.models import Role
from evalplat.audit.operations import record


def _rows(html):
    return html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def test_organiser_filters_the_audit_log(client, make_user, login, db):
    admin = make_user(Role.ORGANISER)  # writes user.created
    record(db.session, actor_id=admin.id, action="campaign.sample_drawn", object_type="campaign", object_id=7,
           after={"samples": 301})
    db.session.commit()
    login(client, admin)  # writes user.login
    rows = _rows(client.get("/audit?action=campaign.", headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert "Sample drawn" in rows
    assert "User created" not in rows
    assert "301" in rows
    rows = _rows(client.get("/audit?object_type=user", headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert "User created" in rows
    assert "Sample drawn" not in rows


def test_audit_page_shows_actions_as_labels_in_both_languages(client, make_user, login, db):
    login(client, make_user(Role.ORGANISER))
    html = client.get("/audit?action=user.").get_data(as_text=True)
    rows = _rows(html)
    assert "创建用户" in rows
    assert "登录" in rows
    assert ">user.login<" not in rows
    assert ">user.created<" not in rows
    assert 'title="user.login"' in rows  # the code stays at hand for who filters by it
    assert '<option value="user.login"' in html
    assert "全部：用户管理" in html
    client.post("/language/en", data={})
    rows = _rows(client.get("/audit?action=user.", headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert "User created" in rows
    assert "Signed in" in rows


def test_audit_filter_takes_several_prefixes(client, make_user, login, db):
    admin = make_user(Role.ORGANISER)
    record(db.session, actor_id=admin.id, action="result.consensus", object_type="sample", object_id=1)
    record(db.session, actor_id=admin.id, action="results.official_scores", object_type="campaign", object_id=2)
    record(db.session, actor_id=admin.id, action="review.submitted", object_type="review", object_id=3)
    db.session.commit()
    login(client, admin)
    rows = _rows(client.get("/audit?action=result.,results.", headers={"Accept-Language": "en"})
                 .get_data(as_text=True))
    assert "Consensus result recorded" in rows
    assert "Official scores chosen" in rows
    assert "Review submitted" not in rows


def test_audit_log_is_organisers_only(client, make_user, login):
    login(client, make_user(Role.AGENCY_STAFF))
    assert client.get("/audit").status_code == 403
