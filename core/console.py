"""The staff home's queues (今日待办) and common tasks (常用办理): every area registers what waits for a staff decision, with a count
scoped to the staff member (core.scoping: their service point and those below it) and a link to the list.

Apps register their queues in ``AppConfig.ready()``; the admin home (templates/admin/index.html) shows the
ones the staff member may open."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from .scoping import objects_visible_to


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


def scoped(queryset, *, user):
    """``queryset`` cut to the staff member's service points, exactly as their lists are
    (:func:`core.scoping.objects_visible_to`), so a queue never counts rows its list does not show. Rows of
    no point (online self-registrations before every row had one) belong to the district market."""
    return objects_visible_to(user, queryset)


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


@dataclass(frozen=True)
class StaffAction:
    """A task a clerk starts from the console home (常用办理): 代注册, 代发岗位, 口头投诉… The pages live
    outside the admin (phone-first forms); the home links them, to the staff who may use them."""

    key: str
    label: str
    permissions: tuple[str, ...]  # any of these shows the action
    url_name: str
    hint: str = ""
    order: int = 100


_ACTIONS: dict[str, StaffAction] = {}


def register_action(action: StaffAction) -> None:
    _ACTIONS[action.key] = action


def actions_for(user) -> list[dict]:
    if user is None or not user.is_authenticated or not user.is_staff:
        return []
    return [
        {"key": a.key, "label": a.label, "hint": a.hint, "url": reverse(a.url_name)}
        for a in sorted(_ACTIONS.values(), key=lambda a: (a.order, a.key))
        if any(user.has_perm(p) for p in a.permissions)
    ]
