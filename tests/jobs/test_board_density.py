"""Page 1 of nearest-first starts from a ring as wide as the posts around the visitor need (jobs.selectors
``_first_width``): one ring statement where a village used to take three; the page itself never changes."""

import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs import selectors
from jobs.selectors import DENSITY_CELL, GEO_CELL, BoardQuery, board
from tests.factories import PostFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="rings on PostgreSQL")


@pytest.fixture(autouse=True)
def fresh_density(monkeypatch):
    monkeypatch.setitem(selectors._density, "until", 0.0)


def test_the_first_ring_is_one_cell_where_posts_are_dense_and_wider_where_they_are_sparse(monkeypatch):
    dense = {(i, j): 200_000 for i in range(-1, 2) for j in range(-1, 2)}
    monkeypatch.setattr(selectors, "_density_cells", lambda: dense)
    assert selectors._first_width(0.01, 0.01, 21) == GEO_CELL
    sparse = {(0, 0): 90}
    monkeypatch.setattr(selectors, "_density_cells", lambda: sparse)
    width = selectors._first_width(0.01, 0.01, 21)
    per_area = 90 / (9 * DENSITY_CELL**2)
    assert width == pytest.approx(min(math.sqrt(42 / (math.pi * per_area)), 16 * GEO_CELL))
    assert GEO_CELL < width <= 16 * GEO_CELL
    monkeypatch.setattr(selectors, "_density_cells", lambda: {})
    assert selectors._first_width(0.01, 0.01, 21) == 16 * GEO_CELL  # nothing counted near: the widest


def test_a_sparse_page_one_is_one_ring_and_the_same_page(employer, trade, street):
    # 22 posts 2–4.5 km north of the visitor, nothing nearer: a one-cell ring (445 m) held none of them,
    # and the page took more rings (and the posts' box) to fill.
    posts = [
        PostFactory(
            employer=employer,
            trade=trade,
            area=street,
            district=street.parent,
            lat=28.92 + i * 0.001,
            lng=120.03,
        )
        for i in range(22)
    ]
    query = BoardQuery(sort="nearest", lat=28.90, lng=120.03)
    with CaptureQueriesContext(connection) as captured:
        page = board(query, rows=True)
    rings = [q for q in captured.captured_queries if "unnest(" in q["sql"]]
    assert len(rings) == 1
    assert [row[0] for row in page.rows] == [p.pk for p in posts[:20]]
    orm = board(BoardQuery(sort="nearest", lat=28.90, lng=120.03))  # the QuerySet path: the same page
    assert [p.pk for p in orm.posts] == [p.pk for p in posts[:20]] and orm.next_cursor == page.next_cursor
