"""The polling fallback of the live events (docs/live.md): the same events as the streams, as JSON, for a
page whose stream is refused (Redis down, too many tabs) or a deployment without the ASGI side."""

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from . import events


def _int(value):
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@require_GET
def poll_me(request):
    """``?after=<last event id>``: the user's events since; without it, none and the cursor now."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": "请先登录", "code": "not_authenticated"}, status=401)
    raw = request.GET.get("after")
    after = _int(raw)
    if raw not in (None, "") and (after is None or after < 0):
        return JsonResponse({"detail": "after 须为消息编号", "code": "invalid", "field": "after"}, status=400)
    cursor, found = events.user_events_after(user_id=request.user.pk, after=after)
    return JsonResponse({"cursor": cursor, "events": found, "poll": settings.LIVE_POLL_SECONDS})


@require_GET
def poll_slots(request):
    """``?posts=1,2,3``: those posts' free slots now."""
    ids = {_int(v) for v in request.GET.get("posts", "").split(",") if v}
    if None in ids or not ids or len(ids) > settings.LIVE_SLOTS_MAX_POSTS:
        return JsonResponse(
            {
                "detail": f"posts 须为 1–{settings.LIVE_SLOTS_MAX_POSTS} 个岗位编号",
                "code": "invalid",
                "field": "posts",
            },
            status=400,
        )
    return JsonResponse({"events": events.slots_snapshot(sorted(ids)), "poll": settings.LIVE_POLL_SECONDS})
