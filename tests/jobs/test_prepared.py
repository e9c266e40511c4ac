"""core.prepared: the 抢单's fixed statements run prepared on PostgreSQL, and give what the ORM gives."""

import pytest
from django.db import connection, transaction
from django.db.utils import DataError, InternalError
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.auth import _CANDIDATES
from accounts.models import RealName
from core import prepared
from jobs import grabbing, selectors
from jobs.models import Post
from tests.factories import UserFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")

ADD = prepared.Statement("SELECT %(a)s::int + %(b)s::int, %(a)s::int")


def _prepared_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_a_statement_is_prepared_once_per_connection_and_again_on_a_new_one():
    connection.close()
    with CaptureQueriesContext(connection) as first:
        assert ADD.fetchone({"a": 2, "b": 3}) == (5, 2)
    assert [q["sql"].split()[0] for q in first.captured_queries] == ["PREPARE", "EXECUTE"]
    assert ADD.name in _prepared_names()
    with CaptureQueriesContext(connection) as second:
        assert ADD.fetchone({"a": 7, "b": -1}) == (6, 7)
    assert [q["sql"].split()[0] for q in second.captured_queries] == ["EXECUTE"]

    connection.close()  # a new connection (PostgreSQL restarted, CONN_MAX_AGE): prepared again
    with CaptureQueriesContext(connection) as third:
        assert ADD.fetchone({"a": 1, "b": 1}) == (2, 1)
    assert [q["sql"].split()[0] for q in third.captured_queries] == ["PREPARE", "EXECUTE"]


@pytest.mark.django_db(transaction=True)
def test_a_rollback_keeps_the_statement_and_a_failed_prepare_is_not_recorded():
    connection.close()
    with pytest.raises(RuntimeError), transaction.atomic():
        assert ADD.fetchone({"a": 1, "b": 2}) == (3, 1)  # prepared inside a transaction …
        raise RuntimeError
    assert ADD.fetchone({"a": 4, "b": 4}) == (8, 4)  # … that rolled back: PREPARE is not undone

    other = prepared.Statement("SELECT %(x)s::int * 2")
    with pytest.raises(RuntimeError), transaction.atomic():
        with pytest.raises(DataError), connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")  # the transaction is aborted …
        with pytest.raises(InternalError):
            other.fetchone({"x": 1})  # … so its PREPARE fails
        raise RuntimeError
    assert other.name not in _prepared_names()
    with CaptureQueriesContext(connection) as captured:
        assert other.fetchone({"x": 21}) == (42,)  # not recorded as prepared: prepared now
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["PREPARE", "EXECUTE"]


@pytest.mark.django_db(transaction=True)
def test_with_the_setting_off_nothing_is_prepared(settings):
    settings.DB_PREPARED_STATEMENTS = False
    connection.close()
    with CaptureQueriesContext(connection) as captured:
        assert ADD.fetchone({"a": 2, "b": 2}) == (4, 2)
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["SELECT"]
    assert _prepared_names() == set()


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_the_post_loader_gives_the_orm_s_post_with_its_relations_loaded(post, trade):
    from accounts.models import CertificateType

    trade.certificate_type = CertificateType.objects.create(name="焊工证", code="welder")
    trade.save()
    orm = Post.objects.select_related("trade__certificate_type", "employer", "area", "district").get(
        pk=post.pk
    )
    loaded = selectors.post_visible(pk=post.pk, user=None)
    assert _fields(loaded) == _fields(orm)  # contact phone decrypted, dates aware, the same values
    with CaptureQueriesContext(connection) as captured:
        assert _fields(loaded.trade) == _fields(orm.trade)
        assert _fields(loaded.trade.certificate_type) == _fields(orm.trade.certificate_type)
        assert _fields(loaded.employer) == _fields(orm.employer)
        assert (loaded.area.name, loaded.district.name) == (orm.area.name, orm.district.name)
    assert captured.captured_queries == []  # every relation came with the post


def test_a_missing_or_out_of_range_post_is_not_found_never_an_error(post):
    for pk in (post.pk + 1000, 2**63, -(2**63) - 1):
        with pytest.raises(Post.DoesNotExist):
            selectors.post_visible(pk=pk, user=None)
    client = APIClient()
    client.force_authenticate(UserFactory())
    assert client.post(f"/api/v1/posts/{2**63}/claims/", {}, format="json").status_code == 404


def test_the_token_loader_gives_the_user_with_or_without_a_real_name(worker):
    plain = UserFactory()
    for user in (worker, plain):
        token, _ = AuthToken.objects.create(user=user)
        (found,) = _CANDIDATES.all(key=token.token_key)
        assert found.pk == token.pk and found.user.pk == user.pk
        expected = RealName.objects.filter(user=user).values_list("pk", flat=True).first()
        with CaptureQueriesContext(connection) as captured:
            if expected is not None:
                assert found.user.realname.pk == expected
            else:
                with pytest.raises(RealName.DoesNotExist):
                    found.user.realname  # noqa: B018 (the cached absence, no query)
        assert captured.captured_queries == []
    assert _CANDIDATES.all(key="no-such-key") == []


def test_the_row_checks_answer_through_the_prepared_statement(post, worker, employer):
    """The flags are those of the checks one by one (tests/jobs/test_grab_checks.py): a clean worker passes,
    a member of the employer does not."""
    from accounts.models import EmployerMember

    with transaction.atomic():
        assert grabbing._lock_worker_and_check(post, worker) is False
    EmployerMember.objects.create(employer=employer, user=worker)
    with transaction.atomic():
        assert grabbing._lock_worker_and_check(post, worker) is True


def test_a_loader_refuses_a_sentinel_its_queryset_does_not_use(db):
    loader = prepared.Loader(lambda pk: Post.objects.filter(status="open"), pk=-1)
    with pytest.raises(ValueError, match="pk"):
        loader.all(pk=5)


@pytest.mark.django_db(transaction=True)
def test_the_grab_writes_its_claim_and_takes_its_slot_in_one_statement(post, worker, worker2, settings):
    """The claim the grab answers is the row it wrote, post_save is sent for it as ``create`` would, the
    last slot marks the post filled, and a grab that finds no slot leaves no claim behind."""
    from django.db.models.signals import post_save

    from core.errors import Conflict
    from jobs.models import Claim

    settings.GRAB_FOLLOWON_INLINE = False
    grabbing.queue_followon = lambda post_id: None  # no follow-on here: the claim alone is looked at
    sent = []
    post_save.connect(lambda sender, **kw: sent.append(kw), sender=Claim, weak=False, dispatch_uid="t")
    try:
        post.slots = post.slots_left = 1
        post.save()
        with CaptureQueriesContext(connection) as captured:
            claim = grabbing.grab(post=post, worker=worker, note="  明早到  ")
        ran = [q["sql"].split()[0] for q in captured.captured_queries]
        assert (
            sum(f"EXECUTE {grabbing._CLAIM_AND_SLOT.name}" in q["sql"] for q in captured.captured_queries)
            == 1
        )
        assert "INSERT" not in ran and "UPDATE" not in ran  # no claim or slot statement of their own
        row = Claim.objects.get(pk=claim.pk)
        assert _fields(claim) == _fields(row) and row.note == "明早到" and row.order_pending
        assert [(kw["instance"].pk, kw["created"]) for kw in sent] == [(claim.pk, True)]
        post.refresh_from_db()
        assert (post.slots_left, post.status) == (0, Post.Status.FILLED)

        post.status, post.slots_left = Post.Status.OPEN, 1  # read before the last slot went: no slot now
        with CaptureQueriesContext(connection) as captured, pytest.raises(Conflict) as refused:
            grabbing.grab(post=post, worker=worker2, seen=0)  # the stale post, not read again
        assert refused.value.code == "full"
        assert any(grabbing._CLAIM_AND_SLOT.name in q["sql"] for q in captured.captured_queries)  # it ran
        assert not Claim.objects.filter(worker=worker2).exists()
    finally:
        post_save.disconnect(sender=Claim, dispatch_uid="t")
        grabbing.queue_followon = grabbing.followon.queue_on_commit


@pytest.mark.django_db(transaction=True)
def test_a_loader_in_another_thread_uses_that_threads_connection(post):
    import threading

    from django.db import connections

    found = {}

    def load():
        try:
            found["post"] = selectors.post_visible(pk=post.pk, user=None)
            found["own"] = selectors._POST_WITH_RELATED._local.state[-1] is connections["default"]
        finally:
            connections.close_all()

    selectors.post_visible(pk=post.pk, user=None)  # compiled in this thread first
    worker = threading.Thread(target=load)
    worker.start()
    worker.join()
    assert found["post"].pk == post.pk and found["post"].trade.pk == post.trade_id
    assert found["own"]  # compiled again for that thread's connection, not this one's
    assert selectors._POST_WITH_RELATED._local.state[-1] is connections["default"]
