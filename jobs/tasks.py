"""Scheduled jobs of the market (Celery beat): thin wrappers around the services."""

from celery import shared_task

from . import reconcile, reminders, services


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
