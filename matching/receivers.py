"""Signal receivers: a post that opened is pushed (in a Celery task); a claim closes the funnel."""

from __future__ import annotations

import logging

from core.dispatch import dispatch

from .indexing import worker_index_refresh
from .services import mark_claimed

logger = logging.getLogger(__name__)


def queue_push(sender, *, post_id: int, **kwargs) -> None:
    """Sent after the publishing transaction committed: the post is saved whatever happens here. A broker
    failure is logged, not raised to the employer; the push sweep (beat) picks the post up."""
    try:
        dispatch("matching.tasks.push_post", post_id)
    except Exception:  # publishing succeeded; the sweep (beat) pushes the post later
        logger.exception("could not queue the push of post %s", post_id)


def claim_saved(sender, *, instance, created: bool, **kwargs) -> None:
    """A claim closes the funnel at once; a 抢单 (``order_pending``) when its order is made: the two
    UPDATEs stay out of the rush's short transaction and go with the follow-on (:func:`order_saved`)."""
    if created and not instance.order_pending:
        mark_claimed(post_id=instance.post_id, worker_id=instance.worker_id)


def order_saved(sender, *, instance, created: bool, **kwargs) -> None:
    """An order closes its worker's funnel for the post (already closed for an 报名: a no-op then)."""
    if created:
        mark_claimed(post_id=instance.post_id, worker_id=instance.worker_id)


def profile_saved(sender, *, instance, **kwargs) -> None:
    """In the same transaction as the change, so the index can never hold what was rolled back."""
    worker_index_refresh(user_id=instance.user_id)


def wanted_trades_changed(sender, *, instance, action: str, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        profile_saved(sender, instance=instance)
