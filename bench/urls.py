"""The site's URLs plus two bench-only paths. Only ``bench.settings`` selects this module; the production
URLconf never contains bench views.

- ``/bench/bare``: the baseline the job board is compared with.
- ``/bench/board-uncached/``: the real board view without the page cache in front of it (every request
  validates, queries and renders), so the database path is measured under load too.
"""

from django.http import JsonResponse
from django.urls import include, path

from jobs.api import BoardView


def bare(request):
    """Django's floor for a JSON response: the full middleware stack, no database, no serializer."""
    return JsonResponse({"results": [], "next_cursor": None})


urlpatterns = [
    path("bench/bare", bare, name="bench-bare"),
    path("bench/board-uncached/", BoardView.as_view()),
    path("", include("gigmarket.urls")),
]
