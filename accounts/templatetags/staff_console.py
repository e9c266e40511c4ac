"""Template tags for the staff console (Django admin)."""

from __future__ import annotations

from django import template

from accounts.selectors import service_points_visible_to
from core.console import actions_for, queues_for

register = template.Library()


@register.simple_tag(takes_context=True)
def review_queues(context) -> list[dict]:
    """Today's queues on the admin home (core.console): what waits for a decision, with a link to each
    list. A queue is shown only to staff who may open its list."""
    request = context.get("request")
    return queues_for(getattr(request, "user", None))


@register.simple_tag(takes_context=True)
def staff_actions(context) -> list[dict]:
    """The tasks a clerk starts from the home (代注册, 代发岗位, 口头投诉…), those they may use."""
    request = context.get("request")
    return actions_for(getattr(request, "user", None))


@register.simple_tag(takes_context=True)
def hall_links(context) -> dict:
    """Links on the staff home to the dashboard (数据看板) and to the big screen (大屏) and kiosk (求职机) of
    every service point the staff member works with."""
    from django.urls import reverse

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {"dashboard": "", "own": None, "points": []}
    # The staff member's own point first, on the home; the others (a district has 60+) folded away below,
    # so they never push the queues and the app list down the page.
    points = [
        {
            "pk": p.pk,
            "name": p.name,
            "kind": p.get_kind_display(),
            "screen": reverse("hall:screen", args=[p.pk]),
            "kiosk": reverse("hall:kiosk", args=[p.pk]),
        }
        for p in service_points_visible_to(user=user).filter(is_active=True).order_by("kind", "name")
    ]
    own = next((p for p in points if p["pk"] == user.service_point_id), None)
    dashboard = reverse("hall:dashboard") if user.has_perm("hall.view_dashboard") else ""
    return {"dashboard": dashboard, "own": own, "points": [p for p in points if p is not own]}
