"""The staff console (工作人员后台) for accounts: review queues, users, profiles, service points.

Review pages are read-only: a status changes only through an action (or a button on the record's page)
that calls one service per object; refusals from the service are shown as error messages. ID numbers are
shown masked; the full number is revealed only through :func:`accounts.services.realname_unmask`, which
checks the permission and writes the audit log.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.crypto import blind_index
from core.display import local_datetime, readable_data
from core.errors import DomainError
from core.masking import mask_name, mask_phone
from core.scoping import ScopedAdminMixin
from core.services import client_ip
from core.uploads import harden_file_response, upload_response

from . import second_factor, services
from .models import (
    Area,
    Certificate,
    CertificateType,
    Employer,
    EmployerMember,
    IdCardPhoto,
    RealName,
    ReviewEvent,
    ServicePoint,
    User,
    WorkerProfile,
)
from .validators import fold_input, normalize_phone

ID_NUMBER_RE = re.compile(r"^\d{17}[\dXx]$")
FROM_CHANGE_PAGE = "_from_change"


def _unmask_page(model_admin, request, obj, *, reveal, title: str, template: str, shown_as: str, **extra):
    """The console's unmask page (ID number, phone): a GET asks for the reason, a POST calls ``reveal``
    (the audited service) with the actor, address and reason, and shows the full value once."""
    revealed = None
    if request.method == "POST":
        try:
            revealed = reveal(
                actor=request.user,
                ip_address=client_ip(request),
                reason=request.POST.get("reason", "").strip()[:300],
            )
        except DomainError as exc:
            raise PermissionDenied(exc.message) from exc
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "opts": model_admin.opts,
        "original": obj,
        shown_as: revealed,
        **extra,
    }
    return TemplateResponse(request, template, context)


# ----------------------------------------------------------------------------------- shared helpers


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="原因",
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="申请人会在短信里看到这段原因，请写清楚需要怎么改。",
        error_messages={"required": "请填写原因"},
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("请填写原因")
        return reason


def _error_text(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    raise exc


def _apply_each(modeladmin, request, queryset, call: Callable, done: str) -> int:
    """Call ``call(obj)`` for each selected object, each in its own transaction (the service's), and
    report what happened; one refusal does not undo the others."""
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


def _back_to_record(modeladmin, request, queryset):
    """After a button on a record's page, go back to that record instead of the list."""
    if request.POST.get(FROM_CHANGE_PAGE):
        pks = list(queryset.values_list("pk", flat=True)[:2])
        if len(pks) == 1:
            opts = modeladmin.model._meta
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pks[0]])
            )
    return None


def _reason_action(
    modeladmin,
    request,
    queryset,
    *,
    action: str,
    title: str,
    call: Callable,
    done: str,
    help_text: str | None = None,
):
    """An action that needs a reason: the first POST shows a page asking for it; the second does it.
    An empty reason is refused on the form and nothing changes."""
    form = ReasonForm(request.POST if request.POST.get("post") == "yes" else None)
    if help_text is not None:
        form.fields["reason"].help_text = help_text
    if form.is_bound and form.is_valid():
        reason = form.cleaned_data["reason"]
        _apply_each(modeladmin, request, queryset, lambda obj: call(obj, reason), done)
        return _back_to_record(modeladmin, request, queryset)
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "opts": opts,
        "objects": list(queryset.order_by("pk")),
        "form": form,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "from_change": request.POST.get(FROM_CHANGE_PAGE, ""),
        "from_change_name": FROM_CHANGE_PAGE,
        "media": modeladmin.media,
    }
    return TemplateResponse(request, "admin/accounts/reason_form.html", context)


def _file_response(field_file, *, download_name: str):
    if not field_file:
        raise Http404("没有上传文件")
    return upload_response(field_file.name, download_name=download_name)


class ExpiryFilter(admin.SimpleListFilter):
    """已过期 / 30天内到期 / 有效 on a date field named by ``field``."""

    title = "有效期"
    parameter_name = "expiry"
    field = "expires_on"

    def lookups(self, request, model_admin):
        return [("expired", "已过期"), ("soon", "30天内到期"), ("valid", "有效")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        soon = today + dt.timedelta(days=30)
        if self.value() == "expired":
            return queryset.filter(**{f"{self.field}__lt": today})
        if self.value() == "soon":
            return queryset.filter(**{f"{self.field}__gte": today, f"{self.field}__lte": soon})
        if self.value() == "valid":
            return queryset.filter(**{f"{self.field}__gte": today})
        return queryset


def _expiry_cell(value: dt.date | None, *, empty: str = "—"):
    if value is None:
        return empty
    today = timezone.localdate()
    shown = formats.date_format(value, "DATE_FORMAT")  # 2031年12月31日, not 2031-12-31
    if value < today:
        return format_html('<strong class="expiry-over">{}（已过期）</strong>', shown)
    if value <= today + dt.timedelta(days=30):
        return format_html('<span class="expiry-near">{}（即将到期）</span>', shown)
    return shown


class ReviewAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Base for real-name, employer and certificate review: read-only records, decisions by action,
    the record's ReviewEvent history and decision buttons on its page."""

    review_subject: str = ""
    # status → [(action name, button label, needs a reason)]
    review_buttons: dict[str, list[tuple[str, str, bool]]] = {}
    change_form_template = "admin/accounts/review_change_form.html"

    def has_add_permission(self, request):
        return False  # records come from applicants, through the services

    def has_delete_permission(self, request, obj=None):
        return False  # decisions are history; nothing is deleted from here

    def has_change_permission(self, request, obj=None):
        # The record's page is a read-only review page: no field is saved from a form. "Change" on the
        # model as a whole is what the decision actions need.
        if obj is not None:
            return False
        return super().has_change_permission(request)

    def review_events(self, obj) -> list[ReviewEvent]:
        labels = dict(self.model.Status.choices)
        events = list(
            ReviewEvent.objects.filter(subject=self.review_subject, object_id=obj.pk).select_related("actor")
        )
        for event in events:
            event.from_label = labels.get(event.from_status, event.from_status) or "—"
            event.to_label = labels.get(event.to_status, event.to_status)
        return events

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            can_decide = super().has_change_permission(request)
            extra_context["review_events"] = self.review_events(obj)
            extra_context["review_buttons"] = self.review_buttons.get(obj.status, []) if can_decide else []
            extra_context["review_changelist_url"] = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"
            )
            extra_context["action_checkbox_name"] = helpers.ACTION_CHECKBOX_NAME
            extra_context["from_change_name"] = FROM_CHANGE_PAGE
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="账户")
    def account(self, obj):
        return str(obj.user)  # masked name and phone

    @admin.display(description="审核人")
    def decided_by_display(self, obj):
        return str(obj.decided_by) if obj.decided_by_id else "—"


# ----------------------------------------------------------------------------------------- real-name


class IdIndexFilter(admin.SimpleListFilter):
    """Carries a search by full ID number as its keyed hash, so the number never appears in a URL or page."""

    title = "证件号检索"
    parameter_name = "id_index"

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, "按完整证件号检索的结果")] if value else []

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(id_index=self.value())
        return queryset


def _id_search_index(term: str) -> str | None:
    """The blind index of a search term that is a full ID number, normalised as the services do."""
    number = fold_input(term).upper()
    if not ID_NUMBER_RE.match(number):
        return None
    return blind_index(number, purpose="id_number")


@admin.register(RealName)
class RealNameAdmin(ReviewAdmin):
    review_subject = ReviewEvent.Subject.REALNAME
    review_buttons = {
        RealName.Status.PENDING: [("approve_selected", "通过", False), ("reject_selected", "驳回…", True)],
    }
    list_display = [
        "masked_name",
        "id_masked",
        "user_phone",
        "status",
        "method",
        "submitted_at",
        "decided_by_display",
    ]
    list_filter = ["status", "method", ("submitted_at", admin.DateFieldListFilter), IdIndexFilter]
    list_select_related = ["user", "decided_by"]
    search_fields = ["name", "user__phone"]
    search_help_text = "可按姓名、手机号或完整身份证号查找（证件号经加密索引比对，不会出现在地址栏）"
    ordering = ["-submitted_at"]
    actions = ["approve_selected", "reject_selected"]
    exclude = ["id_number"]
    fields = [
        "account",
        "name",
        "id_masked",
        "birth_year",
        "status",
        "method",
        "reject_reason",
        "submitted_at",
        "decided_at",
        "decided_by_display",
    ]
    readonly_fields = fields

    @admin.display(description="姓名", ordering="name")
    def masked_name(self, obj):
        return mask_name(obj.name)

    @admin.display(description="手机号", ordering="user__phone")
    def user_phone(self, obj):
        return mask_phone(obj.user.phone)

    # -- search: full ID numbers through the blind index, never by decrypting rows

    def get_search_results(self, request, queryset, search_term):
        index = _id_search_index(search_term)
        if index is not None:
            return queryset.filter(id_index=index), False
        try:
            phone = normalize_phone(search_term)
        except ValidationError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(user__phone=phone), False

    def changelist_view(self, request, extra_context=None):
        # A full ID number typed into a GET search (a bookmark, a hand-made link) is swapped for its
        # keyed hash at once, so it is not echoed into the search box, filter links or pagination.
        term = request.GET.get("q", "")
        index = _id_search_index(term)
        if request.method == "GET" and index is not None:
            params = [(k, v) for k, v in request.GET.items() if k not in ("q", "id_index")]
            return HttpResponseRedirect(f"{request.path}?{urlencode([*params, ('id_index', index)])}")
        return super().changelist_view(request, extra_context)

    def search_view(self, request):
        """The list's search box posts here, keeping typed ID numbers out of URLs and server logs."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        term = request.POST.get("q", "").strip()
        keep = [
            (k, v) for k, v in request.POST.items() if k not in ("q", "p", "csrfmiddlewaretoken", "id_index")
        ]
        index = _id_search_index(term)
        params = [*keep, ("id_index", index)] if index else [*keep, ("q", term)] if term else keep
        url = reverse("admin:accounts_realname_changelist")
        return HttpResponseRedirect(f"{url}?{urlencode(params)}" if params else url)

    # -- decisions

    @admin.action(description="通过所选实名认证", permissions=["change"])
    def approve_selected(self, request, queryset):
        _apply_each(
            self,
            request,
            queryset,
            lambda obj: services.realname_approve(realname=obj, actor=request.user),
            "已通过 {n} 条实名认证，已短信通知本人。",
        )
        return _back_to_record(self, request, queryset)

    @admin.action(description="驳回所选实名认证（需填写原因）", permissions=["change"])
    def reject_selected(self, request, queryset):
        return _reason_action(
            self,
            request,
            queryset,
            action="reject_selected",
            title="驳回实名认证",
            call=lambda obj, reason: services.realname_reject(
                realname=obj, actor=request.user, reason=reason
            ),
            done="已驳回 {n} 条实名认证，已短信告知原因。",
        )

    # -- full ID number, for staff with the explicit permission

    def can_unmask(self, request) -> bool:
        return request.user.is_staff and request.user.has_perm("accounts.view_full_id_number")

    # -- the ID card: photos sent by the person, or the card shown at the hall

    change_form_template = "admin/accounts/realname/review_change_form.html"

    def can_see_photos(self, request) -> bool:
        """Reviewing staff: those who decide real-names. Which person they may see is the scope's
        (``get_object`` is cut to their points)."""
        return request.user.is_staff and request.user.has_perm("accounts.change_realname")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_unmask": self.can_unmask(request)}
        realname = self.get_object(request, unquote(object_id))
        if realname is not None and self.can_see_photos(request):
            extra_context["id_photos"] = [
                {
                    "label": photo.get_side_display(),
                    "url": reverse("admin:accounts_realname_id_photo", args=[realname.pk, photo.side]),
                }
                for photo in realname.id_photos.order_by("-side")  # 人像面 first
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    def id_photo_view(self, request, object_id, side):
        if not self.can_see_photos(request):
            raise PermissionDenied
        realname = self.get_object(request, unquote(object_id))
        photo = (
            IdCardPhoto.objects.filter(realname=realname, side=side).first() if realname is not None else None
        )
        if photo is None:
            raise Http404("没有这张照片")
        content = services.realname_photo_view(actor=request.user, photo=photo, ip_address=client_ip(request))
        return harden_file_response(HttpResponse(content, content_type=photo.content_type))

    def unmask_view(self, request, object_id):
        if not self.can_unmask(request):
            raise PermissionDenied
        realname = self.get_object(request, unquote(object_id))
        if realname is None or not self.has_view_permission(request, realname):
            raise Http404
        return _unmask_page(
            self, request, realname,
            reveal=lambda **audit: services.realname_unmask(realname=realname, **audit),
            title="查看完整证件号", template="admin/accounts/realname/unmask.html", shown_as="full_number",
            masked_name=mask_name(realname.name),
        )  # fmt: skip

    def get_urls(self):
        return [
            path(
                "search/",
                self.admin_site.admin_view(require_POST(self.search_view)),
                name="accounts_realname_search",
            ),
            path(
                "<path:object_id>/unmask/",
                self.admin_site.admin_view(self.unmask_view),
                name="accounts_realname_unmask",
            ),
            path(
                "<path:object_id>/id-photo/<str:side>/",
                self.admin_site.admin_view(self.id_photo_view),
                name="accounts_realname_id_photo",
            ),
            *super().get_urls(),
        ]


# ----------------------------------------------------------------------------------------- employers


class EmployerMemberInline(admin.TabularInline):
    model = EmployerMember
    extra = 0
    can_delete = False
    fields = ["member", "member_phone", "role", "joined"]
    readonly_fields = fields
    verbose_name = verbose_name_plural = "成员"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def has_view_permission(self, request, obj=None):
        # Members are part of the employer's record: whoever may review the employer sees them.
        return request.user.has_perm("accounts.view_employer") or request.user.has_perm(
            "accounts.change_employer"
        )

    @admin.display(description="姓名")
    def member(self, obj):
        return mask_name(obj.user.name) or "—"

    @admin.display(description="手机号")
    def member_phone(self, obj):
        return mask_phone(obj.user.phone)

    @admin.display(description="加入时间")
    def joined(self, obj):
        return local_datetime(obj.added_at)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LicenceExpiryFilter(ExpiryFilter):
    title = "营业执照有效期"
    parameter_name = "licence"
    field = "licence_expires_on"


@admin.register(Employer)
class EmployerAdmin(ReviewAdmin):
    review_subject = ReviewEvent.Subject.EMPLOYER
    review_buttons = {
        Employer.Status.PENDING: [("approve_selected", "通过", False), ("reject_selected", "驳回…", True)],
        Employer.Status.APPROVED: [("suspend_selected", "暂停…", True)],
        Employer.Status.SUSPENDED: [("reinstate_selected", "恢复", False)],
    }
    list_display = [
        "name",
        "kind",
        "uscc",
        "status",
        "licence_thumb",
        "licence_expiry",
        "created_at",
        "decided_by_display",
    ]
    list_filter = ["status", "kind", LicenceExpiryFilter, "service_point"]
    list_select_related = ["service_point", "decided_by"]
    search_fields = ["name", "uscc", "legal_representative"]
    search_help_text = "可按名称、统一社会信用代码、法定代表人查找"
    date_hierarchy = "created_at"
    actions = ["approve_selected", "reject_selected", "suspend_selected", "reinstate_selected"]
    inlines = [EmployerMemberInline]
    fields = [
        "kind",
        "name",
        "uscc",
        "legal_representative",
        "licence_link",
        "licence_expiry",
        "contact_name",
        "address",
        "area",
        "service_point",
        "status",
        "reject_reason",
        "applicant",
        "created_at",
        "decided_at",
        "decided_by_display",
    ]
    readonly_fields = fields

    @admin.display(description="申请人")
    def applicant(self, obj):
        return str(obj.created_by)  # masked name and phone

    def _licence_url(self, obj) -> str | None:
        if not obj.licence_image:
            return None
        return reverse("admin:accounts_employer_licence", args=[obj.pk])

    @admin.display(description="营业执照")
    def licence_thumb(self, obj):
        url = self._licence_url(obj)
        if url is None:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="营业执照" '
            'class="upload-thumb"></a>',
            url,
            url,
        )

    @admin.display(description="营业执照")
    def licence_link(self, obj):
        url = self._licence_url(obj)
        if url is None:
            return "未上传" if obj.kind != Employer.Kind.HOUSEHOLD else "居民家庭无需执照"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="营业执照" '
            'class="upload-preview"></a>',
            url,
            url,
        )

    @admin.display(description="执照有效期至", ordering="licence_expires_on")
    def licence_expiry(self, obj):
        if obj.kind == Employer.Kind.HOUSEHOLD:
            return "—"
        return _expiry_cell(obj.licence_expires_on, empty="长期")

    def licence_view(self, request, object_id):
        employer = self.get_object(request, unquote(object_id))
        if employer is None or not self.has_view_permission(request, employer):
            raise PermissionDenied
        return _file_response(employer.licence_image, download_name=f"licence-{employer.pk}")

    def get_urls(self):
        return [
            path(
                "<path:object_id>/licence/",
                self.admin_site.admin_view(self.licence_view),
                name="accounts_employer_licence",
            ),
            *super().get_urls(),
        ]

    @admin.action(description="通过所选用工主体", permissions=["change"])
    def approve_selected(self, request, queryset):
        _apply_each(
            self,
            request,
            queryset,
            lambda obj: services.employer_approve(employer=obj, actor=request.user),
            "已通过 {n} 个用工主体，已短信通知负责人。",
        )
        return _back_to_record(self, request, queryset)

    @admin.action(description="驳回所选用工主体（需填写原因）", permissions=["change"])
    def reject_selected(self, request, queryset):
        return _reason_action(
            self,
            request,
            queryset,
            action="reject_selected",
            title="驳回用工主体申请",
            call=lambda obj, reason: services.employer_reject(
                employer=obj, actor=request.user, reason=reason
            ),
            done="已驳回 {n} 个用工主体，已短信告知原因。",
        )

    @admin.action(description="暂停所选用工主体（需填写原因）", permissions=["change"])
    def suspend_selected(self, request, queryset):
        return _reason_action(
            self,
            request,
            queryset,
            action="suspend_selected",
            title="暂停用工主体",
            call=lambda obj, reason: services.employer_suspend(
                employer=obj, actor=request.user, reason=reason
            ),
            done="已暂停 {n} 个用工主体，暂停期间不能发布岗位。",
        )

    @admin.action(description="恢复所选用工主体", permissions=["change"])
    def reinstate_selected(self, request, queryset):
        _apply_each(
            self,
            request,
            queryset,
            lambda obj: services.employer_reinstate(employer=obj, actor=request.user),
            "已恢复 {n} 个用工主体。",
        )
        return _back_to_record(self, request, queryset)


# -------------------------------------------------------------------------------------- certificates


@admin.register(Certificate)
class CertificateAdmin(ReviewAdmin):
    review_subject = ReviewEvent.Subject.CERTIFICATE
    review_buttons = {
        Certificate.Status.PENDING: [("approve_selected", "通过", False), ("reject_selected", "驳回…", True)],
    }
    list_display = [
        "holder",
        "holder_phone",
        "cert_type",
        "masked_number",
        "expiry",
        "status",
        "image_link",
        "submitted_at",
        "decided_by_display",
    ]
    list_filter = ["status", "cert_type", ExpiryFilter, ("submitted_at", admin.DateFieldListFilter)]
    list_select_related = ["user", "cert_type", "decided_by"]
    search_fields = ["user__name", "user__phone"]
    search_help_text = "可按持证人姓名或手机号查找"
    ordering = ["-submitted_at"]
    actions = ["approve_selected", "reject_selected"]
    fields = [
        "account",
        "cert_type",
        "masked_number",
        "issued_on",
        "expiry",
        "image_preview",
        "status",
        "reject_reason",
        "submitted_at",
        "decided_at",
        "decided_by_display",
    ]
    readonly_fields = fields

    @admin.display(description="持证人", ordering="user__name")
    def holder(self, obj):
        return mask_name(obj.user.name) or "—"

    @admin.display(description="手机号")
    def holder_phone(self, obj):
        return mask_phone(obj.user.phone)

    @admin.display(description="证书编号")
    def masked_number(self, obj):
        return obj.number_masked

    @admin.display(description="有效期至", ordering="expires_on")
    def expiry(self, obj):
        return _expiry_cell(obj.expires_on)

    def _image_url(self, obj) -> str | None:
        return reverse("admin:accounts_certificate_image", args=[obj.pk]) if obj.image else None

    @admin.display(description="证书照片")
    def image_link(self, obj):
        url = self._image_url(obj)
        return format_html('<a href="{}" target="_blank" rel="noopener">查看照片</a>', url) if url else "—"

    @admin.display(description="证书照片")
    def image_preview(self, obj):
        url = self._image_url(obj)
        if url is None:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="证书照片" '
            'class="upload-preview"></a>',
            url,
            url,
        )

    def image_view(self, request, object_id):
        certificate = self.get_object(request, unquote(object_id))
        if certificate is None or not self.has_view_permission(request, certificate):
            raise PermissionDenied
        return _file_response(certificate.image, download_name=f"certificate-{certificate.pk}")

    def get_urls(self):
        return [
            path(
                "<path:object_id>/image/",
                self.admin_site.admin_view(self.image_view),
                name="accounts_certificate_image",
            ),
            *super().get_urls(),
        ]

    @admin.action(description="通过所选证书", permissions=["change"])
    def approve_selected(self, request, queryset):
        _apply_each(
            self,
            request,
            queryset,
            lambda obj: services.certificate_approve(certificate=obj, actor=request.user),
            "已通过 {n} 张证书，已短信通知持证人。",
        )
        return _back_to_record(self, request, queryset)

    @admin.action(description="驳回所选证书（需填写原因）", permissions=["change"])
    def reject_selected(self, request, queryset):
        return _reason_action(
            self,
            request,
            queryset,
            action="reject_selected",
            title="驳回证书",
            call=lambda obj, reason: services.certificate_reject(
                certificate=obj, actor=request.user, reason=reason
            ),
            done="已驳回 {n} 张证书，已短信告知原因。",
        )


# ---------------------------------------------------------------------------------------------- users


class PhoneFieldMixin(forms.Form):
    # Wider than the column: "+86 138-1234-5678" is accepted and normalised to 11 digits.
    phone = forms.CharField(label="手机号", max_length=20, help_text="11位手机号，可带 +86")

    def clean_phone(self):
        try:
            return normalize_phone(self.cleaned_data.get("phone", ""))
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from exc


class PhoneUserCreationForm(PhoneFieldMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("phone", "name", "role", "service_point")


class PhoneUserChangeForm(PhoneFieldMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class AssistedFilter(admin.SimpleListFilter):
    title = "代注册"
    parameter_name = "assisted"

    def lookups(self, request, model_admin):
        return [("unconfirmed", "代注册待本人确认"), ("confirmed", "代注册已确认"), ("self", "本人注册")]

    def queryset(self, request, queryset):
        if self.value() == "unconfirmed":
            return queryset.filter(registered_by__isnull=False, is_active=False)
        if self.value() == "confirmed":
            return queryset.filter(registered_by__isnull=False, is_active=True)
        if self.value() == "self":
            return queryset.filter(registered_by__isnull=True)
        return queryset


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    form = PhoneUserChangeForm
    add_form = PhoneUserCreationForm
    list_display = [
        "masked_phone",
        "masked_name",
        "role",
        "service_point",
        "is_active",
        "is_staff",
        "date_joined",
    ]
    list_filter = ["role", "service_point", AssistedFilter, "is_staff", "is_superuser", "is_active", "groups"]
    list_select_related = ["service_point"]
    search_fields = ["phone", "name"]
    search_help_text = "可按手机号（含尾号）或称呼查找"
    ordering = ["-date_joined"]
    show_full_result_count = False  # one COUNT(*) per page is enough on hundreds of thousands of rows
    readonly_fields = ["registered_by", "phone_confirmed_at", "last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["phone", "password"]}),
        ("基本信息", {"fields": ["name", "role", "service_point", "registered_by", "phone_confirmed_at"]}),
        ("权限", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("时间", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "phone",
                    "name",
                    "role",
                    "service_point",
                    "usable_password",
                    "password1",
                    "password2",
                ],
            },
        ),
    ]
    superuser_only_fields = ["is_staff", "is_superuser", "groups", "user_permissions"]
    actions = ["reset_second_factor"]

    @admin.action(description="重置二次验证（手机丢失；需填写原因）", permissions=["reset_second_factor"])
    def reset_second_factor(self, request, queryset):
        return _reason_action(
            self,
            request,
            queryset,
            action="reset_second_factor",
            title="重置二次验证",
            call=lambda obj, reason: second_factor.second_factor_reset(
                actor=request.user, user=obj, reason=reason, ip_address=client_ip(request)
            ),
            done="已重置 {n} 人的二次验证：其登录已全部退出，下次登录时重新绑定身份验证器。已记入审计日志。",
            help_text="写入审计日志，例如：“本人来电称手机丢失，已核对身份”。",
        )

    def has_reset_second_factor_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    @admin.display(description="手机号", ordering="phone")
    def masked_phone(self, obj):
        return mask_phone(obj.phone)

    @admin.display(description="手机号")
    def phone_with_unmask(self, obj):
        url = reverse("admin:accounts_user_unmask_phone", args=[obj.pk])
        return format_html('{} <a class="button" href="{}">查看完整手机号</a>', mask_phone(obj.phone), url)

    @admin.display(description="称呼", ordering="name")
    def masked_name(self, obj):
        return mask_name(obj.name) or "—"

    def can_unmask_phone(self, request) -> bool:
        return request.user.is_staff and request.user.has_perm("accounts.view_full_phone")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or request.user.is_superuser:
            return fieldsets
        # Only superusers grant access: others do not even see the permission widgets. Only superusers edit
        # a phone number (the key to an account); others see it masked, and unmask it through an audited
        # page if they hold the permission.
        hidden = ("groups", "user_permissions")
        phone = "phone_with_unmask" if self.can_unmask_phone(request) else "masked_phone"
        return [
            (
                name,
                {
                    **opts,
                    "fields": [phone if f == "phone" else f for f in opts["fields"] if f not in hidden],
                },
            )
            for name, opts in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not request.user.is_superuser:
            fields += ["phone", "masked_phone", "phone_with_unmask", "is_staff", "is_superuser"]
            if obj.is_staff or obj.pk == request.user.pk or obj.role in (User.Role.STAFF, User.Role.MEDIATOR):
                # A staff member cannot move themselves to another point (the district market sees all)
                # or change what they are.
                fields += ["role", "service_point"]
        return fields

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not request.user.is_superuser:
            # Staff and mediators are made by superusers.
            kwargs["choices"] = [(User.Role.SEEKER, "求职者"), (User.Role.EMPLOYER, "用工主体")]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change and obj.service_point_id is None and not request.user.is_superuser:
            obj.service_point = request.user.service_point  # an account made at a point belongs to it
        super().save_model(request, obj, form, change)

    def unmask_phone_view(self, request, object_id):
        user = self.get_object(request, unquote(object_id))
        if user is None:
            raise Http404("未找到")
        if not self.can_unmask_phone(request):
            raise PermissionDenied
        return _unmask_page(
            self, request, user,
            reveal=lambda **audit: services.user_phone_unmask(user=user, **audit),
            title="查看完整手机号", template="admin/accounts/user/unmask_phone.html", shown_as="full_phone",
        )  # fmt: skip

    def get_urls(self):
        return [
            path(
                "<path:object_id>/phone/",
                self.admin_site.admin_view(self.unmask_phone_view),
                name="accounts_user_unmask_phone",
            ),
            *super().get_urls(),
        ]

    def has_change_permission(self, request, obj=None):
        # A staff member who may edit seekers must not be able to take over a colleague's or an
        # administrator's account (e.g. by changing its phone number or password).
        if obj is not None and obj.is_staff and not request.user.is_superuser and obj.pk != request.user.pk:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_staff and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)


# ------------------------------------------------------------------------------------ worker profiles


class WorkerHelpForm(forms.ModelForm):
    help_tier = forms.TypedChoiceField(
        label="帮扶等级", choices=WorkerProfile.HelpTier.choices, coerce=int, help_text="仅工作人员可见"
    )
    help_reasons = forms.MultipleChoiceField(
        label="帮扶原因",
        choices=WorkerProfile.HelpReason.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WorkerProfile
        fields = ["help_tier", "help_reasons"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("help_tier") == WorkerProfile.HelpTier.NONE and cleaned.get("help_reasons"):
            self.add_error("help_reasons", "帮扶等级为“无”时不需要填写原因")
        elif cleaned.get("help_tier") and not cleaned.get("help_reasons"):
            self.add_error("help_reasons", "请至少选择一个帮扶原因")
        return cleaned


@admin.register(WorkerProfile)
class WorkerProfileAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = WorkerHelpForm
    list_display = ["account", "area", "trades", "expected_pay", "help_tier", "updated"]
    list_filter = ["help_tier", "expected_pay_unit", "area", "wanted_trades"]
    list_select_related = ["user", "area"]
    search_fields = ["user__phone", "user__name"]
    search_help_text = "可按手机号（含尾号）或称呼查找"
    show_full_result_count = False
    readonly_fields = [
        "account",
        "trades",
        "skills_display",
        "expected_pay",
        "area",
        "availability_display",
        "available_from",
        "max_distance_km",
        "about",
        "updated",
    ]
    fieldsets = [
        (
            "求职意向（本人填写）",
            {
                "fields": [
                    "account",
                    "trades",
                    "skills_display",
                    "expected_pay",
                    "area",
                    "availability_display",
                    "available_from",
                    "max_distance_km",
                    "about",
                    "updated",
                ]
            },
        ),
        ("困难零工帮扶（仅工作人员可见）", {"fields": ["help_tier", "help_reasons"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("wanted_trades")

    def has_add_permission(self, request):
        return False  # profiles are created with the account

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="账户", ordering="user__phone")
    def account(self, obj):
        return str(obj.user)  # masked name and phone

    @admin.display(description="更新时间", ordering="updated_at")
    def updated(self, obj):
        return local_datetime(obj.updated_at)

    @admin.display(description="想干什么")
    def trades(self, obj):
        return "、".join(t.name for t in obj.wanted_trades.all()) or "—"

    @admin.display(description="会干什么")
    def skills_display(self, obj):
        return "、".join(obj.skills or []) or "—"

    @admin.display(description="可工作时间")
    def availability_display(self, obj):
        labels = dict(WorkerProfile.Availability.choices)
        return "、".join(labels.get(a, a) for a in obj.availability or []) or "—"

    @admin.display(description="期望报酬", ordering="expected_pay_fen")
    def expected_pay(self, obj):
        if obj.expected_pay_fen is None:
            return "面议"
        return f"{obj.expected_pay_fen / 100:g} 元/{obj.get_expected_pay_unit_display()}"

    def save_model(self, request, obj, form, change):
        # The form only carries the help flag; it is set through the service (permission check + event).
        profile = WorkerProfile.objects.get(pk=obj.pk)
        try:
            services.worker_help_flag_set(
                profile=profile,
                actor=request.user,
                tier=form.cleaned_data["help_tier"],
                reasons=form.cleaned_data["help_reasons"],
            )
        except DomainError as exc:
            raise PermissionDenied(exc.message) from exc

    def save_related(self, request, form, formsets, change):
        pass  # no related objects are edited here


# ------------------------------------------------------------------------ service points, areas, types


def _chain(obj, attr: str = "parent") -> str:
    names, node, seen = [], obj, set()
    while node is not None and node.pk not in seen:
        seen.add(node.pk)
        names.append(node.name)
        node = getattr(node, attr)
    return " › ".join(reversed(names))


class ServicePointChildInline(admin.TabularInline):
    model = ServicePoint
    fk_name = "parent"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["name", "kind", "area", "phone", "is_active"]
    readonly_fields = fields
    verbose_name = verbose_name_plural = "下级网点"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ParentPointFilter(admin.RelatedOnlyFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "上级网点"


@admin.register(ServicePoint)
class ServicePointAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "hierarchy",
        "area",
        "phone",
        "opening_hours",
        "children_count",
        "is_active",
    ]
    list_filter = ["kind", "is_active", ("parent", ParentPointFilter)]
    list_select_related = ["parent__parent", "area"]
    search_fields = ["name", "address", "area__name"]
    autocomplete_fields = ["parent", "area"]
    inlines = [ServicePointChildInline]
    ordering = ["kind", "name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_children=Count("children"))

    def has_add_permission(self, request):
        # The shape of the network decides who sees what: only superusers change it.
        return request.user.is_superuser and super().has_add_permission(request)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["kind", "parent"]  # a station made a "district market" would see the whole city
        return fields

    @admin.display(description="层级")
    def hierarchy(self, obj):
        return _chain(obj)

    @admin.display(description="下级网点", ordering="n_children")
    def children_count(self, obj):
        return obj.n_children


class AreaChildInline(admin.TabularInline):
    model = Area
    fk_name = "parent"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["name", "code", "level"]
    readonly_fields = fields
    verbose_name = verbose_name_plural = "下级区域"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Area)
class AreaAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code", "level", "hierarchy", "lat", "lng"]
    list_filter = ["level"]
    list_select_related = ["parent__parent"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent"]
    inlines = [AreaChildInline]
    ordering = ["code"]

    @admin.display(description="层级")
    def hierarchy(self, obj):
        return _chain(obj)


@admin.register(CertificateType)
class CertificateTypeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "issuer", "restricted_trades"]
    search_fields = ["name", "code"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("trade_set")

    @admin.display(description="要求此证的工种")
    def restricted_trades(self, obj):
        return "、".join(t.name for t in obj.trade_set.all()) or "—"


# ------------------------------------------------------------------------------------- review events


class ReviewOutcomeFilter(admin.SimpleListFilter):
    title = "新状态"
    parameter_name = "to_status"

    def lookups(self, request, model_admin):
        labels = {}
        for choices in (RealName.Status, Employer.Status, Certificate.Status):
            for code, label in choices.choices:
                labels.setdefault(code, label)
        labels.update(ReviewEvent.ACCOUNT_STATUSES)
        return list(labels.items())

    def queryset(self, request, queryset):
        return queryset.filter(to_status=self.value()) if self.value() else queryset


@admin.register(ReviewEvent)
class ReviewEventAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The append-only decision record: readable, never editable."""

    list_display = ["created_at", "subject", "object_link", "actor", "transition", "reason"]
    list_filter = ["subject", ReviewOutcomeFilter, ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["actor"]
    search_fields = ["=object_id", "reason"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "subject", "object_link", "actor", "transition", "reason", "details"]
    fields = readonly_fields

    _admin_for_subject = {
        ReviewEvent.Subject.REALNAME: "admin:accounts_realname_change",
        ReviewEvent.Subject.EMPLOYER: "admin:accounts_employer_change",
        ReviewEvent.Subject.CERTIFICATE: "admin:accounts_certificate_change",
        ReviewEvent.Subject.ACCOUNT: "admin:accounts_user_change",
    }

    @admin.display(description="对象")
    def object_link(self, obj):
        url = reverse(self._admin_for_subject[obj.subject], args=[obj.object_id])
        return format_html('<a href="{}">{} #{}</a>', url, obj.get_subject_display(), obj.object_id)

    @admin.display(description="状态变化")
    def transition(self, obj):
        return obj.transition_display()

    @admin.display(description="详情")
    def details(self, obj):
        return readable_data(obj.data)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# A second factor changes only through the audited reset on the user list: django-otp's own admin pages
# (which would show the keys and let devices be edited or deleted silently) are not offered.
for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)
