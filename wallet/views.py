"""Wallet pages: a worker's 我的钱包 (balance, history, withdraw), an employer's 托管账户 (balance, money held
in posts and orders, top-up, per-order payments, monthly statements with CSV), the gateway's payment
notification, and the staff's 欠薪预警 and any account's ledger.

Views are thin: a selector finds the object (someone else's top-up, withdrawal or employer is a 404), a
form parses the input, one service acts; a service's refusal is shown on the field it names.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts.forms import apply_service_error
from accounts.models import Employer
from core.errors import DomainError
from core.masking import mask_name, mask_phone
from core.scoping import get_visible_or_404, objects_visible_to
from core.spreadsheets import csv_response

from . import selectors, services
from .forms import TopUpForm, WithdrawalForm, parse_month
from .gateways import (
    BadSignature,
    GatewayError,
    NotSupported,
    ReplayedNotification,
    StaleNotification,
    get_gateway,
)
from .models import Account, TopUp, Withdrawal

logger = logging.getLogger("gigmarket.payments")

SERVICE_ERRORS = (DomainError, ValidationError)
LINES_PER_PAGE = 50
STAFF_PERM = "wallet.view_account"


def _before(request) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() else None


def _page_of_lines(request, queryset) -> tuple[list, str]:
    """One page of postings, newest first, and the link to the older ones."""
    before = _before(request)
    if before:
        queryset = queryset.filter(pk__lt=before)
    lines = list(queryset[: LINES_PER_PAGE + 1])
    more = ""
    if len(lines) > LINES_PER_PAGE:
        lines = lines[:LINES_PER_PAGE]
        params = request.GET.copy()
        params["before"] = lines[-1].pk
        more = "?" + params.urlencode()
    return lines, more


def line_rows(postings, *, order_links: bool = True) -> list[dict]:
    """History lines as a person reads them: when, what, which order and post (or top-up / withdrawal),
    how much."""
    links = selectors.payment_links(postings)
    rows = []
    for posting in postings:
        txn = posting.transaction
        order = txn.order
        link = links.get(txn.pk)
        rows.append(
            {
                "pk": posting.pk,
                "at": txn.created_at,
                "kind": txn.get_kind_display(),
                "memo": txn.memo,
                "amount_fen": posting.amount_fen,
                "order": order,
                "post_title": order.post.title if order else "",
                "order_url": reverse("jobs:order_detail", args=[order.pk]) if order and order_links else "",
                "withdrawal": link if isinstance(link, Withdrawal) else None,
                "top_up": link if isinstance(link, TopUp) else None,
            }
        )
    return rows


# ------------------------------------------------------------------------------------- worker wallet


def _wallet_page(request, *, form=None, status: int = 200):
    user = request.user
    lines, more = _page_of_lines(request, selectors.worker_lines(user=user))
    return render(
        request,
        "wallet/my_wallet.html",
        {
            "balance_fen": selectors.worker_balance(user=user),
            "lines": line_rows(lines),
            "more_url": more,
            "paged": bool(_before(request)),
            "withdrawals": selectors.withdrawals_for_worker(user=user)[:10],
            "owed": list(selectors.owed_wages(worker=user)[:20]),
            "form": form or WithdrawalForm(initial={"holder_name": _realname(user)}),
            "verified": user.is_verified,
            "rules": settings.WALLET_RULES,
        },
        status=status,
    )


def _realname(user) -> str:
    realname = getattr(user, "realname", None)
    return realname.name if realname and realname.status == "verified" else ""


@login_required
def my_wallet(request):
    return _wallet_page(request)


@login_required
@require_POST
def withdraw(request):
    form = WithdrawalForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            withdrawal = services.withdrawal_request(
                worker=request.user,
                amount_fen=data["amount"],
                card_number=data["card_number"],
                holder_name=data["holder_name"],
                key=form.service_key(user=request.user, purpose="withdrawal"),
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc, {"idempotency_key": None})
        else:
            withdrawal.refresh_from_db()
            if withdrawal.status == Withdrawal.Status.PROCESSED:
                messages.success(request, f"提现 {withdrawal.amount_fen / 100:.2f} 元已转到您的银行卡")
            elif withdrawal.status == Withdrawal.Status.FAILED:
                messages.error(request, f"提现没有成功，钱已退回钱包：{withdrawal.failure_reason}")
            else:
                messages.success(request, "提现申请已提交，银行处理中，到账后会通知您")
            return redirect("wallet:withdrawal_detail", pk=withdrawal.pk)
    return _wallet_page(request, form=form)


@login_required
def withdrawal_detail(request, pk: int):
    try:
        withdrawal = selectors.withdrawals_for_worker(user=request.user).get(pk=pk)
    except Withdrawal.DoesNotExist as exc:
        raise Http404("没有这笔提现") from exc
    return render(
        request,
        "wallet/withdrawal_detail.html",
        {"withdrawal": withdrawal, "events": withdrawal.events.all()},
    )


# ---------------------------------------------------------------------------------- employer escrow


def _member_employer(request, pk: int) -> Employer:
    try:
        return account_selectors.employer_for_member(user=request.user, pk=pk)
    except Employer.DoesNotExist as exc:
        raise Http404("没有这个用工主体") from exc


@login_required
def escrow_home(request):
    employers = list(account_selectors.employers_for_user(user=request.user).order_by("name"))
    if len(employers) == 1:
        return redirect("wallet:escrow", pk=employers[0].pk)
    return render(request, "wallet/escrow_choose.html", {"employers": employers})


def _escrow_page(request, employer: Employer, *, form=None, status: int = 200):
    orders = selectors.order_payments(employer=employer)[:50]
    return render(
        request,
        "wallet/escrow.html",
        {
            "employer": employer,
            "summary": selectors.escrow_summary(employer=employer),
            "form": form or TopUpForm(),
            "can_top_up": employer.status == Employer.Status.APPROVED,
            "top_ups": TopUp.objects.filter(employer=employer)[:10],
            "orders": [
                {
                    "order": o,
                    "worker_name": _worker_name(o.worker),
                    "owed_fen": max((o.amount_fen or 0) - o.paid_fen, 0) if o.amount_fen is not None else 0,
                }
                for o in orders
            ],
            "months": selectors.statement_months(employer=employer)[:12],
            "owed": list(selectors.owed_wages(employer=employer)[:50]),
        },
        status=status,
    )


def _worker_name(user) -> str:
    realname = getattr(user, "realname", None)
    return (realname.name if realname else user.name) or mask_phone(user.phone)


@login_required
def escrow(request, pk: int):
    return _escrow_page(request, _member_employer(request, pk))


def _notify_url(request) -> str:
    return settings.PAYMENT_NOTIFY_URL or request.build_absolute_uri(reverse("wallet:notify"))


@login_required
@require_POST
def top_up(request, pk: int):
    employer = _member_employer(request, pk)
    form = TopUpForm(request.POST)
    if form.is_valid():
        try:
            result = services.top_up_create(
                employer=employer,
                actor=request.user,
                amount_fen=form.cleaned_data["amount"],
                key=form.service_key(user=request.user, purpose="top_up"),
                notify_url=_notify_url(request),
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc, {"idempotency_key": None})
        else:
            if result.status == TopUp.Status.PAID:
                messages.success(request, f"充值成功，{result.amount_fen / 100:.2f} 元已到账")
                return redirect("wallet:escrow", pk=employer.pk)
            return redirect("wallet:top_up_detail", pk=result.pk)
    return _escrow_page(request, employer, form=form)


@login_required
def top_up_detail(request, pk: int):
    try:
        item = selectors.top_ups_for_member(user=request.user).get(pk=pk)
    except TopUp.DoesNotExist as exc:
        raise Http404("没有这笔充值") from exc
    return render(request, "wallet/top_up_detail.html", {"top_up": item, "events": item.events.all()})


def _statement(request, employer: Employer):
    month = parse_month(request.GET.get("month")) or timezone.localdate().replace(day=1)
    return selectors.employer_statement(employer=employer, month=month)


@login_required
def statement(request, pk: int):
    employer = _member_employer(request, pk)
    result = _statement(request, employer)
    return render(
        request,
        "wallet/statement.html",
        {
            "employer": employer,
            "statement": result,
            "rows": _statement_rows(result),
            "months": selectors.statement_months(employer=employer)[:24],
        },
    )


def _statement_rows(result) -> list[dict]:
    rows, balance = [], result.opening_fen
    for row in line_rows(result.lines):
        balance += row["amount_fen"]
        rows.append({**row, "balance_fen": balance})
    return rows


@login_required
def statement_csv(request, pk: int):
    employer = _member_employer(request, pk)
    result = _statement(request, employer)
    rows = [
        [f"{employer.name} 托管账户对账单 {result.month:%Y年%m月}"],
        ["时间", "类型", "摘要", "订单号", "岗位", "收入（元）", "支出（元）", "余额（元）"],
        ["", "期初余额", "", "", "", "", "", _yuan(result.opening_fen)],
    ]
    for row in _statement_rows(result):
        amount = row["amount_fen"]
        rows.append(
            [
                timezone.localtime(row["at"]).strftime("%Y-%m-%d %H:%M"),
                row["kind"],
                row["memo"],
                row["order"].pk if row["order"] else "",
                row["post_title"],
                _yuan(amount) if amount > 0 else "",
                _yuan(-amount) if amount < 0 else "",
                _yuan(row["balance_fen"]),
            ]
        )
    rows.append(
        ["", "合计", "", "", "", _yuan(result.in_fen), _yuan(result.out_fen), _yuan(result.closing_fen)]
    )
    # core.spreadsheets neutralises formulas in every cell (memo, post title, the employer's name).
    return csv_response(rows, filename=f"statement-{employer.pk}-{result.month:%Y-%m}.csv")


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}" if abs(fen) < 2**52 else str(fen // 100)


# --------------------------------------------------------------------------------- gateway callback


@csrf_exempt
@require_POST
def payment_notify(request):
    """The gateway's asynchronous payment notification. Signed over the raw body; a bad signature, a stale
    timestamp or a replayed nonce is refused and moves nothing; a repeat of a paid top-up moves nothing."""
    try:
        notification = get_gateway().parse_notification(body=request.body, headers=request.headers)
    except NotSupported:
        raise Http404("没有这个地址") from None
    except BadSignature:
        logger.warning("payment notification with a bad signature refused")
        return JsonResponse({"code": "FAIL", "message": "签名不正确"}, status=401)
    except (StaleNotification, ReplayedNotification) as exc:
        logger.warning("payment notification refused: %s", type(exc).__name__)
        return JsonResponse({"code": "FAIL", "message": str(exc)}, status=400)
    except GatewayError as exc:
        return JsonResponse({"code": "FAIL", "message": str(exc)}, status=400)
    try:
        services.top_up_notified(notification=notification)
    except DomainError as exc:
        logger.error("payment notification not applied: %s", exc.code)
        return JsonResponse({"code": "FAIL", "message": exc.message}, status=exc.status_code)
    return JsonResponse({"code": "SUCCESS", "message": "成功"})


# -------------------------------------------------------------------------------------------- staff


@login_required
@permission_required(STAFF_PERM, raise_exception=True)
def arrears(request):
    hours_text = request.GET.get("hours", "")
    hours = int(hours_text) if hours_text.isdigit() and 0 < int(hours_text) <= 24 * 90 else None
    hours = hours or settings.WALLET_RULES["WAGE_ARREARS_HOURS"]
    now = timezone.now()
    rows = []
    balances = {}
    for order in objects_visible_to(request.user, selectors.wage_arrears(now=now, hours=hours))[:200]:
        if order.employer_id not in balances:
            balances[order.employer_id] = selectors.escrow_summary(employer=order.employer).available_fen
        realname = getattr(order.worker, "realname", None)
        rows.append(
            {
                "order": order,
                "worker_name": mask_name(realname.name if realname else order.worker.name),
                "worker_phone": mask_phone(order.worker.phone),
                "contact_phone": mask_phone(order.post.contact_phone),
                "overdue_hours": int((now - order.completed_at).total_seconds() // 3600),
                "employer_available_fen": balances[order.employer_id],
            }
        )
    return render(
        request,
        "wallet/staff_arrears.html",
        {"rows": rows, "hours": hours, "total_owed_fen": sum(r["order"].owed_fen for r in rows)},
    )


@login_required
@permission_required(STAFF_PERM, raise_exception=True)
def staff_accounts(request):
    kind = request.GET.get("kind", "")
    q = request.GET.get("q", "").strip()[:40]
    accounts = objects_visible_to(
        request.user, Account.objects.select_related("employer", "user", "order__post", "post")
    ).order_by("kind", "pk")
    if kind in Account.Kind.values:
        accounts = accounts.filter(kind=kind)
    if q:
        match = (
            Q(employer__name__icontains=q) | Q(post__title__icontains=q) | Q(order__post__title__icontains=q)
        )
        if q.isdigit():
            match |= Q(user__phone=q) | Q(order_id=int(q)) | Q(pk=int(q))
        accounts = accounts.filter(match)
    return render(
        request,
        "wallet/staff_accounts.html",
        {"accounts": accounts[:100], "kind": kind, "q": q, "kinds": Account.Kind.choices},
    )


@login_required
@permission_required(STAFF_PERM, raise_exception=True)
def staff_account_ledger(request, pk: int):
    account = get_visible_or_404(
        request.user, Account.objects.select_related("employer", "user", "order__post", "post"), pk=pk
    )
    lines, more = _page_of_lines(
        request, account.postings.select_related("transaction__order__post").order_by("-pk")
    )
    return render(
        request,
        "wallet/staff_ledger.html",
        {
            "account": account,
            "owner": selectors.account_owner(account),
            "lines": line_rows(lines, order_links=False),
            "more_url": more,
        },
    )
