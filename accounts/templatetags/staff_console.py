"""Template tags for the staff console (Django admin)."""

from __future__ import annotations

from django import template
from django.urls import reverse

from accounts.selectors import review_queue_counts

register = template.Library()

# (key in review_queue_counts, label, model whose view permission shows the row, changelist, query)
QUEUES = [
    ("realnames", "待审核实名认证", "realname", "status__exact=pending"),
    ("employers", "待审核用工主体", "employer", "status__exact=pending"),
    ("certificates", "待审核职业证书", "certificate", "status__exact=pending"),
    ("assisted_unconfirmed", "代注册待本人确认", "user", "assisted=unconfirmed"),
]


@register.simple_tag(takes_context=True)
def review_queues(context) -> list[dict]:
    """Today's queues on the admin home: what waits for a decision, with a link to each list.
    A queue is shown only to staff who may open its list."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_staff:
        return []
    visible = [
        q
        for q in QUEUES
        if user.has_perm(f"accounts.view_{q[2]}") or user.has_perm(f"accounts.change_{q[2]}")
    ]
    if not visible:
        return []
    counts = review_queue_counts()
    return [
        {
            "key": key,
            "label": label,
            "count": counts[key],
            "url": f"{reverse(f'admin:accounts_{model}_changelist')}?{query}",
        }
        for key, label, model, query in visible
    ]
