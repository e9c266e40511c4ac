"""The order rules, read from ``settings.JOBS_RULES``, in one place so pages can show users the same
numbers the services apply."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from django.conf import settings


@dataclass(frozen=True)
class Rules:
    free_cancel: dt.timedelta
    free_cancel_before_start: dt.timedelta
    employer_late_cancel: dt.timedelta
    compensation_rate: Decimal
    compensation_min_fen: int
    no_show_grace: dt.timedelta
    check_in_early: dt.timedelta
    check_in_radius_m: int
    auto_approve: dt.timedelta
    application_ttl: dt.timedelta

    def compensation_fen(self, expected_fen: int) -> int:
        amount = int((Decimal(expected_fen) * self.compensation_rate).to_integral_value(ROUND_CEILING))
        return min(expected_fen, max(self.compensation_min_fen, amount))

    def worker_cancel_is_free(
        self, *, confirmed_at: dt.datetime, starts_at: dt.datetime, now: dt.datetime
    ) -> bool:
        """A worker's cancel costs nothing within ``free_cancel`` of the confirmation (a change of mind), or
        while ``free_cancel_before_start`` or more remain before the start (time to find someone else)."""
        return now - confirmed_at <= self.free_cancel or starts_at - now >= self.free_cancel_before_start

    def employer_cancel_is_late(self, *, starts_at: dt.datetime, now: dt.datetime) -> bool:
        """An employer cancelling less than ``employer_late_cancel`` before the start compensates the worker."""
        return starts_at - now < self.employer_late_cancel

    def check_in_too_early(self, *, starts_at: dt.datetime, now: dt.datetime) -> bool:
        """Check-in opens ``check_in_early`` before the start (and closes at the end of the shift)."""
        return now < starts_at - self.check_in_early

    def check_out_too_early(self, *, starts_at: dt.datetime, now: dt.datetime) -> bool:
        """Check-out (with the hours or pieces worked) opens at the start: before it nothing has been worked."""
        return now < starts_at

    def check_in_too_far(self, meters: float) -> bool:
        """A check-in more than ``check_in_radius_m`` from the post's location is refused."""
        return meters > self.check_in_radius_m

    def in_no_show_grace(self, *, starts_at: dt.datetime, now: dt.datetime) -> bool:
        """From the start until ``no_show_grace`` after it a confirmed worker may still check in; after it,
        one who has not is a no-show."""
        return starts_at <= now < starts_at + self.no_show_grace

    def as_text(self) -> list[str]:
        """The rules as users read them (post and order pages)."""
        return [
            f"接单后{_minutes(self.free_cancel)}内，或离开工还有{_hours(self.free_cancel_before_start)}以上，"
            "工人可免费取消；之后取消会降低靠谱分。",
            f"雇主在开工前{_hours(self.employer_late_cancel)}内取消，需补偿工人预计报酬的"
            f"{(self.compensation_rate * 100).normalize():f}%（至少{self.compensation_min_fen // 100}元）。",
            f"开工{_minutes(self.no_show_grace)}后仍未签到，记为未到岗；开工后工人取消，也按未到岗处理；开工后雇主不能取消。",
            f"签退时填报的数量不超过岗位的工作时长或件数；签退后雇主{_hours(self.auto_approve)}内未确认，"
            "按工人填报的数量自动确认（最多为托管的数量，更多须雇主确认）。",
        ]


def _minutes(delta: dt.timedelta) -> str:
    return f"{delta // dt.timedelta(minutes=1)}分钟"


def _hours(delta: dt.timedelta) -> str:
    return f"{delta // dt.timedelta(hours=1)}小时"


def rules() -> Rules:
    r = settings.JOBS_RULES
    return Rules(
        free_cancel=dt.timedelta(minutes=r["FREE_CANCEL_MINUTES"]),
        free_cancel_before_start=dt.timedelta(hours=r["FREE_CANCEL_BEFORE_START_HOURS"]),
        employer_late_cancel=dt.timedelta(hours=r["EMPLOYER_LATE_CANCEL_HOURS"]),
        compensation_rate=Decimal(r["EMPLOYER_COMPENSATION_RATE"]),
        compensation_min_fen=int(r["EMPLOYER_COMPENSATION_MIN_FEN"]),
        no_show_grace=dt.timedelta(minutes=r["NO_SHOW_GRACE_MINUTES"]),
        check_in_early=dt.timedelta(minutes=r["CHECK_IN_EARLY_MINUTES"]),
        check_in_radius_m=int(r["CHECK_IN_RADIUS_METERS"]),
        auto_approve=dt.timedelta(hours=r["AUTO_APPROVE_HOURS"]),
        application_ttl=dt.timedelta(hours=r["APPLICATION_TTL_HOURS"]),
    )


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine), metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def reliability(*, completed: int, no_shows: int, late_cancels: int) -> int:
    """靠谱分, 0–100: 100 × (C + 1) / (C + 1 + 3N + L), with C completed orders, N no-shows and L late
    cancellations. A new worker starts at 100; a no-show weighs three times a late cancel; each completed
    order earns trust back."""
    return round(100 * (completed + 1) / (completed + 1 + 3 * no_shows + late_cancels))
