import sqlalchemy as sa

from evalplat.audit.models import AuditEvent
from evalplat.audit.operations import record, verify_chain


def _three_events(db):
    for i in range(3):
        record(db.session, actor_id=None, action="test.event", object_type="thing", object_id=i,
               before={"n": i}, after={"n": i + 1, "名称": "测试"})
    db.session.commit()


def test_intact_chain_verifies(db, runner):
    _three_events(db)
    assert verify_chain(db.session) == []
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert "intact" in result.output


def test_edited_row_is_detected(db, runner):
    _three_events(db)
    second = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()[1]
    db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == second.id).values(after={"n": 99}))
    db.session.commit()
    breaks = verify_chain(db.session)
    assert [(b.event_id, b.reason) for b in breaks] == [(second.id, "hash_mismatch")]
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"event {second.id}" in result.output


def test_deleted_row_is_detected(db):
    _three_events(db)
    ids = db.session.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)).all()
    db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id == ids[1]))
    db.session.commit()
    assert [(b.event_id, b.reason) for b in verify_chain(db.session)] == [(ids[2], "gap"), (ids[2], "prev_mismatch")]


def test_events_are_chained_at_commit_and_a_rollback_leaves_no_hole(db):
    record(db.session, actor_id=None, action="test.kept", object_type="thing", object_id=1)
    db.session.commit()
    record(db.session, actor_id=None, action="test.dropped", object_type="thing", object_id=2)
    db.session.flush()
    db.session.rollback()
    record(db.session, actor_id=None, action="test.kept", object_type="thing", object_id=3)
    db.session.commit()
    rows = db.session.execute(sa.select(AuditEvent.seq, AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert rows == [(1, "test.kept"), (2, "test.kept")]
    assert verify_chain(db.session) == []


def test_reordering_two_events_is_detected(db):
    _three_events(db)
    first, second = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()[:2]
    a, b = first.id, second.id
    db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == a).values(seq=-1))
    db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == b).values(seq=1))
    db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == a).values(seq=2))
    db.session.commit()
    assert verify_chain(db.session) != []
