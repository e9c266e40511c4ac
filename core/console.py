"""The staff home's queues (今日待办): every area registers what waits for a staff decision, with a count
scoped to the staff member (their service point, unless they are district staff) and a link to the list.

Apps register their queues in ``AppConfig.ready()``; the admin home (templates/admin/index.html) shows the
ones the staff member may open."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class StaffQueue:
    key: str
    label: str
    # Any of these permissions shows the queue ("app.view_model").
    permissions: tuple[str, ...]
    # The list to open: a URL name and an optional query string.
    url_name: str
    count: Callable[..., int]  # count(user=...) -> int
    query: str = ""
    order: int = 100

    def url(self) -> str:
        base = reverse(self.url_name)
        return f"{base}?{self.query}" if self.query else base


_QUEUES: dict[str, StaffQueue] = {}


def register_queue(queue: StaffQueue) -> None:
    _QUEUES[queue.key] = queue


def registered_queues() -> list[StaffQueue]:
    return sorted(_QUEUES.values(), key=lambda q: (q.order, q.key))


def scoped(queryset, *, user, field: str = "service_point"):
    """``queryset`` cut to the staff member's service points through ``field`` (a path to a ServicePoint,
    e.g. ``"user__service_point"``): district staff and superusers count everything; other staff the rows of
    their point and the points under it, plus the shared pool of rows that belong to no point (online
    self-registrations), which any hall may pick up — never another point's rows."""
    from django.db.models import Q

    from accounts.selectors import sees_every_point, service_points_visible_to

    if sees_every_point(user=user):
        return queryset
    visible = service_points_visible_to(user=user)
    return queryset.filter(Q(**{f"{field}__in": visible}) | Q(**{f"{field}__isnull": True}))


def queues_for(user) -> list[dict]:
    """The queues this staff member may open, each with its count for them."""
    if user is None or not user.is_authenticated or not user.is_staff:
        return []
    rows = []
    for queue in registered_queues():
        if not any(user.has_perm(p) for p in queue.permissions):
            continue
        rows.append(
            {"key": queue.key, "label": queue.label, "count": queue.count(user=user), "url": queue.url()}
        )
    return rows
