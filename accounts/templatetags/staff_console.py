"""Template tags for the staff console (Django admin)."""

from __future__ import annotations

from django import template

from core.console import queues_for

register = template.Library()


@register.simple_tag(takes_context=True)
def review_queues(context) -> list[dict]:
    """Today's queues on the admin home (core.console): what waits for a decision, with a link to each
    list. A queue is shown only to staff who may open its list."""
    request = context.get("request")
    return queues_for(getattr(request, "user", None))
