"""The signals one domain sends and another answers (blinker, which Flask depends on).

Nothing is connected by importing a module: the factory (:func:`evalplat.create_app`) connects every
receiver explicitly, so what runs after a review is submitted, or before a campaign changes state, does not
depend on which modules happened to be imported.

``review_submitted``
    Sent by :func:`evalplat.reviews.operations.submit_review` inside the submitting transaction, after the
    review is stored: ``receiver(session, *, review, actor, now)``. An exception in a receiver rolls the
    submit back. Connected: :func:`evalplat.results.operations.consolidate_on_submit`.
``campaign_precondition``
    Asked by :func:`evalplat.campaigns.states.problems` before a campaign moves: the receivers connected for
    the target state (sender ``CampaignState``), or for one edge (sender ``"<from>-><to>"``), are called as
    ``check(session, campaign, now)`` and return ``None`` or a message naming what is missing. Connect
    with :func:`evalplat.campaigns.states.precondition`. Connected: the results' publication checks and the
    appeals' "no open appeal" check for ``final``.
``events_committed``
    Sent by a page after it committed a change people may have to be told about (offers made, a decision
    taken, a case's file changed, an appeal filed or decided): ``receiver(sender)``. Connected:
    :func:`evalplat.notifications.on_events_committed`, which queues a scan for new notifications. The pages
    thereby do not import the notifications package, which reads every domain.
"""

from __future__ import annotations

from blinker import Namespace

__all__ = ["campaign_precondition", "events_committed", "review_submitted"]

_signals = Namespace()

review_submitted = _signals.signal("review-submitted")
campaign_precondition = _signals.signal("campaign-precondition")
events_committed = _signals.signal("events-committed")
