"""The site's URLs plus two bench-only paths. Only ``bench.settings`` selects this module; the production
URLconf never contains bench views.

- ``/bench/bare``: the baseline the job board is compared with.
- ``/bench/board-uncached/``: the real board endpoint without the page cache in front of it (every request
  validates, queries and renders), so the database path is measured under load too.
- ``/bench/grab-baseline/<post id>/``: the floor for 抢单 (``bench/grab_rush.py``): an authenticated POST
  through the same middleware, token authentication and throttles that does only the guarded slot UPDATE.
- ``/bench/grab-legacy/<post id>/``: the old single-transaction 抢单 (``jobs.services.claim_create``: slot,
  claim, order, contract, policy, escrow and messages in the request), for before/after in one run.
"""

from django.db.models import F
from django.http import JsonResponse
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import DomainError
from jobs import services
from jobs.api import BoardView, board_endpoint
from jobs.models import Post


def bare(request):
    """Django's floor for a JSON response: the full middleware stack, no database, no serializer."""
    return JsonResponse({"results": [], "next_cursor": None})


class GrabBaseline(APIView):
    """The guarded UPDATE alone: one slot if one is left (201), otherwise 409, as 抢单 answers."""

    def post(self, request, pk: int):
        taken = Post.objects.filter(pk=pk, status=Post.Status.OPEN, slots_left__gt=0).update(
            slots_left=F("slots_left") - 1
        )
        if taken:
            return Response({"status": "confirmed"}, status=201)
        return Response({"code": "full", "detail": "手慢了，名额已被抢完"}, status=409)


class GrabLegacy(APIView):
    def post(self, request, pk: int):
        try:
            claim = services.claim_create(post=Post.objects.get(pk=pk), worker=request.user)
        except DomainError as exc:
            return Response({"code": exc.code, "detail": exc.message}, status=409)
        return Response({"id": claim.pk, "status": claim.status}, status=201)


urlpatterns = [
    path("bench/grab-legacy/<int:pk>/", GrabLegacy.as_view()),
    path("bench/grab-baseline/<int:pk>/", GrabBaseline.as_view()),
    path("bench/bare", bare, name="bench-bare"),
    path("bench/board-uncached/", board_endpoint(BoardView.as_view(), cached=False)),
    path("", include("gigmarket.urls")),
]
