"""Message templates per event. ``provider_code`` is the template code registered with the SMS provider;
``text`` renders the same message locally (outbox, console, in-app). ``secret`` names the variables only the
phone may read (one-time codes): the outbox row keeps them redacted, the delivery path alone sees them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessageTemplate:
    key: str
    provider_code: str
    text: str
    marketing: bool = False
    # Marketing templates only: which preference switch governs them ("recommendation" or "activity").
    category: str = ""
    # Variables stored encrypted beside the row for the gateway only, shown as REDACTED everywhere else.
    secret: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return (self.category or "recommendation") if self.marketing else "transactional"


TEMPLATES: dict[str, MessageTemplate] = {
    t.key: t
    for t in [
        MessageTemplate(
            "phone_code",
            "SMS_GM_CODE",
            "您的验证码为{code}，{minutes}分钟内有效，用于{purpose}。请勿告诉他人。",
            secret=("code",),
        ),
        MessageTemplate(
            "realname_decided",
            "SMS_GM_REALNAME",
            "您的实名认证{result}。{reason}如有疑问请到就近零工服务网点咨询。",
        ),
        MessageTemplate(
            "employer_decided", "SMS_GM_EMPLOYER", "您提交的用工主体“{employer}”{result}。{reason}"
        ),
        MessageTemplate(
            "certificate_decided", "SMS_GM_CERT", "您上传的证书“{certificate}”{result}。{reason}"
        ),
        MessageTemplate(
            "assisted_registration",
            "SMS_GM_ASSISTED",
            "{point}工作人员正在为您代办零工市场注册，验证码{code}，{minutes}分钟内有效。不是本人办理请勿告知他人。",
            secret=("code",),
        ),
        MessageTemplate(
            "claim_confirmed",
            "SMS_GM_CLAIM_OK",
            "您已成功接单：{post}，{start}开工，地点{place}。请准时到岗签到。",
        ),
        MessageTemplate(
            "grab_undone",
            "SMS_GM_GRAB_UNDONE",
            "很抱歉，您抢到的“{post}”未能成单（{reason}），名额已退回，您无需任何操作，也未产生任何费用。",
        ),
        MessageTemplate(
            "application_received", "SMS_GM_APPLIED", "有工人报名了您的岗位“{post}”，请及时登录查看并确认。"
        ),
        MessageTemplate(
            "application_accepted", "SMS_GM_ACCEPTED", "您报名的“{post}”已被录用，{start}开工，地点{place}。"
        ),
        MessageTemplate(
            "application_rejected",
            "SMS_GM_REJECTED",
            "很遗憾，您报名的“{post}”未被录用。{reason}可以看看其他岗位。",
        ),
        MessageTemplate(
            "application_expired",
            "SMS_GM_APP_EXPIRED",
            "您报名的“{post}”雇主未及时处理，报名已自动关闭，可以看看其他岗位。",
        ),
        MessageTemplate(
            "order_cancelled", "SMS_GM_CANCELLED", "订单“{post}”（{start}）已被{by}取消。{extra}"
        ),
        MessageTemplate("order_checked_in", "SMS_GM_CHECKIN", "工人{worker}已签到：{post}。"),
        MessageTemplate(
            "order_checked_out",
            "SMS_GM_CHECKOUT",
            "工人{worker}已签退：{post}，填报{quantity}{unit}。请在{hours}小时内确认。",
        ),
        MessageTemplate(
            "order_completed", "SMS_GM_DONE", "订单“{post}”已确认完工：{quantity}{unit}，报酬{amount}元。"
        ),
        MessageTemplate(
            "order_no_show",
            "SMS_GM_NOSHOW",
            "订单“{post}”开工后您未签到，已记为未到岗。如有误请联系服务网点。",
        ),
        MessageTemplate(
            "contract_ready", "SMS_GM_CONTRACT", "订单“{post}”的电子协议已生成，请登录查看并确认。"
        ),
        # insurance (意外险)
        MessageTemplate(
            "policy_issued",
            "SMS_GM_POLICY_OK",
            "订单“{post}”的意外险已出单，保单号{number}，保额{cover}元，签到起至签退止在保障期内。",
        ),
        MessageTemplate(
            "policy_failed",
            "SMS_GM_POLICY_FAIL",
            "订单“{post}”的意外险出单失败：{reason}。保费{premium}元已退回您的账户，请联系服务网点。",
        ),
        MessageTemplate(
            "claim_reported",
            "SMS_GM_CLAIM_REPORTED",
            "您在“{post}”的意外险报案已受理，报案号{number}，工作人员将尽快审核。",
        ),
        MessageTemplate("claim_under_review", "SMS_GM_CLAIM_REVIEW", "您的理赔{number}已进入审核。"),
        MessageTemplate(
            "claim_forwarded", "SMS_GM_CLAIM_FORWARDED", "您的理赔{number}已审核通过，已报送保险公司。"
        ),
        MessageTemplate(
            "claim_insurer_accepted", "SMS_GM_CLAIM_ACCEPTED", "保险公司已受理您的理赔{number}。"
        ),
        MessageTemplate(
            "claim_need_documents",
            "SMS_GM_CLAIM_DOCS",
            "保险公司需要您为理赔{number}补充材料：{needed}。请登录平台“我的理赔”上传。",
        ),
        MessageTemplate(
            "claim_approved", "SMS_GM_CLAIM_PAID", "您的理赔{number}已核准，赔付{amount}元已到您的钱包。"
        ),
        MessageTemplate(
            "claim_rejected",
            "SMS_GM_CLAIM_REJECTED",
            "您的理赔{number}未获赔付，原因：{reason}。如有疑问请到就近零工服务网点咨询。",
        ),
        # notifications (reminders, settlement, digests)
        MessageTemplate(
            "order_reminder",
            "SMS_GM_REMINDER",
            "提醒：您接的“{post}”将于{start}开工，地点{place}。请按时到岗签到，去不了请尽快在平台取消。",
        ),
        MessageTemplate(
            "order_settled", "SMS_GM_SETTLED", "订单“{post}”的报酬{amount}元已付到您的钱包，请登录查看。"
        ),
        MessageTemplate(
            "reconcile_alert",
            "SMS_GM_RECONCILE",
            "{date}夜间对账发现{count}个问题，例如：{first}。请到后台“欠薪预警”和账户流水核查。",
        ),
        # matching (活找人)
        MessageTemplate(
            "post_recommended",
            "SMS_GM_MATCH_PUSH",
            "为您推荐：{post}，{pay}，{place}，{start}开工（{reason}）。详情：{link}",
            marketing=True,
            category="recommendation",
        ),
        MessageTemplate(
            "post_recommended_inapp",
            "SMS_GM_MATCH_INAPP",
            "为您推荐：{post}，{pay}，{place}，{start}开工（{reason}）。详情：{link}",
        ),
        # Web Push (叮咚) of the same recommendation: title and body for the phone's notification.
        MessageTemplate(
            "post_recommended_push",
            "WEBPUSH_MATCH",
            "叮咚！新活：{post}，{pay}，{place}，{start}开工",
            marketing=True,
            category="recommendation",
        ),
        MessageTemplate(
            "post_invitation",
            "SMS_GM_MATCH_INVITE",
            "{employer}邀请您来干：{post}，{pay}，{place}，{start}开工。一键接单：{link}",
        ),
        MessageTemplate(
            "matching_digest",
            "SMS_GM_MATCH_DIGEST",
            "今天为您找到{count}个合适的活，比如“{post}”（{reason}）。去看看：{link}",
            marketing=True,
            category="recommendation",
        ),
        # disputes (纠纷调解)
        MessageTemplate(
            "case_filed",
            "SMS_GM_CASE_FILED",
            "您的调解申请已收到，编号{number}。工作人员将尽快决定是否受理。",
        ),
        MessageTemplate(
            "case_filed_against",
            "SMS_GM_CASE_AGAINST",
            "{complainant}就“{subject}”申请调解（{category}），编号{number}。工作人员将与您联系。",
        ),
        MessageTemplate(
            "case_accepted",
            "SMS_GM_CASE_ACCEPTED",
            "纠纷{number}已受理，调解员{mediator}，调解期限至{deadline}。",
        ),
        MessageTemplate("case_declined", "SMS_GM_CASE_DECLINED", "纠纷{number}不予受理，原因：{reason}。"),
        MessageTemplate(
            "case_assigned",
            "SMS_GM_CASE_ASSIGNED",
            "您有新分派的纠纷{number}，调解期限至{deadline}，请及时处理。",
        ),
        MessageTemplate(
            "case_session", "SMS_GM_CASE_SESSION", "纠纷{number}定于{time}在{room}调解，请准时参加。"
        ),
        MessageTemplate("case_message", "SMS_GM_CASE_MSG", "纠纷{number}调解员留言：{text}"),
        MessageTemplate(
            "agreement_proposed",
            "SMS_GM_AGREEMENT",
            "纠纷{number}的调解协议书已拟好，请登录查看，同意的用短信验证码确认。",
        ),
        MessageTemplate(
            "agreement_rejected", "SMS_GM_AGREEMENT_NO", "纠纷{number}的调解协议书被{party}拒绝：{reason}"
        ),
        MessageTemplate(
            "agreement_parties_signed",
            "SMS_GM_AGREEMENT_BOTH",
            "纠纷{number}的调解协议书双方已确认，请签名生效。",
        ),
        MessageTemplate(
            "case_agreed", "SMS_GM_CASE_AGREED", "纠纷{number}调解成功，按协议支付劳动者{amount}元。{extra}"
        ),
        MessageTemplate(
            "case_failed", "SMS_GM_CASE_FAILED", "纠纷{number}调解不成：{reason}。可依法申请劳动争议仲裁。"
        ),
        MessageTemplate("case_transferred", "SMS_GM_CASE_TRANSFER", "纠纷{number}已移交{to}：{note}"),
        MessageTemplate("case_closed", "SMS_GM_CASE_CLOSED", "纠纷{number}已结案。"),
        MessageTemplate(
            "case_extension_proposed",
            "SMS_GM_CASE_EXT_PROPOSED",
            "纠纷{number}的调解员申请延长调解期限至{deadline}，理由：{reason}。请登录平台用短信验证码确认或拒绝。",
        ),
        MessageTemplate(
            "case_extended", "SMS_GM_CASE_EXTENDED", "经双方同意，纠纷{number}的调解期限延长至{deadline}。"
        ),
        MessageTemplate(
            "case_extension_rejected",
            "SMS_GM_CASE_EXT_REJECTED",
            "纠纷{number}的延期申请未获同意：{reason}。",
        ),
        MessageTemplate(
            "case_recovery_recorded",
            "SMS_GM_CASE_RECOVERY",
            "纠纷{number}已登记线下追回工资{amount}元（{method}，{date}支付）。如有不符请联系调解员。",
        ),
        MessageTemplate(
            "case_deadline_near", "SMS_GM_CASE_NEAR", "纠纷{number}的调解期限{deadline}即将届满，请抓紧处理。"
        ),
        MessageTemplate(
            "case_deadline_over",
            "SMS_GM_CASE_OVER",
            "纠纷{number}已超过调解期限（{deadline}），请尽快结案或移交仲裁。",
        ),
        MessageTemplate(
            "post_hidden_for_review",
            "SMS_GM_POST_HIDDEN",
            "您的岗位“{post}”被举报，已暂停展示，待核实（编号{number}）。",
        ),
        MessageTemplate("post_review_result", "SMS_GM_POST_REVIEW", "您的岗位“{post}”核实结果：{result}。"),
        # hall and outreach (大厅、回访、培训)
        MessageTemplate(
            "outreach_training_signup",
            "SMS_GM_TRAIN_SIGNUP",
            "您已报名培训“{course}”，{start}开课，地点{place}。如不能参加请提前在“我的培训”取消。",
        ),
        MessageTemplate(
            "outreach_training_certificate",
            "SMS_GM_TRAIN_CERT",
            "恭喜您完成培训“{course}”，结业证书核验码{code}，可在“我的培训”下载证书。",
        ),
        MessageTemplate(
            "outreach_import_invite",
            "SMS_GM_IMPORT_INVITE",
            "{point}已为您登记零工市场账户，请带身份证到{point}，凭短信验证码确认开通，之后就能接活、报名培训。",
        ),
    ]
}


# What a stored row shows in place of a secret variable.
REDACTED = "******"

# Appended to every marketing SMS (the provider's registered template carries the same words).
OPT_OUT_TEXT = "退订回T"


def render(key: str, params: dict, *, channel: str = "sms") -> str:
    template = TEMPLATES[key]
    text = template.text.format(**params)
    if template.marketing and channel == "sms":
        text = f"{text}{OPT_OUT_TEXT}"
    return text


def split_secret(key: str, params: dict) -> tuple[dict, dict]:
    """(what the outbox row may keep, what only the phone may read) for a template's variables."""
    secret_names = TEMPLATES[key].secret
    public = {k: v for k, v in params.items() if k not in secret_names}
    secret = {k: str(v) for k, v in params.items() if k in secret_names}
    return public, secret


def render_redacted(key: str, public: dict, *, channel: str = "sms") -> str:
    """The text as the outbox row keeps it: every secret variable shown as REDACTED."""
    return render(key, {**public, **dict.fromkeys(TEMPLATES[key].secret, REDACTED)}, channel=channel)


# What each template is, in the words of the staff console (outbox list, filters, message titles).
LABELS: dict[str, str] = {
    "phone_code": "验证码",
    "realname_decided": "实名认证结果",
    "employer_decided": "用工主体审核结果",
    "certificate_decided": "证书审核结果",
    "assisted_registration": "代注册验证码",
    "claim_confirmed": "接单成功",
    "application_received": "收到报名",
    "application_accepted": "报名被录用",
    "application_rejected": "报名未录用",
    "application_expired": "报名自动关闭",
    "order_cancelled": "订单取消",
    "order_checked_in": "工人签到",
    "order_checked_out": "工人签退",
    "order_completed": "确认完工",
    "order_no_show": "未到岗",
    "contract_ready": "电子协议待确认",
    "policy_issued": "意外险出单",
    "policy_failed": "意外险出单失败",
    "claim_reported": "理赔报案受理",
    "claim_under_review": "理赔审核中",
    "claim_approved": "理赔核准",
    "claim_rejected": "理赔未获赔付",
    "order_reminder": "开工提醒",
    "order_settled": "报酬到账",
    "reconcile_alert": "夜间对账告警",
    "post_recommended": "岗位推荐（短信）",
    "post_recommended_inapp": "岗位推荐（站内）",
    "post_recommended_push": "岗位推荐（手机推送）",
    "post_invitation": "雇主邀请",
    "matching_digest": "每日推荐汇总",
    "case_filed": "调解申请已收到",
    "case_filed_against": "被申请调解",
    "case_accepted": "纠纷已受理",
    "case_declined": "纠纷不予受理",
    "case_assigned": "纠纷分派",
    "case_session": "调解安排",
    "case_message": "调解员留言",
    "agreement_proposed": "调解协议待确认",
    "agreement_rejected": "调解协议被拒绝",
    "agreement_parties_signed": "调解协议双方已确认",
    "case_agreed": "调解成功",
    "case_failed": "调解不成",
    "case_transferred": "纠纷移交",
    "case_closed": "纠纷结案",
    "case_deadline_near": "调解期限将至",
    "case_deadline_over": "调解已超期",
    "post_hidden_for_review": "岗位被举报暂停",
    "post_review_result": "岗位核实结果",
    "outreach_training_signup": "培训报名成功",
    "outreach_training_certificate": "培训结业证书",
    "outreach_import_invite": "批量登记开通邀请",
}

# Where a message went (``Message.backend``): the SMS backends, and in-app delivery.
BACKEND_LABELS: dict[str, str] = {
    "outbox": "数据库发件箱",
    "console": "控制台",
    "aliyun": "阿里云短信",
    "inapp": "站内消息",
    "webpush": "手机推送",
}


def template_label(key: str) -> str:
    return LABELS.get(key, key)


def backend_label(key: str) -> str:
    return BACKEND_LABELS.get(key, key or "—")
