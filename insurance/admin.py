"""Staff console for insurance: the premium table (editable, in yuan), policies (read-only, with their
history; failed and stuck ones are one filter away; 重新出单 for those still waiting), and claims (read-only
records; review, approve with a payout, or reject with a reason through actions that call the services).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from core.admin_display import EventInline, row_number
from core.errors import DomainError
from core.masking import mask_name
from core.scoping import ScopedAdminMixin
from core.spreadsheets import csv_response

from . import claims, remittance, services
from .backends import get_insurer
from .forms import (
    ClaimApproveForm,
    ClaimForwardForm,
    ClaimRejectForm,
    LocalInsurerDecisionForm,
    PremiumRateForm,
)
from .models import AccidentClaim, ClaimEvent, Policy, PolicyEvent, PremiumRate, Remittance


def _yuan(fen: int | None) -> str:
    return "—" if fen is None else f"{fen / 100:,.2f}元"


def _error_text(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    raise exc


def _apply_each(modeladmin, request, queryset, call: Callable, done: str) -> int:
    """Call the service for each selected object (each in its own transaction); one refusal does not undo
    the others, and each refusal is shown."""
    succeeded = 0
    for obj in queryset.order_by("pk"):
        try:
            call(obj)
        except (DomainError, ValidationError) as exc:
            modeladmin.message_user(request, f"“{obj}”：{_error_text(exc)}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(request, done.format(n=succeeded), messages.SUCCESS)
    return succeeded


class ReadOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Records are read-only; "change" on the model as a whole is what the actions need.
        return obj is None and super().has_change_permission(request)


# ----------------------------------------------------------------------------------------- premiums


@admin.register(PremiumRate)
class PremiumRateAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """每单保费 by risk class. A change applies to posts published from now on; published posts keep the
    premium their money was set aside with."""

    form = PremiumRateForm
    list_display = ["risk_class", "premium_display", "cover_display", "insurable"]
    list_editable = ["insurable"]
    ordering = ["risk_class"]

    def has_delete_permission(self, request, obj=None):
        return False  # a missing row silently falls back to the defaults: change it instead

    @admin.display(description="每单保费", ordering="premium_fen")
    def premium_display(self, obj):
        return _yuan(obj.premium_fen)

    @admin.display(description="最高保额", ordering="cover_fen")
    def cover_display(self, obj):
        return _yuan(obj.cover_fen)


# ----------------------------------------------------------------------------------------- policies


class PolicyEventInline(EventInline):
    model = PolicyEvent
    status_choices = Policy.Status

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Policy)
class PolicyAdmin(ReadOnlyAdmin):
    list_display = [row_number, "policy_number", "order_link", "insured", "status", "risk_class", "premium_display",
                    "cover_display", "created_at", "attempts", "last_error"]  # fmt: skip
    list_filter = ["status", "risk_class", "insurer"]
    list_select_related = ["order__worker", "order__post"]
    search_fields = ["policy_number", "order__id", "order__post__title"]
    date_hierarchy = "created_at"
    exclude = ["request_no"]
    inlines = [PolicyEventInline]
    actions = ["retry_issue"]

    @admin.display(description="订单")
    def order_link(self, obj):
        url = reverse("admin:jobs_order_change", args=[obj.order_id])
        return format_html('<a href="{}">订单{}</a>', url, obj.order_id)

    @admin.display(description="被保险人")
    def insured(self, obj):
        return mask_name(obj.order.worker.name)

    @admin.display(description="保费", ordering="premium_fen")
    def premium_display(self, obj):
        return _yuan(obj.premium_fen)

    @admin.display(description="保额", ordering="cover_fen")
    def cover_display(self, obj):
        return _yuan(obj.cover_fen)

    @admin.action(description="重新向保险公司出单（仅出单中）", permissions=["change"])
    def retry_issue(self, request, queryset):
        _apply_each(
            self, request, queryset, lambda p: services.policy_issue_retry(policy=p, actor=request.user),
            "已为 {n} 张保单重新发起出单",
        )  # fmt: skip


# ------------------------------------------------------------------------------------------- claims


class ClaimEventInline(EventInline):
    model = ClaimEvent
    status_choices = AccidentClaim.Status

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AccidentClaim)
class AccidentClaimAdmin(ReadOnlyAdmin):
    list_display = ["number_display", "policy", "insured", "status", "accident_at", "reported_at",
                    "payout_display", "reviewed_by"]  # fmt: skip
    list_filter = ["status"]
    list_select_related = ["policy__order__worker", "reviewed_by"]
    search_fields = ["policy__policy_number", "place"]
    date_hierarchy = "reported_at"
    fields = ["policy", "status", "accident_at", "place", "description", "reported_by", "reported_at",
              "document_links", "reviewed_by", "decided_at", "payout_display", "payout_transaction",
              "decision_note", "insurer_claim_no", "forwarded_at", "forward_attempts", "forward_error",
              "documents_needed"]  # fmt: skip
    readonly_fields = fields
    inlines = [ClaimEventInline]
    actions = ["start_review", "forward", "local_insurer", "approve", "reject"]

    def has_review_permission(self, request):
        return request.user.has_perm("insurance.review_accidentclaim")

    @admin.display(description="报案号", ordering="pk")
    def number_display(self, obj):
        return obj.number

    @admin.display(description="被保险人")
    def insured(self, obj):
        return mask_name(obj.policy.order.worker.name)

    @admin.display(description="赔付金额", ordering="payout_fen")
    def payout_display(self, obj):
        return _yuan(obj.payout_fen)

    @admin.display(description="理赔材料")
    def document_links(self, obj):
        documents = list(obj.documents.all())
        if not documents:
            return "—"
        return format_html_join(
            " ",
            '<a href="{}" target="_blank" rel="noopener">材料{}（{}）</a>',
            (
                (reverse("insurance:claim_document", args=[obj.pk, d.pk]), i, d.content_type.split("/")[-1])
                for i, d in enumerate(documents, 1)
            ),
        )

    @admin.action(description="开始审核", permissions=["review"])
    def start_review(self, request, queryset):
        _apply_each(
            self, request, queryset, lambda c: services.claim_review_start(claim=c, actor=request.user),
            "{n} 件理赔已进入审核",
        )  # fmt: skip

    def _form_page(self, request, queryset, *, form, action: str, title: str, intro: str):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "opts": self.model._meta,
            "objects": list(queryset.order_by("pk")),
            "form": form,
            "action": action,
            "intro": intro,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/insurance/decision_form.html", context)

    @admin.action(description="核准赔付（填写赔付金额）", permissions=["review"])
    def approve(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "核准赔付一次只能选一件理赔（每件的金额不同）", messages.ERROR)
            return None
        form = ClaimApproveForm(request.POST if request.POST.get("post") == "yes" else None)
        if form.is_bound and form.is_valid():
            claim = queryset.get()
            try:
                services.claim_approve(
                    claim=claim, actor=request.user, payout_fen=form.cleaned_data["payout"],
                    note=form.cleaned_data["note"],
                )  # fmt: skip
            except (DomainError, ValidationError) as exc:
                form.add_error(
                    "payout" if getattr(exc, "field", None) == "payout" else None, _error_text(exc)
                )
            else:
                self.message_user(request, f"{claim.number} 已核准，赔付款已进入工人钱包", messages.SUCCESS)
                return None
        claim = queryset.get()
        left = services.remaining_cover_fen(claim.policy)
        return self._form_page(
            request, queryset, form=form, action="approve", title="核准赔付",
            intro=f"保单 {claim.policy.policy_number} 保额 {_yuan(claim.policy.cover_fen)}，剩余可赔 {_yuan(left)}。"
            "赔付款记为保险公司付款，进入工人钱包。",
        )  # fmt: skip

    @admin.action(description="审核通过，报保险公司", permissions=["review"])
    def forward(self, request, queryset):
        form = ClaimForwardForm(request.POST if request.POST.get("post") == "yes" else None)
        if form.is_bound and form.is_valid():
            note = form.cleaned_data["note"]
            _apply_each(
                self, request, queryset, lambda c: claims.claim_forward(claim=c, actor=request.user, note=note),
                "{n} 件理赔已报保险公司",
            )  # fmt: skip
            return None
        return self._form_page(
            request, queryset, form=form, action="forward", title="报保险公司",
            intro="理赔和材料将报送保险公司；保险公司的受理、补材料、赔付、拒赔会自动更新并通知工人。",
        )  # fmt: skip

    @admin.action(description="模拟保险公司处理（本地演示保险公司）", permissions=["review"])
    def local_insurer(self, request, queryset):
        if get_insurer().name != "fake":
            self.message_user(request, "已接入真实保险公司，处理结果由保险公司回调", messages.ERROR)
            return None
        if queryset.count() != 1:
            self.message_user(request, "一次只能处理一件理赔", messages.ERROR)
            return None
        form = LocalInsurerDecisionForm(request.POST if request.POST.get("post") == "yes" else None)
        claim = queryset.get()
        if form.is_bound and form.is_valid():
            try:
                claim = claims.local_insurer_decide(
                    claim=claim, actor=request.user, decision=form.cleaned_data["decision"],
                    amount_fen=form.cleaned_data["amount"], note=form.cleaned_data["note"],
                )  # fmt: skip
            except (DomainError, ValidationError) as exc:
                form.add_error(None, _error_text(exc))
            else:
                self.message_user(
                    request,
                    f"{claim.number}：保险公司回调已到达，现为“{claim.get_status_display()}”",
                    messages.SUCCESS,
                )
                return None
        return self._form_page(
            request, queryset, form=form, action="local_insurer", title="模拟保险公司处理",
            intro=f"本地演示保险公司（案件号 {claim.insurer_claim_no or '尚未报送'}）：结果以签名回调送达平台，"
            "与真实保险公司的回调走同一条路径。",
        )  # fmt: skip

    @admin.action(description="不予赔付（填写原因）", permissions=["review"])
    def reject(self, request, queryset):
        form = ClaimRejectForm(request.POST if request.POST.get("post") == "yes" else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            _apply_each(
                self, request, queryset, lambda c: services.claim_reject(claim=c, actor=request.user, reason=reason),
                "{n} 件理赔已结案（不予赔付）",
            )  # fmt: skip
            return None
        return self._form_page(
            request, queryset, form=form, action="reject", title="不予赔付", intro="工人会在短信里看到原因。"
        )


# -------------------------------------------------------------------------------------- remittances


@admin.register(Remittance)
class RemittanceAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The daily premium remittance: paid, statement sent, or failed and waiting (retry from here)."""

    list_display = ["day", "status", "policy_count", "amount_display", "attempts", "last_error", "paid_at",
                    "statement_sent_at", "statement_link"]  # fmt: skip
    list_filter = ["status"]
    date_hierarchy = "day"
    fields = ["day", "status", "policy_count", "amount_display", "out_trade_no", "gateway_ref", "transaction",
              "statement_ref", "attempts", "last_error", "next_attempt_at", "created_at", "paid_at",
              "statement_sent_at", "statement_link"]  # fmt: skip
    readonly_fields = fields
    actions = ["retry"]
    change_list_template = "admin/insurance/remittance/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="保费合计", ordering="amount_fen")
    def amount_display(self, obj):
        return _yuan(obj.amount_fen)

    @admin.display(description="保单清单")
    def statement_link(self, obj):
        url = reverse("admin:insurance_remittance_statement", args=[obj.pk])
        return format_html('<a href="{}">下载CSV（{}单）</a>', url, obj.policy_count)

    @admin.action(description="重新付款 / 重发清单", permissions=["change"])
    def retry(self, request, queryset):
        _apply_each(
            self, request, queryset, lambda r: remittance.remittance_retry(remittance=r, actor=request.user),
            "已为 {n} 笔结算重新发起",
        )  # fmt: skip

    def changelist_view(self, request, extra_context=None):
        extra = {**(extra_context or {}), "can_settle": self.has_change_permission(request)}
        return super().changelist_view(request, extra)

    def get_urls(self):
        own = [
            path("<int:pk>/statement.csv", self.admin_site.admin_view(self.statement_view),
                 name="insurance_remittance_statement"),
            path("settle-today/", self.admin_site.admin_view(require_POST(self.settle_today_view)),
                 name="insurance_remittance_settle_today"),
        ]  # fmt: skip
        return own + super().get_urls()

    def statement_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        obj = get_object_or_404(self.get_queryset(request), pk=pk)
        return csv_response(remittance.statement_csv_rows(obj), filename=f"保费结算清单-{obj.day:%Y%m%d}.csv")

    def settle_today_view(self, request):
        """Settle today's earned premiums now (the beat does yesterday's every morning)."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        obj = remittance.remittance_open(day=timezone.localdate())
        obj = remittance.remittance_run(remittance_id=obj.pk)
        level = (
            messages.ERROR
            if obj.status in (Remittance.Status.FAILED, Remittance.Status.PENDING)
            else messages.SUCCESS
        )
        self.message_user(
            request,
            f"{obj}：{obj.policy_count} 单，{_yuan(obj.amount_fen)}，{obj.get_status_display()}",
            level,
        )
        return redirect("admin:insurance_remittance_changelist")
