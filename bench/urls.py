"""The site's URLs plus two bench-only paths. Only ``bench.settings`` selects this module; the production
URLconf never contains bench views.

- ``/bench/bare``: the baseline the job board is compared with.
- ``/bench/board-microcached/``: the real board API behind a 5-second whole-response cache in Redis,
  a prototype of the "Redis cache for hot lists" in the design, measured so its gain is known before
  anyone proposes it for the real route.
"""

from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.cache import cache_page

from jobs.api import BoardView


def bare(request):
    """Django's floor for a JSON response: the full middleware stack, no database, no serializer."""
    return JsonResponse({"results": [], "next_cursor": None})


urlpatterns = [
    path("bench/bare", bare, name="bench-bare"),
    path("bench/board-microcached/", cache_page(5, key_prefix="bench")(BoardView.as_view())),
    path("", include("gigmarket.urls")),
]
