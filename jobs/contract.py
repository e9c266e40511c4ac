"""The e-contract (电子协议) of an order: a service agreement with the clauses the Civil Code (art. 470)
expects — parties, subject, place and time, pay, liability, dispute resolution. The text is fixed when the
order is confirmed and identified by its SHA-256; each side confirms it with an SMS code."""

from __future__ import annotations

import hashlib

from django.utils import timezone

from core.masking import mask_id_number

TEMPLATE_VERSION = "2026.1"


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}元"


def render_contract(order) -> str:
    post = order.post
    employer = order.employer
    worker = order.worker
    realname = getattr(worker, "realname", None)
    local = timezone.localtime
    worker_id = mask_id_number(realname.id_number) if realname else "（未实名）"
    employer_id = (
        f"统一社会信用代码 {employer.uscc}" if employer.uscc else f"居民 {employer.legal_representative}"
    )
    lines = [
        "零工服务协议",
        f"协议编号：GM-{order.pk:08d}",
        "",
        "第一条 协议双方",
        f"用工方（甲方）：{employer.name}（{employer_id}），联系人 {post.contact_name}。",
        f"劳动者（乙方）：{realname.name if realname else worker.name}（身份证 {worker_id}）。",
        "双方通过零工市场平台自愿订立本协议，平台提供信息发布、撮合与监管服务，不是本协议的当事人。",
        "",
        "第二条 工作内容",
        f"工种：{post.trade.name}。岗位：{post.title}。",
        f"具体内容：{post.description or '按岗位说明'}",
        "",
        "第三条 工作地点和时间",
        f"地点：{post.area.name} {post.address}。",
        f"时间：{local(order.starts_at):%Y年%m月%d日 %H:%M} 至 {local(order.ends_at):%Y年%m月%d日 %H:%M}。",
        "",
        "第四条 报酬及支付",
        f"报酬标准：{_yuan(post.pay_fen)}/{post.get_pay_unit_display()}，预计数量 {post.quantity}，"
        f"预计金额 {_yuan(post.expected_amount_fen)}。",
        "实际金额按甲方确认（或超时自动确认）的数量计算，经平台线上结算，完工确认后支付至乙方钱包，"
        "甲方不得拖欠、克扣。",
        "",
        "第五条 取消与违约",
        "乙方接单后按平台公示的规则可免费取消；超出免费时间取消或无故未到岗的，记入乙方信用记录。"
        "甲方在开工前临近时间取消的，按平台公示的比例向乙方支付补偿。",
        "",
        "第六条 安全与责任",
        "甲方应提供必要的安全条件和劳动防护用品，如实告知作业风险；特种作业须由持有效证书的人员从事。"
        "乙方应遵守安全操作规程。订单投保意外险的，发生意外按保险条款理赔。",
        "",
        "第七条 争议解决",
        "发生争议的，双方可通过平台一键投诉，由零工市场纠纷调解室调解；调解不成的，"
        "可依法申请劳动人事争议仲裁或向人民法院起诉。",
        "",
        "第八条 其他",
        "本协议经双方通过短信验证码确认后生效，与书面协议具有同等效力。协议内容以平台保存的版本"
        "及其摘要值为准。",
    ]
    return "\n".join(lines)


def content_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
