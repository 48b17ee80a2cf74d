"""Store the platform's current rubric definitions as :class:`RubricVersion` rows.

Kept in one small function so that the reviewer-workspace code can take it over when it owns rubric
storage. ``forms.rubrics.load_rubrics`` returns one rubric per case type (civil and administrative share
one object), so the rubrics are de-duplicated by key before they are stored.
"""

from __future__ import annotations

import sqlalchemy as sa

from evalplat.db import DbSession
from evalplat.reviews.models import RubricVersion


def ensure_rubric_versions(session: DbSession) -> list[RubricVersion]:
    """Add a version for every current rubric whose content is not stored yet.

    Parameters
    ----------
    session : Session
        The caller's session; nothing is committed here.

    Returns
    -------
    list of RubricVersion
        The rows added (empty when every current definition is already stored).
    """
    from forms.rubrics.loader import load_rubrics

    added: list[RubricVersion] = []
    by_key = {rubric.key: rubric for rubric in load_rubrics().values()}
    for key in sorted(by_key):
        rubric = by_key[key]
        stored = session.execute(
            sa.select(sa.func.max(RubricVersion.version),
                      sa.func.count().filter(RubricVersion.content_hash == rubric.content_hash))
            .where(RubricVersion.key == key)
        ).one()
        if stored[1]:
            continue
        row = RubricVersion(key=key, version=(stored[0] or 0) + 1, case_types=list(rubric.case_types),
                            definition=rubric.to_dict(), content_hash=rubric.content_hash)
        session.add(row)
        added.append(row)
    session.flush()
    return added
