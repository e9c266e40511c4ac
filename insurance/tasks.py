"""Celery tasks for insurance: thin wrappers that take ids.

Calls to the insurer retry with backoff while it is unavailable. Run eagerly (development, one process)
they do not retry in-line: the policy stays pending and the beat sweep (or staff) asks again.
"""

from __future__ import annotations

import logging

from celery import shared_task

from . import claims, remittance, services
from .backends import InsurerUnavailable

logger = logging.getLogger("gigmarket.insurance")

MAX_RETRIES = 8


def _backoff(retries: int) -> int:
    return min(30 * 2**retries, 3600)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def issue_policy(self, policy_id: int) -> None:
    try:
        services.policy_issue(policy_id=policy_id)
    except InsurerUnavailable as exc:
        if self.request.is_eager or self.request.retries >= self.max_retries:
            logger.warning("policy %s still pending after %s tries", policy_id, self.request.retries + 1)
            return
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def cancel_policy_at_insurer(self, policy_id: int) -> None:
    try:
        services.policy_insurer_cancel(policy_id=policy_id)
    except InsurerUnavailable as exc:
        if self.request.is_eager or self.request.retries >= self.max_retries:
            logger.warning(
                "cancel of policy %s not delivered after %s tries", policy_id, self.request.retries + 1
            )
            return
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task
def retry_pending_policies() -> int:
    return services.policies_retry_pending()


@shared_task
def retry_insurer_cancels() -> int:
    return services.policies_retry_insurer_cancel()


@shared_task
def end_overdue_cover() -> int:
    return services.policies_end_overdue()


@shared_task
def remit_premiums_daily() -> int:
    """Beat, every morning: yesterday's earned premiums to the insurer, with their statement."""
    return remittance.remit_day().pk


@shared_task
def retry_remittances() -> int:
    return remittance.remittances_retry()


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def forward_claim(self, claim_id: int) -> None:
    try:
        claims.claim_submit(claim_id=claim_id)
    except InsurerUnavailable as exc:
        if self.request.is_eager or self.request.retries >= self.max_retries:
            logger.warning(
                "claim %s not yet at the insurer after %s tries", claim_id, self.request.retries + 1
            )
            return
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task
def retry_claim_forwarding() -> int:
    return claims.claims_retry_forwarding()
