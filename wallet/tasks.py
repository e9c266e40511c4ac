"""Wallet tasks: thin wrappers that take ids. A payout runs after the withdrawal commits; the scheduled
ones close stale top-ups and retry payouts whose outcome was not known."""

from celery import shared_task

from . import services
from .models import GatewayNonce, IdempotencyKey


@shared_task(acks_late=True)
def pay_withdrawal(withdrawal_id: int) -> str:
    return services.withdrawal_pay(withdrawal_id=withdrawal_id).status


@shared_task
def retry_withdrawals() -> int:
    return services.withdrawals_retry()


@shared_task
def expire_top_ups() -> int:
    from datetime import timedelta

    from django.utils import timezone

    # Old nonces and stored API answers are no longer needed once their window has passed.
    GatewayNonce.objects.filter(seen_at__lt=timezone.now() - timedelta(days=1)).delete()
    IdempotencyKey.objects.filter(created_at__lt=timezone.now() - timedelta(days=7)).delete()
    return services.top_ups_expire()
