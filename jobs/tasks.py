"""Scheduled jobs of the market (Celery beat): thin wrappers around the services."""

from celery import shared_task

from . import followon, reconcile, reminders, services


@shared_task
def expire_posts() -> int:
    return services.posts_expire()


@shared_task
def expire_applications() -> int:
    return services.applications_expire()


@shared_task
def auto_approve_orders() -> int:
    return services.orders_auto_approve()


@shared_task
def mark_no_shows() -> int:
    return services.orders_mark_no_show()


@shared_task(acks_late=True)
def queue_order_reminders() -> int:
    return reminders.order_reminders_queue()


@shared_task
def reconcile_orders_nightly() -> int:
    """Pay what can be paid, check every order against its rules, alert staff on a breach. Returns the
    number of problems."""
    return len(reconcile.nightly())


@shared_task
def grab_followon(claim_id: int) -> str:
    """The order, escrow, policy, contract and messages of one confirmed 抢单 (jobs/followon.py)."""
    return followon.complete(claim_id)


@shared_task
def grab_followon_post(post_id: int) -> dict:
    """The follow-on of every pending 抢单 of one post (jobs/followon.py: one task per post, not per grab)."""
    return followon.complete_post(post_id)


@shared_task
def grab_followon_sweep() -> dict:
    """Recovery sweep: confirmed 抢单 whose follow-on task was lost (broker down, worker killed)."""
    return followon.sweep()
