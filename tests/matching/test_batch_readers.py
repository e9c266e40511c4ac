"""The nightly batch never makes a reader wait: it replaces suggestions a slice of seekers at a time, in
short transactions, so 为你推荐 and the digest read under a 1-second lock timeout while it runs (held
mid-way here), and every seeker has a whole set — the old one or the new one — throughout."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from matching import batch
from matching.models import Suggestion

from .conftest import make_post, make_seeker


def _sets() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for worker_id, post_id in Suggestion.objects.order_by("worker_id", "rank").values_list(
        "worker_id", "post_id"
    ):
        out.setdefault(worker_id, []).append(post_id)
    return out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_readers_never_wait_for_the_batch(employer, trade, town, client, monkeypatch):
    seekers = [make_seeker(f"136000110{i:02d}", f"工人{i}", trades=[trade], area=town) for i in range(5)]
    for i in range(3):
        make_post(employer, trade, town, title=f"小工{i}", pay_fen=20000 + 1000 * i)
    batch.recompute_city(progress=False, processes=1)
    old = _sets()
    assert set(old) == {s.pk for s in seekers}
    best = make_post(employer, trade, town, title="新来的好活", pay_fen=40000)  # tonight's run ranks it first

    monkeypatch.setattr(batch, "SLICE_WORKERS", 1)
    reached, release = threading.Event(), threading.Event()
    real_rank = batch._rank_chunk
    ranked: list[int] = []

    def held(chunk):
        ranked.append(chunk[0].id)
        if len(ranked) == 3:  # two slices are replaced and committed; the batch waits here
            reached.set()
            release.wait(30)
        return real_rank(chunk)

    monkeypatch.setattr(batch, "_rank_chunk", held)
    errors: list[BaseException] = []

    def run():
        try:
            batch.recompute_city(progress=False, processes=1)
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert reached.wait(30), "the batch never reached its third slice"
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")
        try:
            during = _sets()  # the digest's read
            client.force_login(seekers[-1])
            page = client.get("/matching/")  # 为你推荐
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = DEFAULT")
    finally:
        release.set()
        thread.join(60)
    assert not errors, errors
    assert page.status_code == 200 and "新来的好活" in page.content.decode()
    new = _sets()
    assert all(posts[0] == best.pk for posts in new.values())
    # Mid-way, each seeker had a whole set: the first slices new, the rest still old; nobody had none.
    assert set(during) == set(old)
    replaced = [w for w in during if during[w] == new[w] and during[w] != old[w]]
    assert sorted(replaced) == sorted(ranked[:2])
    assert all(during[w] == old[w] for w in during if w not in replaced)
