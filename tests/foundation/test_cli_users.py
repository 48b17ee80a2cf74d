import sqlalchemy as sa

from evalplat.accounts.models import Role, User


def test_cli_creates_user_and_resets_password(runner, db, client):
    result = runner.invoke(args=["users", "create", "admin2", "--role", "organiser", "--password",
                                 "a-good-long-password"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "admin2"))
    assert user.roles == {Role.ORGANISER}
    result = runner.invoke(args=["users", "reset-password", "admin2", "--password", "another-long-secret"])
    assert result.exit_code == 0
    assert client.post("/login", data={"username": "admin2", "password": "another-long-secret"}).status_code == 302


def test_cli_duplicate_username_is_one_clear_line(runner, db):
    runner.invoke(args=["users", "create", "dup", "--role", "organiser", "--password", "a-good-long-password"])
    result = runner.invoke(args=["users", "create", "dup", "--role", "organiser", "--password",
                                 "a-good-long-password"])
    assert result.exit_code != 0
    assert "dup" in result.output
    assert "已被占用" in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1


def test_cli_unknown_agency(runner, db):
    result = runner.invoke(args=["users", "create", "staff1", "--role", "agency_staff", "--agency", "NOPE"])
    assert result.exit_code != 0
    assert "NOPE" in result.output
