"""Message templates per event. ``provider_code`` is the template code registered with the SMS provider;
``text`` renders the same message locally (outbox, console, in-app)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessageTemplate:
    key: str
    provider_code: str
    text: str
    marketing: bool = False


TEMPLATES: dict[str, MessageTemplate] = {
    t.key: t
    for t in [
        MessageTemplate(
            "phone_code",
            "SMS_GM_CODE",
            "您的验证码为{code}，{minutes}分钟内有效，用于{purpose}。请勿告诉他人。",
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
        ),
        MessageTemplate(
            "claim_confirmed",
            "SMS_GM_CLAIM_OK",
            "您已成功接单：{post}，{start}开工，地点{place}。请准时到岗签到。",
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
            "claim_approved", "SMS_GM_CLAIM_PAID", "您的理赔{number}已核准，赔付{amount}元已到您的钱包。"
        ),
        MessageTemplate(
            "claim_rejected",
            "SMS_GM_CLAIM_REJECTED",
            "您的理赔{number}未获赔付，原因：{reason}。如有疑问请到就近零工服务网点咨询。",
        ),
        # notifications (reminders, settlement, digests)
        # matching (活找人)
        # disputes (纠纷调解)
        # hall and outreach (大厅、回访、培训)
    ]
}


def render(key: str, params: dict) -> str:
    return TEMPLATES[key].text.format(**params)
