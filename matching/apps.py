from django.apps import AppConfig

from core.scoping import scope_by_point


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = "活找人推荐"

    def ready(self) -> None:
        _register_scopes()
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from accounts.models import WorkerProfile  # after the apps registry loads
        from jobs.models import Claim, Order  # after the apps registry loads
        from jobs.signals import post_opened  # after the apps registry loads

        from . import receivers  # after the apps registry loads

        post_opened.connect(receivers.queue_push, dispatch_uid="matching.queue_push")
        post_save.connect(receivers.claim_saved, sender=Claim, dispatch_uid="matching.claim_saved")
        post_save.connect(receivers.order_saved, sender=Order, dispatch_uid="matching.order_saved")
        # The retrieval index follows the profile and its wanted trades.
        post_save.connect(
            receivers.profile_saved, sender=WorkerProfile, dispatch_uid="matching.profile_saved"
        )
        post_delete.connect(
            receivers.profile_saved, sender=WorkerProfile, dispatch_uid="matching.profile_deleted"
        )
        m2m_changed.connect(
            receivers.wanted_trades_changed,
            sender=WorkerProfile.wanted_trades.through,
            dispatch_uid="matching.wanted_trades_changed",
        )


def _register_scopes() -> None:
    """Staff scoping (core.scoping): a push is its post's; a recommendation or an invitation concerns the
    post's point and the worker's."""
    from .models import Invitation, PostPush, Recommendation  # after the apps registry loads

    scope_by_point(PostPush, "post__service_point")
    for model in (Recommendation, Invitation):
        scope_by_point(model, "post__service_point", "worker__service_point")
