import sqlalchemy as sa

from evalplat.accounts.models import Role, User


def test_backup_and_restore_round_trip(runner, db, make_user, tmp_path):
    keep = make_user(Role.ORGANISER, username="kept.user")
    target = tmp_path / "backup.bin"
    result = runner.invoke(args=["backup", "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0
    # damage the data after the backup
    make_user(Role.ORGANISER, username="added.later")
    db.session.execute(sa.delete(User).where(User.id == keep.id))
    db.session.commit()
    db.session.remove()
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    names = set(db.session.scalars(sa.select(User.username)))
    assert "kept.user" in names
    assert "added.later" not in names


def test_restore_refuses_a_file_that_is_not_a_backup(runner, db, tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    result = runner.invoke(args=["restore", str(bogus), "--yes"])
    assert result.exit_code != 0
    assert "not" in result.output
    assert "backup" in result.output
