"""Outreach pages: trainings (list, sign-up, my trainings, certificates, training-needs survey), policy and
rights articles (public), and the staff's follow-up tasks, course rosters and bulk import.

Views are thin: look the object up through a selector that refuses other people's and other points' things
(DoesNotExist → 404), validate the form, call one service, render.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import apply_service_error
from core.errors import DomainError
from core.masking import mask_name, mask_phone
from core.scoping import objects_visible_to
from core.services import audit_record, client_ip
from core.spreadsheets import CSV_TYPE, XLSX_TYPE

from . import imports, selectors, services
from .forms import FollowUpCallForm, ImportForm, TrainingNeedsForm
from .models import Article, Enrollment, FollowUp, ImportBatch

SERVICE_ERRORS = (DomainError, ValidationError)
LIST_LIMIT = 200


def _error_text(exc) -> str:
    return exc.message if isinstance(exc, DomainError) else "；".join(exc.messages)


def _get(getter, **kwargs):
    try:
        return getter(**kwargs)
    except ObjectDoesNotExist as exc:
        raise Http404("未找到") from exc


def _require_staff(request, *perms: str) -> None:
    user = request.user
    if not (user.is_active and user.is_staff and all(user.has_perm(p) for p in perms)):
        raise PermissionDenied("只有网点工作人员可以使用")


# ----------------------------------------------------------------------------------------- trainings


def course_list(request):
    courses = list(selectors.courses_open()[:LIST_LIMIT])
    mine = set()
    if request.user.is_authenticated:
        mine = set(
            Enrollment.objects.filter(worker=request.user, course__in=courses)
            .exclude(status=Enrollment.Status.CANCELLED)
            .values_list("course_id", flat=True)
        )
    return render(request, "outreach/course_list.html", {"courses": courses, "mine": mine})


def course_detail(request, pk: int):
    course = _get(selectors.course_public, pk=pk)
    enrollment = selectors.live_enrollment(user=request.user, course=course)
    return render(request, "outreach/course_detail.html", {"course": course, "enrollment": enrollment})


@login_required
@require_POST
def course_signup(request, pk: int):
    course = _get(selectors.course_public, pk=pk)
    try:
        services.training_signup(course=course, worker=request.user)
    except SERVICE_ERRORS as exc:
        messages.error(request, _error_text(exc))
        return redirect("outreach:course_detail", pk=course.pk)
    messages.success(request, f"报名成功：{course.title}。开课前会有短信提醒。")
    return redirect("outreach:my_trainings")


@login_required
def my_trainings(request):
    enrollments = selectors.enrollments_for_worker(user=request.user)[:LIST_LIMIT]
    return render(request, "outreach/my_trainings.html", {"enrollments": enrollments})


@login_required
@require_POST
def enrollment_cancel(request, pk: int):
    enrollment = _get(selectors.enrollment_for_worker, user=request.user, pk=pk)
    try:
        services.training_cancel(enrollment=enrollment, actor=request.user)
    except SERVICE_ERRORS as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "已取消报名，名额已退回。")
    return redirect("outreach:my_trainings")


@login_required
def certificate_pdf(request, pk: int):
    enrollment = _get(selectors.enrollment_for_worker, user=request.user, pk=pk)
    if enrollment.status != Enrollment.Status.COMPLETED:
        raise Http404("还没有结业证书")
    from .pdf import render_certificate_pdf  # fpdf2 and the font load only when someone downloads

    verify_url = request.build_absolute_uri(reverse("outreach:certificate_verify"))
    body = render_certificate_pdf(enrollment, verify_url=verify_url)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="certificate-{enrollment.certificate_code}.pdf"; '
        f"filename*=UTF-8''%E7%BB%93%E4%B8%9A%E8%AF%81%E4%B9%A6-{enrollment.certificate_code}.pdf"
    )
    return response


def certificate_verify(request):
    """Anyone (an employer, another market) checks a certificate by its code; the holder's name is masked."""
    code = (request.GET.get("code") or "").strip()
    enrollment = None
    if code:
        try:
            enrollment = selectors.certificate_by_code(code=code)
        except ObjectDoesNotExist:
            enrollment = None
    holder = ""
    if enrollment is not None:
        realname = getattr(enrollment.worker, "realname", None)
        holder = mask_name(realname.name if realname else enrollment.worker.name)
    return render(
        request,
        "outreach/certificate_verify.html",
        {"code": code, "enrollment": enrollment, "holder": holder},
    )


@login_required
@require_http_methods(["GET", "POST"])
def training_needs(request):
    current = [need.trade for need in selectors.training_needs_of(user=request.user)]
    form = TrainingNeedsForm(
        request.POST if request.method == "POST" else None, initial={"trades": [t.pk for t in current]}
    )
    if form.is_bound and form.is_valid():
        try:
            services.training_needs_set(worker=request.user, trades=list(form.cleaned_data["trades"]))
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "已记下您想学的技能，有合适的培训会通知您。")
            return redirect("outreach:course_list")
    return render(request, "outreach/training_needs.html", {"form": form})


# ------------------------------------------------------------------------------------------ articles


def article_list(request):
    category = request.GET.get("category", "")
    if category not in Article.Category.values:
        category = ""
    articles = selectors.articles_published(category=category)[:LIST_LIMIT]
    return render(
        request,
        "outreach/article_list.html",
        {"articles": articles, "category": category, "categories": Article.Category.choices},
    )


def article_detail(request, pk: int):
    article = _get(selectors.article_published, pk=pk)
    return render(request, "outreach/article_detail.html", {"article": article})


# --------------------------------------------------------------------------------- staff: follow-ups

TABS = [("due", "今天该打"), ("overdue", "已逾期"), ("upcoming", "还没到期"), ("done", "已完成")]


@login_required
def staff_followups(request):
    _require_staff(request, "outreach.view_followup")
    which = request.GET.get("tab", "due")
    if which not in dict(TABS):
        which = "due"
    followups = selectors.followup_queue(user=request.user, which=which)[:LIST_LIMIT]
    return render(
        request,
        "outreach/staff_followups.html",
        {"followups": followups, "tab": which, "tabs": TABS, "overdue_before": selectors.overdue_before()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def staff_followup_detail(request, pk: int):
    _require_staff(request, "outreach.view_followup")
    followup = _get(selectors.followup_for_staff, user=request.user, pk=pk)
    form = FollowUpCallForm(request.POST if request.method == "POST" else None)
    if form.is_bound:
        _require_staff(request, "outreach.change_followup")
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.followup_record_call(followup=followup, actor=request.user, **data)
            except SERVICE_ERRORS as exc:
                apply_service_error(form, exc)
            else:
                messages.success(request, "回访已记录。" if data["reached"] else "已记下未接通，稍后再打。")
                return redirect(reverse("outreach:staff_followups"))
    worker = followup.worker
    can_call = request.user.has_perm("outreach.change_followup")
    if can_call:
        # The caller needs the number; like every unmask it is written to the audit log.
        audit_record(actor=request.user, action="unmask_phone", target=worker, reason="回访",
                     data={"followup": followup.pk}, ip_address=client_ip(request))  # fmt: skip
    return render(
        request,
        "outreach/staff_followup_detail.html",
        {
            "followup": followup,
            "form": form,
            "calls": followup.calls.select_related("actor"),
            "worker_name": worker.name,
            # The number is shown in full only to staff allowed to make the call; others see it masked.
            "worker_phone": worker.phone if can_call else "",
            "worker_phone_masked": mask_phone(worker.phone),
            "open": followup.status == FollowUp.Status.OPEN,
        },
    )


# ---------------------------------------------------------------------------------- staff: trainings


@login_required
def staff_courses(request):
    _require_staff(request, "outreach.view_course")
    return render(
        request,
        "outreach/staff_courses.html",
        {"courses": selectors.courses_for_staff(user=request.user)[:LIST_LIMIT]},
    )


@login_required
def staff_course_detail(request, pk: int):
    _require_staff(request, "outreach.view_course")
    course = _get(selectors.course_for_staff, user=request.user, pk=pk)
    enrollments = (
        course.enrollments.exclude(status=Enrollment.Status.CANCELLED).select_related("worker").order_by("pk")
    )
    return render(
        request, "outreach/staff_course_detail.html", {"course": course, "enrollments": enrollments}
    )


def _staff_enrollment(request, pk: int) -> Enrollment:
    _require_staff(request, "outreach.change_enrollment")
    enrollment = _get(Enrollment.objects.select_related("course").get, pk=pk)
    _get(selectors.course_for_staff, user=request.user, pk=enrollment.course_id)  # another point's: 404
    return enrollment


@login_required
@require_POST
def staff_attendance(request, pk: int):
    enrollment = _staff_enrollment(request, pk)
    try:
        services.attendance_record(
            enrollment=enrollment, actor=request.user, attended=request.POST.get("attended") == "yes"
        )
    except SERVICE_ERRORS as exc:
        messages.error(request, _error_text(exc))
    return redirect("outreach:staff_course_detail", pk=enrollment.course_id)


@login_required
@require_POST
def staff_certificate(request, pk: int):
    enrollment = _staff_enrollment(request, pk)
    try:
        issued = services.certificate_issue(enrollment=enrollment, actor=request.user)
    except SERVICE_ERRORS as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"已发结业证书，核验码 {issued.certificate_code}")
    return redirect("outreach:staff_course_detail", pk=enrollment.course_id)


# ------------------------------------------------------------------------------------- staff: import


def _require_any_importer(request) -> None:
    user = request.user
    if not (user.is_active and user.is_staff) or not (
        user.has_perm("accounts.register_on_behalf") or user.has_perm("jobs.post_on_behalf")
    ):
        raise PermissionDenied("只有网点工作人员可以批量导入")


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request):
    _require_any_importer(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    form.fields["employer"].queryset = objects_visible_to(request.user, form.fields["employer"].queryset)
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        limit = settings.OUTREACH_IMPORT_MAX_BYTES
        try:
            if upload.size > limit:  # refused before the file is read into memory
                raise DomainError(f"文件不能超过{limit // (1024 * 1024)}MB", field="file")
            batch = imports.import_preview(
                kind=form.cleaned_data["kind"],
                actor=request.user,
                data=upload.read(),
                filename=upload.name,
                employer=form.cleaned_data.get("employer"),
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            return redirect("outreach:import_preview", pk=batch.pk)
    return render(request, "outreach/import_upload.html", {"form": form})


def _own_batch(request, pk: int) -> ImportBatch:
    _require_any_importer(request)
    return _get(ImportBatch.objects.select_related("employer").get, pk=pk, staff=request.user)


@login_required
def import_preview(request, pk: int):
    batch = _own_batch(request, pk)
    return render(
        request, "outreach/import_preview.html", {"batch": batch, "rows": batch.result.get("rows", [])}
    )


@login_required
@require_POST
def import_confirm(request, pk: int):
    batch = _own_batch(request, pk)
    try:
        batch = imports.import_confirm(batch=batch, actor=request.user)
    except SERVICE_ERRORS as exc:
        messages.error(request, _error_text(exc))
    else:
        if batch.status == ImportBatch.Status.IMPORTED:
            messages.success(request, f"已导入 {batch.row_count} 行。")
        else:
            messages.error(request, f"有 {batch.error_count} 行出错，整批没有导入。请改好后重新上传。")
    return redirect("outreach:import_preview", pk=batch.pk)


@login_required
def import_template(request, kind: str, fmt: str):
    _require_any_importer(request)
    if kind not in ImportBatch.Kind.values or fmt not in ("xlsx", "csv"):
        raise Http404("未找到")
    label = {
        "villagers": "%E6%9D%91%E6%B0%91%E7%99%BB%E8%AE%B0",
        "posts": "%E4%BB%A3%E5%8F%91%E5%B2%97%E4%BD%8D",
    }[kind]
    if fmt == "xlsx":
        body = imports.template_xlsx(kind)
        content_type = XLSX_TYPE
    else:
        body = imports.template_csv(kind)
        content_type = CSV_TYPE
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = (
        f"attachment; filename=\"import-{kind}.{fmt}\"; filename*=UTF-8''{label}-{kind}.{fmt}"
    )
    return response
