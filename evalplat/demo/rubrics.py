"""Store the platform's current rubric definitions as :class:`RubricVersion` rows (the nation's: the rubric
files are the platform's own, so every jurisdiction sees them)."""

from __future__ import annotations

import sqlalchemy as sa

from evalplat.db import DbSession
from evalplat.reviews.models import RubricVersion


def ensure_rubric_versions(session: DbSession) -> list[RubricVersion]:
    """Add a version for every current rubric whose content the nation does not store yet.

    Parameters
    ----------
    session : Session
        The caller's session; nothing is committed here.

    Returns
    -------
    list of RubricVersion
        The rows added (empty when every current definition is already stored).
    """
    from evalplat.campaigns.operations import ensure_rubric_versions as ensure

    before = set(session.scalars(sa.select(RubricVersion.id)))
    return [row for row in ensure(session, actor=None) if row.id not in before]
