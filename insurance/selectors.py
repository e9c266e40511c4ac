"""Insurance reads: who may see a policy, a claim or a claim's documents (anyone else gets DoesNotExist,
which views turn into a 404), and the figures for the dashboard."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet, Sum

from accounts.models import EmployerMember, ServicePoint
from core.scoping import objects_visible_to

from .models import AccidentClaim, ClaimDocument, Policy


def order_model():
    """The order a policy covers. jobs sits above insurance, so the model is reached through the policy's
    foreign key ("jobs.Order", declared by name) and never imported; insurance reads orders, never writes."""
    return Policy._meta.get_field("order").related_model


#: 理赔指引, shown on the policy document (page and API)
HOW_TO_CLAIM = [
    "受伤后先就医，保留病历、诊断证明和医疗费发票。",
    "尽快报案（最好在事故发生后48小时内）：在本页点“我要报案”，填写时间、地点、经过并上传照片或PDF。",
    "不会操作的，可以到就近的零工服务网点，由工作人员帮您报案。",
    "工作人员审核材料，需要补充时会电话联系您；审核结果以短信通知。",
    "核准后赔付款直接打到您的“我的钱包”，可以提现到银行卡。",
]


def _staff_with(user, perm: str) -> bool:
    return bool(user.is_active and user.is_staff and user.has_perm(perm))


def policy_for_viewer(*, order_pk: int, user) -> Policy:
    """The policy of an order, for the order's worker, its employer's members, and staff who view policies."""
    policies = Policy.objects.select_related(
        "order__post__trade", "order__post__area", "order__employer", "order__worker__realname"
    )
    mine = Q(order__worker=user) | Q(
        order__employer_id__in=EmployerMember.objects.filter(user=user).values("employer_id")
    )
    if _staff_with(user, "insurance.view_policy"):
        # Staff: the policies of their service points (core.scoping), and their own.
        mine |= Q(pk__in=objects_visible_to(user, Policy.objects.all()).values("pk"))
    return policies.filter(mine).get(order_id=order_pk)


def claims_of_policy(*, policy: Policy) -> QuerySet[AccidentClaim]:
    return policy.claims.order_by("-reported_at", "-pk")


def claims_for_worker(*, user) -> QuerySet[AccidentClaim]:
    return AccidentClaim.objects.filter(policy__order__worker=user).select_related("policy__order__post")


def claim_for_viewer(*, pk: int, user) -> AccidentClaim:
    """A claim, for the insured worker and for staff who view claims (the employer sees its status on the
    policy, not the medical documents)."""
    claims = AccidentClaim.objects.select_related(
        "policy__order__post", "policy__order__worker__realname", "policy__order__employer", "reported_by"
    )
    mine = Q(policy__order__worker=user)
    if _staff_with(user, "insurance.view_accidentclaim"):
        mine |= Q(pk__in=objects_visible_to(user, AccidentClaim.objects.all()).values("pk"))
    return claims.filter(mine).get(pk=pk)


def document_for_viewer(*, claim_pk: int, pk: int, user) -> ClaimDocument:
    claim = claim_for_viewer(pk=claim_pk, user=user)
    return claim.documents.get(pk=pk)


def can_report_claim(*, policy: Policy, user) -> bool:
    """Whether to offer 报案 on a policy page (the service decides for real)."""
    order = policy.order
    insured = order.worker_id == user.pk or _staff_with(user, "insurance.add_accidentclaim")
    return bool(
        insured and order.status != "cancelled" and policy.cover_from and policy.status in Policy.IN_FORCE
    )


# ----------------------------------------------------------------------------------------- dashboard


@dataclass(frozen=True)
class InsuranceSummary:
    """Insurance figures for a period (orders by confirmation time, claims by report time)."""

    orders: int  # orders that went ahead (not cancelled, not no-show)
    insured_orders: int  # of those, with cover bought (policy pending, issued, active or ended)
    required_orders: int  # of those, whose post needed cover
    policies_by_status: dict[str, int] = field(default_factory=dict)
    premiums_fen: int = 0  # premiums of policies bought (failed and cancelled ones were refunded)
    premiums_refunded_fen: int = 0
    claims_by_status: dict[str, int] = field(default_factory=dict)
    payouts_fen: int = 0  # approved payouts decided in the period
    payouts_count: int = 0

    @property
    def insured_share(self) -> float | None:
        """insured ÷ orders, 0–1; None without orders."""
        return round(self.insured_orders / self.orders, 4) if self.orders else None


def _point_and_below(service_point) -> list[int]:
    """A service point and every point under it (district market → street markets → village stations)."""
    ids, frontier = [service_point.pk], [service_point.pk]
    while frontier:
        frontier = list(ServicePoint.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        frontier = [pk for pk in frontier if pk not in ids]
        ids += frontier
    return ids


def insurance_summary(*, since: dt.datetime, until: dt.datetime, service_point=None) -> InsuranceSummary:
    """Share of orders insured, policies, premiums, claims by status and payouts, for ``[since, until)``,
    for the whole market or for one service point and the points under it (by the post's point)."""
    orders = order_model().objects.filter(confirmed_at__gte=since, confirmed_at__lt=until)
    policies = Policy.objects.filter(order__confirmed_at__gte=since, order__confirmed_at__lt=until)
    claims = AccidentClaim.objects.filter(reported_at__gte=since, reported_at__lt=until)
    payouts = AccidentClaim.objects.filter(
        status=AccidentClaim.Status.APPROVED, decided_at__gte=since, decided_at__lt=until
    )
    if service_point is not None:
        points = _point_and_below(service_point)
        orders = orders.filter(post__service_point_id__in=points)
        policies = policies.filter(order__post__service_point_id__in=points)
        claims = claims.filter(policy__order__post__service_point_id__in=points)
        payouts = payouts.filter(policy__order__post__service_point_id__in=points)
    went_ahead = orders.exclude(status__in=("cancelled", "no_show"))
    order_figures = went_ahead.aggregate(
        orders=Count("pk"),
        insured=Count("pk", filter=Q(policy__status__in=Policy.BOUGHT)),
        required=Count("pk", filter=Q(post__insurance_quote__required=True)),
    )
    by_status = dict(policies.values_list("status").annotate(n=Count("pk")).order_by())
    money = policies.aggregate(
        bought=Sum("premium_fen", filter=Q(status__in=Policy.BOUGHT)),
        refunded=Sum("premium_fen", filter=Q(status__in=(Policy.Status.FAILED, Policy.Status.CANCELLED))),
    )
    paid = payouts.aggregate(total=Sum("payout_fen"), n=Count("pk"))
    claim_counts = dict(claims.values_list("status").annotate(n=Count("pk")).order_by())
    return InsuranceSummary(
        orders=order_figures["orders"],
        insured_orders=order_figures["insured"],
        required_orders=order_figures["required"],
        policies_by_status={s: by_status.get(s, 0) for s in Policy.Status.values},
        premiums_fen=money["bought"] or 0,
        premiums_refunded_fen=money["refunded"] or 0,
        claims_by_status={s: claim_counts.get(s, 0) for s in AccidentClaim.Status.values},
        payouts_fen=paid["total"] or 0,
        payouts_count=paid["n"],
    )
