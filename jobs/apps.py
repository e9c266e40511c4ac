from django.apps import AppConfig

from core.console import StaffAction, register_action
from core.scoping import scope_by_point, scope_global


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "岗位与订单"

    def ready(self) -> None:
        from accounts.signals import employer_suspended  # after the apps registry loads

        from . import money, services  # noqa: F401 (money receives employer_credited); after the registry loads

        def take_posts_down(sender, employer, actor=None, **kwargs):
            services.posts_close_for_suspended_employer(employer=employer, actor=actor)

        employer_suspended.connect(
            take_posts_down, weak=False, dispatch_uid="jobs.posts_close_for_suspended_employer"
        )
        _register_scopes()
        register_action(
            StaffAction(
                key="post_on_behalf",
                label="代发岗位",
                hint="为来大厅的用工主体发布招工",
                permissions=("jobs.post_on_behalf",),
                url_name="jobs:post_on_behalf",
                order=20,
            )
        )


def _register_scopes() -> None:
    """Staff scoping (core.scoping): a post is its publishing point's (the employer's point, or the point
    of the staff member who posted on behalf); an order concerns the post's point and the worker's own
    point (whose station follows the worker up)."""
    from .models import (  # after the apps registry loads
        Block,
        Claim,
        Contract,
        Order,
        OrderEvent,
        Post,
        Rating,
        Trade,
        WorkerStats,
    )

    scope_global(Trade, reason="the trade catalogue: reference data, no personal data")
    scope_by_point(Post, "service_point")
    for model in (Claim, Order):
        scope_by_point(model, "post__service_point", "worker__service_point")
    for model in (Contract, Rating, OrderEvent):
        scope_by_point(model, "order__post__service_point", "order__worker__service_point")
    scope_by_point(WorkerStats, "user__service_point")
    scope_by_point(Block, "employer__service_point")
