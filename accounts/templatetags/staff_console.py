"""Template tags for the staff console (Django admin)."""

from __future__ import annotations

from django import template

from accounts.selectors import service_points_visible_to
from core.console import queues_for

register = template.Library()


@register.simple_tag(takes_context=True)
def review_queues(context) -> list[dict]:
    """Today's queues on the admin home (core.console): what waits for a decision, with a link to each
    list. A queue is shown only to staff who may open its list."""
    request = context.get("request")
    return queues_for(getattr(request, "user", None))


@register.simple_tag(takes_context=True)
def hall_links(context) -> dict:
    """Links on the staff home to the dashboard (数据看板) and to the big screen (大屏) and kiosk (求职机) of
    every service point the staff member works with."""
    from django.urls import reverse

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {"dashboard": "", "points": []}
    points = [
        {
            "name": p.name,
            "screen": reverse("hall:screen", args=[p.pk]),
            "kiosk": reverse("hall:kiosk", args=[p.pk]),
        }
        for p in service_points_visible_to(user=user).filter(is_active=True).order_by("kind", "name")[:50]
    ]
    dashboard = reverse("hall:dashboard") if user.has_perm("hall.view_dashboard") else ""
    return {"dashboard": dashboard, "points": points}
