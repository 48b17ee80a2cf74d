from evalplat.accounts.models import Role
from evalplat.audit.operations import record


def test_organiser_filters_the_audit_log(client, make_user, login, db):
    admin = make_user(Role.ORGANISER)  # writes user.created
    record(db.session, actor_id=admin.id, action="campaign.sampled", object_type="campaign", object_id=7,
           after={"samples": 301})
    db.session.commit()
    login(client, admin)
    html = client.get("/audit?action=campaign.").get_data(as_text=True)
    assert "campaign.sampled" in html
    assert "user.created" not in html
    assert "301" in html
    html = client.get("/audit?object_type=user").get_data(as_text=True)
    assert "user.created" in html
    assert "campaign.sampled" not in html


def test_audit_log_is_organisers_only(client, make_user, login):
    login(client, make_user(Role.AGENCY_STAFF))
    assert client.get("/audit").status_code == 403
