"""The staff-scoping sweep: every model registered in the staff console, and every staff API endpoint and
staff page, keeps a staff member to their service point and the points below it.

The network: district market D → street markets S1, S2 → village stations A (under S1) and B (under S2).
The same "world" (a seeker with real-name, certificate and profile, an employer, a post, an order, its
money, policy and claim, a case with everything on it, messages, follow-ups, a course…) is built at A and
at B. Clerks hold every permission, so only the scoping stands between them and the other point:

- the clerk of station A sees A's object in every list, change page and file view, and B's is absent from
  the list, a 404 on its change page and file view, and untouched by every admin action;
- the street market S1's clerk sees A's (its station) but not B's; the district clerk sees both.

A model registered in the console without a scope fails :func:`test_every_registered_model_is_scoped`.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import (
    Area,
    Certificate,
    CertificateType,
    Employer,
    RealName,
    ReviewEvent,
    ServicePoint,
    User,
    WorkerProfile,
)
from core.models import AuditLog
from core.scoping import ScopedAdminMixin, SuperuserOnlyAdminMixin, objects_visible_to, scope_of
from core.services import audit_record
from disputes.models import Agreement, Case, Evidence, Session, Transfer
from hall.models import ExportPull, ExportToken, KioskSession
from insurance.models import AccidentClaim, ClaimDocument, Policy
from jobs.models import Block, Claim, Contract, Order, Post, Rating, WorkerStats
from matching.models import Invitation, PostPush, Recommendation
from notifications.models import Message, Preference, PreferenceEvent
from outreach.models import Course, Enrollment, FollowUp, FollowUpCall, ImportBatch, TrainingNeed
from tests import factories
from wallet.models import Account, LedgerTransaction, TopUp, Withdrawal

pytestmark = pytest.mark.django_db

# Reference data, the same for every point (with the reason, which the registry also carries).
GLOBAL = {
    "accounts.area": "administrative areas: public geography",
    "accounts.certificatetype": "kinds of certificate",
    "jobs.trade": "the trade catalogue",
    "insurance.premiumrate": "the premium table",
    "outreach.article": "articles published to the whole city",
    "hall.supplydemandsnapshot": "aggregate counts, no personal data",
}
# City-wide: only staff who see every point.
DISTRICT_ONLY = {"hall.exporttoken", "hall.exportpull", "insurance.remittance"}
# Access itself: superusers only.
SUPERUSER_ONLY = {
    "auth.group",
    "knox.authtoken",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
}


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (10, 120, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------ the network


@pytest.fixture
def net(db):
    area = factories.AreaFactory(name="青溪区", code="350186000000", level=Area.Level.DISTRICT)
    d = factories.ServicePointFactory(name="区零工市场", kind=ServicePoint.Kind.DISTRICT_MARKET, area=area)
    s1 = factories.ServicePointFactory(name="东街道零工市场", kind=ServicePoint.Kind.STREET_MARKET, parent=d)
    s2 = factories.ServicePointFactory(name="西街道零工市场", kind=ServicePoint.Kind.STREET_MARKET, parent=d)
    a = factories.ServicePointFactory(name="甲村零工驿站", parent=s1)
    b = factories.ServicePointFactory(name="乙村零工驿站", parent=s2)
    every = Permission.objects.exclude(content_type__app_label__in=["sessions", "contenttypes", "admin"])

    def clerk(phone, point):
        user = factories.UserFactory(
            phone=phone, name="工作人员", role="staff", is_staff=True, service_point=point
        )
        user.user_permissions.set(every)
        return User.objects.get(pk=user.pk)

    class Net:
        pass

    n = Net()
    n.d, n.s1, n.s2, n.a, n.b = d, s1, s2, a, b
    n.clerk_a = clerk("13900000101", a)
    n.clerk_b = clerk("13900000102", b)
    n.clerk_s1 = clerk("13900000103", s1)
    n.clerk_d = clerk("13900000104", d)
    n.cert_type = CertificateType.objects.create(code="welding", name="焊工证")
    n.trade = factories.TradeFactory(name="小工")
    return n


def build_world(net, point: ServicePoint, clerk: User, n: int) -> dict:
    """One of everything a staff member can reach, all belonging to ``point``."""
    now = timezone.now()
    seeker = factories.SeekerFactory(phone=f"1360000{n:04d}", name=f"工人{n}", service_point=point)
    realname = factories.RealNameFactory(
        user=seeker, status=RealName.Status.PENDING, id_number=factories.id_number(n)
    )
    owner = factories.UserFactory(
        phone=f"1370000{n:04d}", name=f"老板{n}", role="employer", service_point=point
    )
    employer = factories.EmployerFactory(
        created_by=owner, service_point=point, status=Employer.Status.PENDING, name=f"公司{n}"
    )
    employer.licence_image.save("licence.png", ContentFile(_png()), save=True)
    certificate = Certificate(
        user=seeker, cert_type=net.cert_type, number=f"T{n}", expires_on=dt.date(2035, 1, 1)
    )
    certificate.image.save("cert.png", ContentFile(_png()), save=True)
    post = factories.PostFactory(employer=employer, trade=net.trade, service_point=point, title=f"岗位{n}")
    claim = Claim.objects.create(post=post, worker=seeker, status=Claim.Status.CONFIRMED)
    order = Order.objects.create(
        claim=claim,
        post=post,
        worker=seeker,
        employer=employer,
        starts_at=post.starts_at,
        ends_at=post.ends_at,
    )
    account = Account.objects.create(kind=Account.Kind.ORDER_ESCROW, order=order)
    transaction = LedgerTransaction.objects.create(
        kind=LedgerTransaction.Kind.ESCROW_FUND, order=order, idempotency_key=f"sweep-{n}", request_hash="x"
    )
    policy = Policy.objects.create(
        order=order,
        risk_class=4,
        premium_fen=600,
        cover_fen=100_000_000,
        insurer="fake",
        policy_number=f"P{n}",
    )
    accident = AccidentClaim.objects.create(
        policy=policy, accident_at=now, place="工地", description="摔伤", reported_by=seeker
    )
    document = ClaimDocument(claim=accident, uploaded_by=seeker, content_type="image/png", size=10)
    document.file.save("doc.png", ContentFile(_png()), save=True)
    case = Case.objects.create(
        category=Case.Category.WAGE_ARREARS, complainant_side=Case.Side.WORKER, complainant_name=f"工人{n}",
        complainant_phone=seeker.phone, respondent_name=employer.name, description="欠薪", worker=seeker,
        employer=employer, order=order, service_point=point,
    )  # fmt: skip
    evidence = Evidence(case=case, uploaded_by=seeker, side="worker", original_name="e.png",
                        content_type="image/png", size=10, sha256="0" * 64)  # fmt: skip
    evidence.file.save("e.png", ContentFile(_png()), save=True)
    world = {
        "accounts.user": seeker,
        "accounts.realname": realname,
        "accounts.employer": employer,
        "accounts.certificate": certificate,
        "accounts.workerprofile": WorkerProfile.objects.get(user=seeker),
        "accounts.servicepoint": point,
        "accounts.reviewevent": ReviewEvent.objects.create(
            subject=ReviewEvent.Subject.REALNAME, object_id=realname.pk, to_status="pending"
        ),
        "core.auditlog": audit_record(actor=clerk, action="unmask_id", target=realname),
        "notifications.message": Message.objects.create(
            event_key=f"sweep:{n}", recipient=seeker, phone=seeker.phone, template="t", body="您的订单已确认"
        ),
        "notifications.preference": Preference.objects.get_or_create(user=seeker)[0],
        "notifications.preferenceevent": PreferenceEvent.objects.create(user=seeker, source="page"),
        "jobs.post": post,
        "jobs.claim": claim,
        "jobs.order": order,
        "jobs.contract": Contract.objects.create(
            order=order, body="协议", content_hash="h" * 64, template_version="1"
        ),
        "jobs.rating": Rating.objects.create(order=order, direction="e2w", rater=owner, stars=5),
        "jobs.workerstats": WorkerStats.objects.get_or_create(user=seeker)[0],
        "jobs.block": Block.objects.create(employer=employer, worker=seeker, reason="", created_by=owner),
        "wallet.account": account,
        "wallet.ledgertransaction": transaction,
        "wallet.topup": TopUp.objects.create(
            employer=employer,
            created_by=owner,
            amount_fen=100,
            gateway="fake",
            out_trade_no=f"T{n}",
            idempotency_key=f"t{n}",
            request_hash="x",
            expires_at=now,
        ),
        "wallet.withdrawal": Withdrawal.objects.create(
            worker=seeker,
            amount_fen=100,
            card_number="6222000000000000",
            card_masked="6222****0000",
            holder_name="工人",
            gateway="fake",
            out_trade_no=f"W{n}",
            idempotency_key=f"w{n}",
            request_hash="x",
        ),
        "insurance.policy": policy,
        "insurance.accidentclaim": accident,
        "matching.recommendation": Recommendation.objects.create(
            post=post, worker=seeker, channel="sms", score=1.0
        ),
        "matching.postpush": PostPush.objects.create(post=post, wave=1),
        "matching.invitation": Invitation.objects.create(
            post=post, worker=seeker, invited_by=owner, expires_at=now
        ),
        "disputes.case": case,
        "disputes.agreement": Agreement.objects.create(
            case=case,
            facts="事实",
            disputed_items="工资",
            worker_amount_fen=100,
            pay_by=dt.date(2030, 1, 1),
            body="协议",
            content_hash="h" * 64,
            created_by=clerk,
        ),
        "disputes.evidence": evidence,
        "disputes.session": Session.objects.create(case=case, starts_at=now, created_by=clerk),
        "disputes.transfer": Transfer.objects.create(case=case, to=Transfer.To.ARBITRATION, created_by=clerk),
        "hall.kiosksession": KioskSession.objects.create(
            token_hash=f"k{n}", service_point=point, user=seeker
        ),
        "outreach.course": Course.objects.create(
            title=f"课程{n}",
            trade=net.trade,
            starts_on=dt.date(2030, 1, 1),
            ends_on=dt.date(2030, 1, 2),
            service_point=point,
            seats=10,
            seats_left=10,
            created_by=clerk,
        ),
        "outreach.trainingneed": TrainingNeed.objects.create(
            worker=seeker, trade=net.trade, source="survey", service_point=point
        ),
        "outreach.importbatch": ImportBatch.objects.create(
            kind="villagers", staff=clerk, service_point=point, filename="a.csv", content="x"
        ),
        "_document": document,
    }
    followup = FollowUp.objects.create(order=order, worker=seeker, service_point=point,
                                       first_due_on=dt.date(2030, 1, 1), due_on=dt.date(2030, 1, 1))  # fmt: skip
    world["outreach.followup"] = followup
    world["outreach.followupcall"] = FollowUpCall.objects.create(
        followup=followup, actor=clerk, reached=False, from_status="open", to_status="open"
    )
    world["outreach.enrollment"] = Enrollment.objects.create(course=world["outreach.course"], worker=seeker)
    return world


@pytest.fixture
def worlds(net):
    return build_world(net, net.a, net.clerk_a, 1), build_world(net, net.b, net.clerk_b, 2)


def _label(model) -> str:
    return model._meta.label_lower


def _scoped_models():
    return [m for m in admin.site._registry if _label(m) not in set(GLOBAL) | DISTRICT_ONLY | SUPERUSER_ONLY]


# ------------------------------------------------------------------------------------ the registry


def test_every_registered_model_is_scoped():
    """A model added to the console without a scope (or with one this sweep does not know) fails here."""
    for model, model_admin in admin.site._registry.items():
        label = _label(model)
        assert isinstance(model_admin, ScopedAdminMixin), (
            f"{label}: its ModelAdmin does not use ScopedAdminMixin"
        )
        scope = scope_of(model)
        assert scope is not None, f"{label}: no scope registered in core.scoping"
        expected = (
            "global"
            if label in GLOBAL
            else "district"
            if label in DISTRICT_ONLY
            else "superuser"
            if label in SUPERUSER_ONLY
            else "point"
        )
        assert scope.kind == expected, f"{label}: scoped as {scope.kind}, the sweep expects {expected}"
        if scope.kind == "global":
            assert scope.reason, f"{label}: global reference data needs a reason"
        if label in SUPERUSER_ONLY:
            assert isinstance(model_admin, SuperuserOnlyAdminMixin)


def test_the_world_covers_every_point_scoped_model(worlds):
    world_a, _ = worlds
    missing = {_label(m) for m in _scoped_models()} - set(world_a)
    assert not missing, f"build_world does not make: {sorted(missing)}"


# ------------------------------------------------------------------------------------ the console sweep


def _changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _change(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def _listed(client, model, obj) -> bool:
    response = client.get(_changelist(model), {"all": ""})
    assert response.status_code == 200, (model, response.status_code)
    return obj.pk in {o.pk for o in response.context["cl"].result_list}


def test_console_lists_and_change_pages_are_scoped(client, net, worlds):
    world_a, world_b = worlds
    for clerk, sees_a, sees_b in [
        (net.clerk_a, True, False),
        (net.clerk_s1, True, False),
        (net.clerk_d, True, True),
    ]:
        client.force_login(clerk)
        for model in _scoped_models():
            label = _label(model)
            for obj, visible in ((world_a[label], sees_a), (world_b[label], sees_b)):
                assert _listed(client, model, obj) is visible, (clerk.service_point.name, label, obj.pk)
                status = client.get(_change(obj)).status_code
                assert (status == 200) is visible and status in (200, 404), (
                    clerk.service_point.name,
                    label,
                    status,
                )
                history = reverse(
                    f"admin:{obj._meta.app_label}_{obj._meta.model_name}_history", args=[obj.pk]
                )
                assert (client.get(history).status_code == 200) is visible, (label, "history")


def test_street_market_sees_its_stations_not_the_other_street(client, net, worlds):
    world_a, world_b = worlds
    for model in _scoped_models():
        label = _label(model)
        s1_point = objects_visible_to(net.clerk_s1, model._default_manager.all())
        assert s1_point.filter(pk=world_a[label].pk).exists(), label
        assert not s1_point.filter(pk=world_b[label].pk).exists(), label


def test_console_file_views_are_scoped(client, net, worlds):
    world_a, world_b = worlds
    client.force_login(net.clerk_a)
    for name, label in [("accounts_employer_licence", "accounts.employer"),
                        ("accounts_certificate_image", "accounts.certificate")]:  # fmt: skip
        assert client.get(reverse(f"admin:{name}", args=[world_a[label].pk])).status_code == 200
        assert client.get(reverse(f"admin:{name}", args=[world_b[label].pk])).status_code in (403, 404)
    # The same files under /media/ (protected_file), the claim documents and the case evidence.
    for label, field in [("accounts.employer", "licence_image"), ("accounts.certificate", "image")]:
        assert client.get(getattr(world_a[label], field).url).status_code == 200
        assert client.get(getattr(world_b[label], field).url).status_code == 404
    for world, expected in ((world_a, 200), (world_b, 404)):
        doc = world["_document"]
        assert (
            client.get(reverse("insurance:claim_document", args=[doc.claim_id, doc.pk])).status_code
            == expected
        )
        assert client.get(reverse("insurance:claim_detail", args=[doc.claim_id])).status_code == expected
        evidence = world["disputes.evidence"]
        assert client.get(reverse("disputes:evidence_file", args=[evidence.pk])).status_code == expected


def _snapshot(obj):
    obj = type(obj)._base_manager.get(pk=obj.pk)
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_every_console_action_leaves_another_points_object_alone(client, net, worlds):
    """Each admin action of each model, posted by station A's clerk with station B's object selected (and,
    for actions asking for a reason or an amount, with the confirmation filled in): B's object unchanged."""
    _, world_b = worlds
    client.force_login(net.clerk_a)
    tried = 0
    for model in _scoped_models():
        model_admin = admin.site._registry[model]
        request = type("R", (), {"user": net.clerk_a, "GET": {}, "POST": {}})()
        actions = [name for name in model_admin.get_actions(request) if name != "delete_selected"]
        obj = world_b[_label(model)]
        for name in [*actions, "delete_selected"]:
            before = _snapshot(obj)
            client.post(
                _changelist(model),
                {"action": name, helpers.ACTION_CHECKBOX_NAME: [obj.pk], "post": "yes", "reason": "试试",
                 "payout": "100", "note": "x"},
            )  # fmt: skip
            assert type(obj)._base_manager.filter(pk=obj.pk).exists(), (_label(model), name)
            assert _snapshot(obj) == before, (_label(model), name)
            tried += 1
    assert tried >= len(_scoped_models())


def test_decision_services_refuse_another_points_object(net, worlds):
    """The services check the point again, so a view that forgot the scope still could not decide."""
    from accounts import services as accounts
    from core.errors import NotAllowed
    from disputes import services as disputes
    from insurance import services as insurance

    _, world_b = worlds
    clerk = net.clerk_a
    calls = [
        lambda: accounts.realname_approve(realname=world_b["accounts.realname"], actor=clerk),
        lambda: accounts.employer_approve(employer=world_b["accounts.employer"], actor=clerk),
        lambda: accounts.certificate_approve(certificate=world_b["accounts.certificate"], actor=clerk),
        lambda: accounts.realname_unmask(realname=world_b["accounts.realname"], actor=clerk),
        lambda: accounts.user_phone_unmask(user=world_b["accounts.user"], actor=clerk),
        lambda: accounts.worker_help_flag_set(
            profile=world_b["accounts.workerprofile"], actor=clerk, tier=1, reasons=["older"]
        ),
        lambda: insurance.claim_review_start(claim=world_b["insurance.accidentclaim"], actor=clerk),
        lambda: disputes.case_decline(case=world_b["disputes.case"], actor=clerk, reason="不受理"),
    ]
    for call in calls:
        with pytest.raises(NotAllowed):
            call()
    assert Employer.objects.get(pk=world_b["accounts.employer"].pk).status == Employer.Status.PENDING
    assert Case.objects.get(pk=world_b["disputes.case"].pk).status == Case.Status.FILED


def test_district_and_superuser_only_models(client, net, worlds):
    token = ExportToken.objects.create(
        name="省数据中心", prefix="abcd", token_hash="h", expires_at=timezone.now(), created_by=net.clerk_d
    )
    ExportPull.objects.create(token=token, endpoint="posts")
    client.force_login(net.clerk_a)
    assert not _listed(client, ExportToken, token)
    assert client.get(_change(token)).status_code == 404
    assert client.get(reverse("admin:hall_exporttoken_add")).status_code == 403
    for model in (Group, *[m for m in admin.site._registry if m._meta.app_label in ("knox", "axes")]):
        assert client.get(_changelist(model)).status_code == 403, _label(model)
    client.force_login(net.clerk_d)
    assert _listed(client, ExportToken, token)


# ------------------------------------------------------------------------------- staff API and pages


def _api(client, method, url, data=None):
    return getattr(client, method)(url, data or {}, content_type="application/json")


def test_staff_api_is_scoped(client, net, worlds):
    world_a, world_b = worlds
    client.force_login(net.clerk_a)
    lists = [
        ("/api/v1/staff/realnames/", "accounts.realname"),
        ("/api/v1/staff/employers/", "accounts.employer"),
        ("/api/v1/staff/certificates/", "accounts.certificate"),
    ]
    for url, label in lists:
        ids = {row["id"] for row in client.get(url).json()["results"]}
        assert world_a[label].pk in ids and world_b[label].pk not in ids, url
        assert client.get(f"{url}{world_a[label].pk}/").status_code == 200
        assert client.get(f"{url}{world_b[label].pk}/").status_code == 404
    b_calls = [
        ("post", f"/api/v1/staff/realnames/{world_b['accounts.realname'].pk}/approve/", {}),
        ("post", f"/api/v1/staff/realnames/{world_b['accounts.realname'].pk}/reject/", {"reason": "x"}),
        ("post", f"/api/v1/staff/realnames/{world_b['accounts.realname'].pk}/unmask/", {"reason": "x"}),
        ("post", f"/api/v1/staff/employers/{world_b['accounts.employer'].pk}/approve/", {}),
        ("post", f"/api/v1/staff/employers/{world_b['accounts.employer'].pk}/reject/", {"reason": "x"}),
        ("post", f"/api/v1/staff/certificates/{world_b['accounts.certificate'].pk}/approve/", {}),
        ("post", f"/api/v1/staff/insurance-claims/{world_b['insurance.accidentclaim'].pk}/review/", {}),
        ("post", f"/api/v1/staff/insurance-claims/{world_b['insurance.accidentclaim'].pk}/reject/", {"reason": "x"}),
        ("post", f"/api/v1/staff/insurance-claims/{world_b['insurance.accidentclaim'].pk}/approve/",
         {"payout_fen": 100, "note": "x"}),
        ("get", f"/api/v1/staff/insurance/summary/?service_point={net.b.pk}&since=2026-01-01T00:00:00Z"
                "&until=2036-01-01T00:00:00Z", None),
        ("get", f"/api/v1/wallet/staff/accounts/{world_b['wallet.account'].pk}/", None),
        ("get", f"/api/v1/wallet/staff/accounts/{world_b['wallet.account'].pk}/lines/", None),
        ("get", f"/api/v1/staff/followups/{world_b['outreach.followup'].pk}/", None),
        ("post", f"/api/v1/staff/followups/{world_b['outreach.followup'].pk}/calls/", {"reached": False}),
    ]  # fmt: skip
    for method, url, data in b_calls:
        response = client.get(url) if method == "get" else _api(client, method, url, data)
        assert response.status_code in (403, 404), (url, response.status_code)
    assert client.get(f"/api/v1/wallet/staff/accounts/{world_a['wallet.account'].pk}/").status_code == 200
    assert client.get(f"/api/v1/staff/followups/{world_a['outreach.followup'].pk}/").status_code == 200
    followups = {row["id"] for row in client.get("/api/v1/staff/followups/?tab=upcoming").json()["results"]}
    assert world_b["outreach.followup"].pk not in followups
    assert RealName.objects.get(pk=world_b["accounts.realname"].pk).status == RealName.Status.PENDING
    assert Employer.objects.get(pk=world_b["accounts.employer"].pk).status == Employer.Status.PENDING
    assert AccidentClaim.objects.get(pk=world_b["insurance.accidentclaim"].pk).status == "reported"
    assert not AuditLog.objects.filter(
        actor=net.clerk_a, action="unmask_id", target_id=str(world_b["accounts.realname"].pk)
    ).exists()


def test_staff_post_on_behalf_only_for_own_points_employers(client, net, worlds):
    _, world_b = worlds
    employer_b = world_b["accounts.employer"]
    Employer.objects.filter(pk=employer_b.pk).update(status=Employer.Status.APPROVED)
    client.force_login(net.clerk_a)
    start = timezone.now() + dt.timedelta(days=2)
    response = _api(client, "post", "/api/v1/staff/posts/", {
        "employer": employer_b.pk, "trade": net.trade.pk, "title": "代发", "pay_fen": 20000, "pay_unit": "day",
        "quantity": "1", "slots": 1, "area": net.a.area_id, "address": "村口", "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=8)).isoformat(), "contact_name": "陈", "contact_phone": "13700009999",
    })  # fmt: skip
    assert response.status_code in (400, 403, 404), response.content
    assert not Post.objects.filter(employer=employer_b, title="代发").exists()
    page = client.get(reverse("jobs:post_on_behalf"))
    assert employer_b.name not in page.content.decode()


def test_staff_pages_are_scoped(client, net, worlds):
    world_a, world_b = worlds
    client.force_login(net.clerk_a)
    for world, expected in ((world_a, 200), (world_b, 404)):
        assert (
            client.get(reverse("disputes:desk_case", args=[world["disputes.case"].pk])).status_code
            == expected
        )
        account = world["wallet.account"]
        assert client.get(reverse("wallet:staff_ledger", args=[account.pk])).status_code == expected
        followup = world["outreach.followup"]
        assert (
            client.get(reverse("outreach:staff_followup_detail", args=[followup.pk])).status_code == expected
        )
        course = world["outreach.course"]
        assert client.get(reverse("outreach:staff_course_detail", args=[course.pk])).status_code == expected
    cases = client.get(reverse("disputes:staff_cases")).content.decode()
    assert world_a["disputes.case"].number in cases and world_b["disputes.case"].number not in cases
    accounts = client.get(reverse("wallet:staff_accounts")).context["accounts"]
    assert world_b["wallet.account"].pk not in {a.pk for a in accounts}
    declined = client.post(
        reverse("disputes:desk_decline", args=[world_b["disputes.case"].pk]), {"reason": "x"}
    )
    assert declined.status_code == 404
    assert Case.objects.get(pk=world_b["disputes.case"].pk).status == Case.Status.FILED
    dashboard = client.get(reverse("hall:dashboard"), {"point": net.b.pk})
    assert dashboard.status_code in (400, 403, 404) or dashboard.context["form"].errors


# ------------------------------------------------------------------------------ phones and the outbox


def test_phones_are_masked_for_staff_without_the_unmask_permission(client, net, worlds):
    world_a, _ = worlds
    seeker = world_a["accounts.user"]
    clerk = net.clerk_a
    clerk.user_permissions.remove(Permission.objects.get(codename="view_full_phone"))
    clerk = User.objects.get(pk=clerk.pk)
    client.force_login(clerk)
    for url in (
        _change(seeker),
        _changelist(User),
        _changelist(User) + "?q=" + seeker.phone[-4:],
        _change(world_a["disputes.case"]),
        _changelist(Message),
        _change(world_a["notifications.message"]),
        reverse("disputes:desk_case", args=[world_a["disputes.case"].pk]),
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert seeker.phone not in page.content.decode(), url
    assert client.get(reverse("admin:accounts_user_unmask_phone", args=[seeker.pk])).status_code == 403


def test_phone_unmask_is_audited_and_scoped(client, net, worlds):
    world_a, world_b = worlds
    client.force_login(net.clerk_a)
    url = reverse("admin:accounts_user_unmask_phone", args=[world_a["accounts.user"].pk])
    assert world_a["accounts.user"].phone not in client.get(url).content.decode()
    response = client.post(url, {"reason": "电话回访"})
    assert world_a["accounts.user"].phone in response.content.decode()
    log = AuditLog.objects.get(action="unmask_phone", actor=net.clerk_a)
    assert log.target_id == str(world_a["accounts.user"].pk) and log.reason == "电话回访"
    other = reverse("admin:accounts_user_unmask_phone", args=[world_b["accounts.user"].pk])
    assert client.post(other, {"reason": "x"}).status_code == 404
    assert AuditLog.objects.filter(action="unmask_phone").count() == 1


def test_viewing_an_outbox_message_is_audited(client, net, worlds):
    world_a, world_b = worlds
    client.force_login(net.clerk_a)
    message = world_a["notifications.message"]
    assert client.get(_change(message)).status_code == 200
    log = AuditLog.objects.get(action="view_message")
    assert (log.actor, log.target_type, log.target_id) == (
        net.clerk_a,
        "notifications.message",
        str(message.pk),
    )
    assert client.get(_change(world_b["notifications.message"])).status_code == 404
    assert AuditLog.objects.filter(action="view_message").count() == 1
    # A message to a number with no account (a registration code) is the district's.
    stray = Message.objects.create(
        event_key="code:x", phone="13611112222", template="code", body="验证码 ******"
    )
    assert client.get(_change(stray)).status_code == 404
    client.force_login(net.clerk_d)
    assert client.get(_change(stray)).status_code == 200


# ---------------------------------------------------------------------------------- no self-promotion


def test_staff_cannot_grant_themselves_superuser_permissions_groups_or_another_point(client, net):
    clerk = net.clerk_a
    clerk.user_permissions.set(Permission.objects.filter(content_type__app_label="accounts"))
    clerk = User.objects.get(pk=clerk.pk)
    group = Group.objects.create(name="全部权限")
    group.permissions.set(Permission.objects.all())
    client.force_login(clerk)
    response = client.post(_change(clerk), {
        "phone": "13900000101", "name": "工作人员", "role": "staff", "service_point": net.d.pk,
        "is_active": "on", "is_staff": "on", "is_superuser": "on", "groups": [group.pk],
        "user_permissions": list(Permission.objects.values_list("pk", flat=True)),
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
    })  # fmt: skip
    assert response.status_code in (200, 302, 403)
    clerk = User.objects.get(pk=clerk.pk)
    assert not clerk.is_superuser
    assert not clerk.groups.exists()
    assert not clerk.user_permissions.filter(content_type__app_label="auth").exists()
    assert clerk.service_point == net.a
    # Nor by making their station a district market, or through the group console.
    point = reverse("admin:accounts_servicepoint_change", args=[net.a.pk])
    client.post(point, {"name": net.a.name, "kind": "district_market", "parent": "", "area": net.a.area_id,
                        "is_active": "on", "children-TOTAL_FORMS": "0", "children-INITIAL_FORMS": "0"})  # fmt: skip
    net.a.refresh_from_db()
    assert net.a.kind == ServicePoint.Kind.VILLAGE_STATION and net.a.parent == net.s1
    assert client.get(reverse("admin:auth_group_change", args=[group.pk])).status_code == 403
    # A seeker cannot be made staff or a mediator by a non-superuser.
    seeker = factories.SeekerFactory(phone="13600009999", service_point=net.a)
    client.post(_change(seeker), {"name": "x", "role": "mediator", "service_point": net.b.pk, "is_active": "on",
                                  "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"})  # fmt: skip
    seeker.refresh_from_db()
    assert seeker.role == User.Role.SEEKER and seeker.service_point == net.a


# ---------------------------------------------------------------------------- points set on creation


def test_online_sign_up_employer_and_post_get_a_point(net, monkeypatch, image):
    """Nothing is created without a point: an online sign-up and its employer application belong to the
    district market; a post to its employer's point (or the posting staff member's)."""
    from accounts import services
    from jobs import services as jobs

    monkeypatch.setattr(services, "phone_code_check", lambda **kwargs: None)
    user = services.user_register(phone="13655556666", code="000000", role=User.Role.EMPLOYER)
    assert user.service_point == net.d
    employer = services.employer_register(
        user=user, kind=Employer.Kind.COMPANY, name="在线公司", uscc="91350100M000100Y43",
        legal_representative="陈", licence_image=image,
    )  # fmt: skip
    assert employer.service_point == net.d
    assert objects_visible_to(net.clerk_d, Employer.objects.filter(pk=employer.pk)).exists()
    assert not objects_visible_to(net.clerk_a, Employer.objects.filter(pk=employer.pk)).exists()
    employer_a = factories.EmployerFactory(service_point=net.a, funds=0)
    start = timezone.now() + dt.timedelta(days=2)
    post = jobs.post_create(
        employer=employer_a, actor=net.clerk_a, trade=net.trade, title="代发岗位", pay_fen=20000, pay_unit="day",
        quantity=Decimal("1"), slots=1, area=net.a.area, address="村口", starts_at=start,
        ends_at=start + dt.timedelta(hours=8), contact_name="陈", contact_phone="13700009999",
    )  # fmt: skip
    assert post.service_point == net.a and post.on_behalf_by == net.clerk_a


def test_list_filters_offer_only_visible_points(client, net, worlds):
    client.force_login(net.clerk_a)
    page = client.get(_changelist(User)).content.decode()
    assert f"service_point__id__exact={net.a.pk}" in page
    assert f"service_point__id__exact={net.b.pk}" not in page
    client.force_login(net.clerk_d)
    assert f"service_point__id__exact={net.b.pk}" in client.get(_changelist(User)).content.decode()


def test_an_account_added_by_a_clerk_belongs_to_their_point(client, net):
    client.force_login(net.clerk_a)
    response = client.post(reverse("admin:accounts_user_add"), {
        "phone": "13612345678", "name": "新村民", "role": "seeker", "service_point": "", "usable_password": "false",
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(phone="13612345678").service_point == net.a
    refused = client.post(reverse("admin:accounts_user_add"), {
        "phone": "13612345679", "name": "新村民", "role": "seeker", "service_point": net.b.pk,
        "usable_password": "false",
    })  # fmt: skip
    assert refused.status_code == 200 and not User.objects.filter(phone="13612345679").exists()


def test_the_follow_up_callers_view_of_the_number_is_audited(client, net, worlds):
    world_a, _ = worlds
    followup = world_a["outreach.followup"]
    client.force_login(net.clerk_a)
    page = client.get(reverse("outreach:staff_followup_detail", args=[followup.pk])).content.decode()
    assert followup.worker.phone in page
    log = AuditLog.objects.get(action="unmask_phone", actor=net.clerk_a)
    assert log.target_id == str(followup.worker_id) and log.reason == "回访"
