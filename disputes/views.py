"""Dispute pages: a party's cases (我的纠纷) and filing from an order; the mediator's workspace (调解工作台);
the hall staff's queue (accept, assign, decline, oral complaints, fake-post reports).

Each view finds its case through a selector that refuses everyone else (DoesNotExist → 404), validates its
form, calls one service and redirects; a service's error is shown on the field it names.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import apply_service_error
from accounts.models import User
from core.errors import DomainError
from core.masking import mask_name, mask_phone
from core.services import client_ip
from core.uploads import upload_response
from jobs import selectors as job_selectors
from jobs.models import Order, Post

from . import extensions, selectors, services
from .forms import (
    AcceptForm,
    AgreementForm,
    CodeForm,
    EvidenceForm,
    ExtensionForm,
    FileForm,
    MessageForm,
    MinutesForm,
    NoteForm,
    OralForm,
    ReasonForm,
    RecoveryForm,
    ReportForm,
    ReviewForm,
    SessionForm,
    TransferForm,
)
from .models import Agreement, Case, Evidence, Extension, Recovery, Session

SERVICE_ERRORS = (DomainError, ValidationError)


def _error_text(exc) -> str:
    return exc.message if isinstance(exc, DomainError) else "；".join(exc.messages)


def _404(getter, **kwargs):
    try:
        return getter(**kwargs)
    except (Case.DoesNotExist, Order.DoesNotExist, Post.DoesNotExist) as exc:
        raise Http404("没有这个案件") from exc


EVENT_TEXT = {
    Case.Status.FILED: "提交调解申请",
    Case.Status.ACCEPTED: "已受理，分派调解员",
    Case.Status.DECLINED: "不予受理",
    Case.Status.MEDIATING: "开始调解",
    Case.Status.AGREED: "调解成功，协议生效",
    Case.Status.FAILED: "调解不成",
    Case.Status.CLOSED: "结案",
    Case.Status.TRANSFERRED: "移交",
}
AGREEMENT_TEXT = {
    "proposed": "调解员拟好调解协议书",
    "signed": "{side}确认了调解协议书",
    "rejected": "{side}拒绝了调解协议书",
}


def _event_rows(case: Case, *, side: str | None) -> list[dict]:
    rows = []
    for event in selectors.timeline(case=case, side=side):
        data = event.data or {}
        if event.kind == "status":
            text = EVENT_TEXT.get(event.to_status, event.to_status)
            if data.get("reason"):
                text += f"：{data['reason']}"
            if event.to_status == Case.Status.AGREED:
                text += f"，已付劳动者 {int(data.get('recovered_fen') or 0) / 100:.2f} 元"
            if event.to_status == Case.Status.TRANSFERRED:
                text += f"至{data.get('organisation', '')}"
        elif event.kind == "session":
            text = f"安排调解：{timezone.localtime(dt.datetime.fromisoformat(data['starts_at'])):%m月%d日 %H:%M}，{data.get('room', '')}"
        elif event.kind == "message":
            text = f"调解员留言：{data.get('text', '')}"
        elif event.kind == "evidence":
            text = f"补充证据 {len(data.get('files', []))} 份"
        elif event.kind == "agreement":
            label = Case.Side(data["side"]).label if data.get("side") in Case.Side.values else ""
            text = AGREEMENT_TEXT.get(data.get("action"), "协议").format(side=label)
        elif event.kind == "assign":
            text = "改派调解员"
        elif event.kind == "extension":
            text = _extension_text(data)
        elif event.kind == "recovery":
            text = (f"登记线下追回工资 {int(data.get('amount_fen') or 0) / 100:.2f} 元（{data.get('method_label', '')}，"
                    f"{data.get('paid_on', '')} 支付{'，附收据' if data.get('receipt') else ''}）")  # fmt: skip
        elif event.kind == "deadline":
            text = "已超过调解期限" if data.get("flag") == "overdue" else "临近调解期限，已提醒调解员"
        else:
            text = event.kind
        rows.append({"at": event.created_at, "text": text, "kind": event.kind})
    return rows


def _extension_text(data: dict) -> str:
    action = data.get("action")
    side = Case.Side(data["side"]).label if data.get("side") in Case.Side.values else ""
    if action == "proposed":
        deadline = timezone.localtime(dt.datetime.fromisoformat(data["new_deadline"]))
        return f"调解员申请延期至 {deadline:%m月%d日 %H:%M}：{data.get('reason', '')}"
    if action == "agreed":
        return f"{side}同意延期"
    if action == "rejected":
        return f"{side}不同意延期：{data.get('reason', '')}"
    if action == "applied":
        deadline = timezone.localtime(dt.datetime.fromisoformat(data["new_deadline"]))
        return f"经双方同意，调解期限延长至 {deadline:%m月%d日 %H:%M}"
    return "延期"


def _parties(case: Case, *, unmasked: dict | None = None) -> list[dict]:
    """Both sides for the workspace: names and phones masked unless just unmasked (audited)."""
    worker_name = services._person_name(case.worker) if case.worker_id else (
        case.complainant_name if case.complainant_side == "worker" else case.respondent_name
    )  # fmt: skip
    worker_phone = case.worker.phone if case.worker_id else (
        case.complainant_phone if case.complainant_side == "worker" else ""
    )  # fmt: skip
    employer_name = case.employer.name if case.employer_id else (
        case.complainant_name if case.complainant_side == "employer" else case.respondent_name
    )  # fmt: skip
    rows = [
        {"side": "劳动者", "name": mask_name(worker_name), "phone": mask_phone(worker_phone),
         "complainant": case.complainant_side == "worker"},
        {"side": "用工方", "name": employer_name, "phone": "",
         "complainant": case.complainant_side == "employer"},
    ]  # fmt: skip
    if unmasked:
        rows[0]["name"], rows[0]["phone"] = unmasked.get("worker", f"{worker_name} {worker_phone}"), ""
        rows[1]["phone"] = unmasked.get("employer", "")
    return rows


PHONE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _redacted(text: str, case: Case) -> str:
    """The order's contract for the workspace: the worker's name and any mobile number masked."""
    if case.worker_id:
        name = services._person_name(case.worker)
        if len(name) >= 2:
            text = text.replace(name, mask_name(name))
    return PHONE_RE.sub(lambda m: mask_phone(m.group()), text)


def _case_context(case: Case) -> dict:
    return {
        "case": case,
        "flag": selectors.deadline_flag(case),
        "evidence": list(case.evidence.all()),
        "sessions": list(case.sessions.all()),
        "next_session": selectors.next_session(case=case),
        "agreement": selectors.live_agreement(case=case),
        "agreements": list(case.agreements.all()),
        "extension": extensions.live_extension(case=case),
        "extended": case.extensions.filter(status=Extension.Status.APPLIED).first(),
        "recoveries": list(case.recoveries.all()),
    }


# ---------------------------------------------------------------------------------------- parties


@login_required
def my_cases(request):
    cases = list(selectors.cases_for_party(user=request.user)[:100])
    return render(request, "disputes/my_cases.html", {"cases": cases})


@login_required
@require_http_methods(["GET", "POST"])
def file_from_order(request, order_pk: int):
    order = _404(job_selectors.order_for_party, pk=order_pk, user=request.user)
    form = FileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.case_file(
                actor=request.user, order=order, category=data["category"], description=data["description"],
                amount_claimed_fen=data["amount_claimed"], request=data["request"],
                evidence=[data["evidence"]] if data.get("evidence") else [],
            )  # fmt: skip
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc, {"amount_claimed_fen": "amount_claimed", "file": "evidence"})
        else:
            messages.success(request, f"已提交调解申请（{case.number}），托管的报酬在调解结束前冻结")
            return redirect("disputes:case", pk=case.pk)
    status = 400 if form.errors else 200
    return render(request, "disputes/file.html", {"form": form, "order": order}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def report_post(request, post_pk: int):
    post = _404(Post.objects.filter(status__in=(Post.Status.OPEN, Post.Status.FILLED)).get, pk=post_pk)
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_report_post(
                actor=request.user, post=post, description=form.cleaned_data["description"]
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "谢谢您的举报，岗位已暂停展示，工作人员会尽快核实")
            return redirect("disputes:case", pk=case.pk)
    return render(
        request, "disputes/report.html", {"form": form, "post": post}, status=400 if form.errors else 200
    )


def _party_page(request, case: Case, *, status: int = 200, **forms):
    side = services.party_side(case, request.user)
    agreement = selectors.live_agreement(case=case)
    context = {
        **_case_context(case),
        "side": side,
        "side_label": Case.Side(side).label,
        "timeline": _event_rows(case, side=side),
        "i_signed": bool(agreement and getattr(agreement, f"{side}_signed_at")),
        "agreement_text": agreement.body if agreement else "",
        "my_phone": mask_phone(request.user.phone),
        "code_sent": forms.pop("code_sent", False),
        "evidence_form": forms.get("evidence_form") or EvidenceForm(),
        "code_form": forms.get("code_form") or CodeForm(),
        "reject_form": forms.get("reject_form") or ReasonForm(label="不同意的原因"),
        "extension_code_form": forms.get("extension_code_form") or CodeForm(),
        "extension_reject_form": forms.get("extension_reject_form") or ReasonForm(label="不同意的原因"),
        "extension_code_sent": forms.pop("extension_code_sent", False),
    }
    extension = context["extension"]
    context["i_agreed_extension"] = bool(extension and getattr(extension, f"{side}_agreed_at"))
    return render(request, "disputes/case_party.html", context, status=status)


@login_required
def case_detail(request, pk: int):
    return _party_page(request, _404(selectors.case_for_party, pk=pk, user=request.user))


@login_required
@require_POST
def evidence_upload(request, pk: int):
    case = _404(selectors.case_for_party, pk=pk, user=request.user)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.evidence_add(case=case, actor=request.user, uploads=[form.cleaned_data["file"]],
                                  note=form.cleaned_data["note"])  # fmt: skip
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "证据已上传")
            return redirect("disputes:case", pk=case.pk)
    return _party_page(request, case, evidence_form=form, status=400)


def _party_item(request, pk: int, related: str, item_pk: int, missing: str):
    """A party's case and one of its agreements or extensions (another case's: 404)."""
    case = _404(selectors.case_for_party, pk=pk, user=request.user)
    try:
        return case, getattr(case, related).get(pk=item_pk)
    except ObjectDoesNotExist as exc:
        raise Http404(missing) from exc


def _party_code(request, case: Case, send, *, form_name: str, sent_name: str):
    """Send a party the SMS code that confirms an agreement or an extension."""
    try:
        send(user=request.user, ip_address=client_ip(request))
    except SERVICE_ERRORS as exc:
        form = CodeForm()
        form.add_error(None, _error_text(exc))
        return _party_page(request, case, **{form_name: form}, status=400)
    return _party_page(request, case, **{sent_name: True})


def _party_decision(request, case: Case, form, act, *, field: str, done: str, form_name: str):
    """A party's answer (a confirming code, or a refusal with its reason): done, or the form's errors."""
    if form.is_valid():
        try:
            act(**{field: form.cleaned_data[field]})
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, done)
            return redirect("disputes:case", pk=case.pk)
    return _party_page(request, case, **{form_name: form}, status=400)


def _party_agreement(request, pk: int, agreement_pk: int) -> tuple[Case, Agreement]:
    return _party_item(request, pk, "agreements", agreement_pk, "没有这份协议")


@login_required
@require_POST
def agreement_code(request, pk: int, agreement_pk: int):
    case, agreement = _party_agreement(request, pk, agreement_pk)
    send = partial(services.agreement_code_send, agreement=agreement)
    return _party_code(request, case, send, form_name="code_form", sent_name="code_sent")


@login_required
@require_POST
def agreement_sign(request, pk: int, agreement_pk: int):
    case, agreement = _party_agreement(request, pk, agreement_pk)
    sign = partial(services.agreement_sign, agreement=agreement, user=request.user)
    return _party_decision(
        request, case, CodeForm(request.POST), sign,
        field="code", done="您已确认调解协议书", form_name="code_form",
    )  # fmt: skip


@login_required
@require_POST
def agreement_reject(request, pk: int, agreement_pk: int):
    case, agreement = _party_agreement(request, pk, agreement_pk)
    reject = partial(services.agreement_reject, agreement=agreement, user=request.user)
    return _party_decision(
        request, case, ReasonForm(request.POST, label="不同意的原因"), reject,
        field="reason", done="已告知调解员您不同意这份协议", form_name="reject_form",
    )  # fmt: skip


def _party_extension(request, pk: int, extension_pk: int) -> tuple[Case, Extension]:
    return _party_item(request, pk, "extensions", extension_pk, "没有这份延期申请")


@login_required
@require_POST
def extension_code(request, pk: int, extension_pk: int):
    case, extension = _party_extension(request, pk, extension_pk)
    send = partial(extensions.extension_code_send, extension=extension)
    return _party_code(request, case, send, form_name="extension_code_form", sent_name="extension_code_sent")


@login_required
@require_POST
def extension_agree(request, pk: int, extension_pk: int):
    case, extension = _party_extension(request, pk, extension_pk)
    agree = partial(extensions.extension_agree, extension=extension, user=request.user)
    return _party_decision(
        request, case, CodeForm(request.POST), agree,
        field="code", done="您已同意延期", form_name="extension_code_form",
    )  # fmt: skip


@login_required
@require_POST
def extension_reject(request, pk: int, extension_pk: int):
    case, extension = _party_extension(request, pk, extension_pk)
    reject = partial(extensions.extension_reject, extension=extension, user=request.user)
    return _party_decision(
        request, case, ReasonForm(request.POST, label="不同意的原因"), reject,
        field="reason", done="已告知调解员您不同意延期", form_name="extension_reject_form",
    )  # fmt: skip


def _visible_case(request, pk: int) -> Case:
    """A party, the assigned mediator or staff of the point: for files and the PDF."""
    user = request.user
    for getter in (selectors.case_for_party, selectors.case_for_desk):
        try:
            return getter(pk=pk, user=user)
        except Case.DoesNotExist:
            continue
    raise Http404("没有这个案件")


@login_required
def agreement_pdf(request, pk: int, agreement_pk: int):
    case = _visible_case(request, pk)
    try:
        agreement = case.agreements.exclude(status=Agreement.Status.SUPERSEDED).get(pk=agreement_pk)
    except Agreement.DoesNotExist as exc:
        raise Http404("没有这份协议") from exc
    from .pdf import render_agreement_pdf  # fpdf2 and the font load only when someone downloads

    response = HttpResponse(render_agreement_pdf(agreement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="agreement-{case.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def evidence_file(request, pk: int):
    """Evidence is personal data: only the case's parties, its mediator and staff of its point get it."""
    try:
        item = Evidence.objects.select_related("case").get(pk=pk)
    except Evidence.DoesNotExist as exc:
        raise Http404 from exc
    _visible_case(request, item.case_id)
    return upload_response(item.file.name, download_name=f"evidence-{item.pk}")


# ------------------------------------------------------------------------------------ the workspace


def _desk_user(request):
    user = request.user
    if user.role != User.Role.MEDIATOR and not services.is_case_staff(user):
        raise Http404("没有这个页面")


@login_required
def mediator_cases(request):
    """调解工作台: my cases, nearest deadline first, flagged."""
    if request.user.role != User.Role.MEDIATOR:
        raise Http404("没有这个页面")
    rows = [
        {"case": c, "flag": selectors.deadline_flag(c)}
        for c in selectors.cases_for_mediator(user=request.user)[:200]
    ]
    open_rows = [r for r in rows if r["case"].status in (Case.Status.ACCEPTED, Case.Status.MEDIATING)]
    other_rows = [r for r in rows if r not in open_rows]
    return render(request, "disputes/mediator_cases.html", {"open_rows": open_rows, "other_rows": other_rows})


@login_required
def staff_cases(request):
    if not services.is_case_staff(request.user):
        raise Http404("没有这个页面")
    cases = selectors.cases_for_staff(user=request.user)
    status = request.GET.get("status", "")
    if status in Case.Status.values:
        cases = cases.filter(status=status)
    rows = [{"case": c, "flag": selectors.deadline_flag(c)} for c in cases[:200]]
    return render(request, "disputes/staff_cases.html", {"rows": rows, "status": status,
                                                          "statuses": Case.Status.choices})  # fmt: skip


def _desk_page(request, case: Case, *, status: int = 200, unmasked: dict | None = None, **forms):
    user = request.user
    is_mediator = case.mediator_id == user.pk and user.role == User.Role.MEDIATOR
    contract = getattr(case.order, "contract", None) if case.order_id else None
    agreement = selectors.live_agreement(case=case)
    form_classes = {
        "accept_form": lambda: AcceptForm(mediators=selectors.mediators()),
        "decline_form": lambda: ReasonForm(label="不予受理的原因"),
        "review_form": ReviewForm,
        "session_form": SessionForm,
        "note_form": NoteForm,
        "message_form": MessageForm,
        "agreement_form": lambda: AgreementForm(initial={"facts": case.description,
                                                         "disputed_items": case.request or case.get_category_display(),
                                                         "pay_by": timezone.localdate() + dt.timedelta(days=3)}),
        "fail_form": lambda: ReasonForm(label="调解不成的原因"),
        "transfer_form": TransferForm,
        "evidence_form": EvidenceForm,
        "extension_form": ExtensionForm,
        "recovery_form": lambda: RecoveryForm(initial={"paid_on": timezone.localdate()}),
    }  # fmt: skip
    context = {
        **_case_context(case),
        "is_mediator": is_mediator,
        "is_staff_desk": services.is_case_staff(user),
        "can_unmask": user.has_perm("disputes.view_party_contact"),
        "parties": _parties(case, unmasked=unmasked),
        "timeline": _event_rows(case, side=None),
        "agreement_text": "" if agreement is None else agreement.body if unmasked else _redacted(agreement.body, case),
        "notes": list(case.private_notes.all()) if is_mediator else [],
        "order": case.order,
        "contract": contract,
        "contract_text": "" if contract is None else (contract.body if unmasked else _redacted(contract.body, case)),
        "minutes_forms": {s.pk: MinutesForm(initial={"attendees": s.attendees, "notes": s.notes})
                          for s in case.sessions.all()},
        "errors": [e for f in forms.values() if hasattr(f, "non_field_errors") for e in f.non_field_errors()],
        **{name: forms.get(name) or make() for name, make in form_classes.items()},
    }  # fmt: skip
    return render(request, "disputes/desk_case.html", context, status=status)


@login_required
def desk_case(request, pk: int):
    _desk_user(request)
    return _desk_page(request, _404(selectors.case_for_desk, pk=pk, user=request.user))


# Each workspace action: (form class factory, service call, success message).
def _run(request, pk: int, *, form_name: str, form, call, done: str):
    _desk_user(request)
    case = _404(selectors.case_for_desk, pk=pk, user=request.user)
    if form is None or form.is_valid():
        try:
            call(case, form.cleaned_data if form is not None else {})
        except SERVICE_ERRORS as exc:
            if form is None:
                from django import forms as dj_forms

                form = dj_forms.Form(data={})
                form.is_valid()
            apply_service_error(form, exc, {"worker_amount_fen": "worker_amount", "terms": "term_text",
                                            "amount_claimed_fen": "amount_claimed"})  # fmt: skip
        else:
            messages.success(request, done)
            return redirect("disputes:desk_case", pk=case.pk)
    case.refresh_from_db()
    return _desk_page(request, case, status=400, **{form_name: form})


@login_required
@require_POST
def desk_accept(request, pk: int):
    return _run(request, pk, form_name="accept_form", form=AcceptForm(request.POST, mediators=selectors.mediators()),
                call=lambda c, d: services.case_accept(case=c, actor=request.user, mediator=d["mediator"]),
                done="已受理并分派调解员")  # fmt: skip


@login_required
@require_POST
def desk_assign(request, pk: int):
    return _run(request, pk, form_name="accept_form", form=AcceptForm(request.POST, mediators=selectors.mediators()),
                call=lambda c, d: services.case_assign(case=c, actor=request.user, mediator=d["mediator"]),
                done="已改派调解员")  # fmt: skip


@login_required
@require_POST
def desk_decline(request, pk: int):
    return _run(request, pk, form_name="decline_form", form=ReasonForm(request.POST, label="不予受理的原因"),
                call=lambda c, d: services.case_decline(case=c, actor=request.user, reason=d["reason"]),
                done="已不予受理，并告知申请人")  # fmt: skip


@login_required
@require_POST
def desk_review(request, pk: int):
    return _run(request, pk, form_name="review_form", form=ReviewForm(request.POST),
                call=lambda c, d: services.case_post_review(case=c, actor=request.user, upheld=d["upheld"],
                                                            note=d["note"]),
                done="已处理举报")  # fmt: skip


@login_required
@require_POST
def desk_start(request, pk: int):
    return _run(request, pk, form_name="start_form", form=None,
                call=lambda c, d: services.case_start_mediation(case=c, actor=request.user), done="已开始调解")  # fmt: skip


@login_required
@require_POST
def desk_session(request, pk: int):
    return _run(request, pk, form_name="session_form", form=SessionForm(request.POST),
                call=lambda c, d: services.session_schedule(case=c, actor=request.user, **d),
                done="已安排调解，短信已通知双方")  # fmt: skip


@login_required
@require_POST
def desk_minutes(request, pk: int, session_pk: int):
    def call(case, data):
        try:
            session = case.sessions.get(pk=session_pk)
        except Session.DoesNotExist as exc:
            raise Http404 from exc
        services.session_record(session=session, actor=request.user, **data)

    return _run(
        request, pk, form_name="minutes_form", form=MinutesForm(request.POST), call=call, done="笔录已保存"
    )


@login_required
@require_POST
def desk_note(request, pk: int):
    return _run(request, pk, form_name="note_form", form=NoteForm(request.POST),
                call=lambda c, d: services.note_add(case=c, actor=request.user, text=d["text"]), done="笔记已保存")  # fmt: skip


@login_required
@require_POST
def desk_message(request, pk: int):
    return _run(request, pk, form_name="message_form", form=MessageForm(request.POST),
                call=lambda c, d: services.case_message(case=c, actor=request.user, text=d["text"], to=d["to"]),
                done="留言已发送")  # fmt: skip


@login_required
@require_POST
def desk_agreement(request, pk: int):
    form = AgreementForm(request.POST)

    def call(case, data):
        services.agreement_propose(
            case=case, actor=request.user, facts=data["facts"], disputed_items=data["disputed_items"],
            worker_amount_fen=data["worker_amount"], pay_by=data["pay_by"], terms=form.terms(),
        )  # fmt: skip

    return _run(
        request, pk, form_name="agreement_form", form=form, call=call, done="调解协议书已发给双方确认"
    )


@login_required
@require_POST
def desk_agreement_sign(request, pk: int, agreement_pk: int):
    def call(case, data):
        try:
            agreement = case.agreements.get(pk=agreement_pk)
        except Agreement.DoesNotExist as exc:
            raise Http404 from exc
        services.agreement_mediator_sign(agreement=agreement, actor=request.user)

    return _run(request, pk, form_name="sign_form", form=None, call=call, done="协议已生效，款项已按协议结算")


@login_required
@require_POST
def desk_extension(request, pk: int):
    form = ExtensionForm(request.POST)
    return _run(request, pk, form_name="extension_form", form=form,
                call=lambda c, d: extensions.extension_propose(case=c, actor=request.user, reason=d["reason"],
                                                               new_deadline=d["new_deadline"]),
                done="延期申请已发给双方确认")  # fmt: skip


@login_required
@require_POST
def desk_recovery(request, pk: int):
    form = RecoveryForm(request.POST, request.FILES)
    return _run(request, pk, form_name="recovery_form", form=form,
                call=lambda c, d: extensions.recovery_record(case=c, actor=request.user, amount_fen=d["amount"],
                                                             paid_on=d["paid_on"], method=d["method"], note=d["note"],
                                                             receipt=d["receipt"]),
                done="已登记线下追回工资")  # fmt: skip


@login_required
def recovery_receipt(request, pk: int, recovery_pk: int):
    """A recovery's receipt photo: for the parties, the assigned mediator and staff who see the case."""
    case = _visible_case(request, pk)
    try:
        recovery = case.recoveries.exclude(receipt="").get(pk=recovery_pk)
    except Recovery.DoesNotExist as exc:
        raise Http404("没有这张收据") from exc
    return upload_response(recovery.receipt.name, download_name=f"收据{recovery.pk}")


@login_required
@require_POST
def desk_fail(request, pk: int):
    return _run(request, pk, form_name="fail_form", form=ReasonForm(request.POST, label="调解不成的原因"),
                call=lambda c, d: services.case_fail(case=c, actor=request.user, reason=d["reason"]),
                done="已记录调解不成")  # fmt: skip


@login_required
@require_POST
def desk_close(request, pk: int):
    return _run(request, pk, form_name="close_form", form=None,
                call=lambda c, d: services.case_close(case=c, actor=request.user), done="已结案")  # fmt: skip


@login_required
@require_POST
def desk_transfer(request, pk: int):
    return _run(request, pk, form_name="transfer_form", form=TransferForm(request.POST),
                call=lambda c, d: services.case_transfer(case=c, actor=request.user, **d), done="已移交")  # fmt: skip


@login_required
@require_POST
def desk_evidence(request, pk: int):
    """Staff or the mediator upload what a party brought on paper (a photo or scan of it)."""
    form = EvidenceForm(request.POST, request.FILES)
    return _run(
        request,
        pk,
        form_name="evidence_form",
        form=form,
        call=lambda c, d: services.evidence_add(
            case=c, actor=request.user, uploads=[d["file"]], note=d["note"]
        ),
        done="证据已上传",
    )


@login_required
@require_POST
def desk_unmask(request, pk: int):
    _desk_user(request)
    case = _404(selectors.case_for_desk, pk=pk, user=request.user)
    try:
        contact = services.party_contact(case=case, actor=request.user, ip_address=client_ip(request))
    except SERVICE_ERRORS as exc:
        raise Http404(_error_text(exc)) from exc
    return _desk_page(request, case, unmasked=contact)


@login_required
@require_http_methods(["GET", "POST"])
def staff_oral(request):
    """Record a walk-in's oral complaint (art. 12)."""
    if not services.is_case_staff(request.user):
        raise Http404("没有这个页面")
    form = OralForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        order = None
        if data.get("order"):
            order = Order.objects.filter(pk=data["order"]).first()
            if order is None:
                form.add_error("order", "没有这个订单号")
        if not form.errors:
            try:
                case = services.case_record_oral(
                    staff=request.user, complainant_name=data["complainant_name"],
                    complainant_phone=data["complainant_phone"], complainant_side=data["complainant_side"],
                    respondent_name=data["respondent_name"], category=data["category"], request=data["request"],
                    description=data["description"], amount_claimed_fen=data["amount_claimed"], order=order,
                )  # fmt: skip
            except SERVICE_ERRORS as exc:
                apply_service_error(form, exc, {"amount_claimed_fen": "amount_claimed"})
            else:
                messages.success(request, f"已登记口头申请（{case.number}）")
                return redirect("disputes:desk_case", pk=case.pk)
    return render(request, "disputes/staff_oral.html", {"form": form}, status=400 if form.errors else 200)
