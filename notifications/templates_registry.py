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
    ]
}


def render(key: str, params: dict) -> str:
    return TEMPLATES[key].text.format(**params)
