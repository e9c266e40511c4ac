"""The e-contract (电子协议) as an A4 PDF that shows Chinese in every viewer.

The font is WenQuanYi Micro Hei (文泉驿微米黑, Apache-2.0), a TrueType face shipped inside the
``paperang-p2-fonts-cjk`` wheel; fpdf2 embeds the subset of glyphs the document uses (CID TrueType,
Identity-H, with a ToUnicode map), so nothing is downloaded at run time, a reader needs no Chinese font of
its own, and text extractors and screen readers get the text back. (Noto Sans SC, shipped as CFF/OTF,
embeds too, but through an embedded CMap that pypdf and pdfminer cannot read.)

The body is printed exactly as stored — the text the SHA-256 was taken over — followed by the digest and
who confirmed the agreement when.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import logging

from django.utils import timezone
from fpdf import FPDF
from fpdf.enums import Align, TextMode, XPos, YPos

from .contract import content_hash

# fontTools reports every subsetting step at INFO; the root logger would print them for each download.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT = "WenQuanYiMicroHei"
FONT_PATH = importlib.resources.files("paperang_p2_fonts_cjk") / "fonts" / "wqy-microhei.ttc"
PLATFORM = "零工市场"
NOT_CONFIRMED = "未确认"

INK = (33, 37, 41)
MUTED = (108, 117, 125)
ACCENT = (176, 42, 42)
RULE = (200, 204, 208)
BOX = (246, 247, 249)
# Closing punctuation that must not begin a line.
NO_LINE_START = frozenset("，。、；：？！）》」』”’…—,.;:?!)")


def moment_text(value: dt.datetime | None) -> str:
    return f"{timezone.localtime(value):%Y年%m月%d日 %H:%M:%S}" if value else NOT_CONFIRMED


class DocumentPDF(FPDF):
    """A4 portrait with a running footer (order number, page x / n)."""

    def __init__(self, *, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text
        self.add_font(FONT, "", str(FONT_PATH), collection_font_number=0)  # 0: proportional, 1: mono
        self.set_margins(left=20, top=18, right=20)
        self.set_auto_page_break(auto=True, margin=20)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FONT, size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self.footer_text, align=Align.L)
        self.set_x(self.l_margin)
        self.cell(0, 5, f"第 {self.page_no()} / {{nb}} 页", align=Align.R)

    # ---------------------------------------------------------------------------------------- pieces

    def wrap(self, text: str, width: float) -> list[str]:
        """Break ``text`` into lines no wider than ``width`` (mm), character by character as Chinese is
        set, keeping closing punctuation off the start of a line (避头尾: it hangs into the margin)."""
        lines: list[str] = []
        current = ""
        for char in text:
            if current and self.get_string_width(current + char) > width and char not in NO_LINE_START:
                lines.append(current)
                current = ""
            current += char
        if current or not lines:
            lines.append(current)
        return lines

    def heading(self, text: str, *, size: float) -> None:
        # Only the regular weight is shipped: headings get a thin outline stroke to read as bold.
        self.set_font(FONT, size=size)
        self.set_text_color(*INK)
        self.set_draw_color(*INK)
        self.set_line_width(0.15)
        self.text_mode = TextMode.FILL_STROKE
        for line in self.wrap(text, self.epw):
            self.cell(0, size * 0.5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.text_mode = TextMode.FILL

    def paragraph(
        self, text: str, *, size: float = 10, colour=INK, indent: float = 0, width: float | None = None
    ) -> None:
        self.set_font(FONT, size=size)
        self.set_text_color(*colour)
        x = self.get_x() if width is not None else self.l_margin + indent
        width = width if width is not None else self.epw - indent
        for line in self.wrap(text, width):
            self.set_x(x)
            self.cell(width, size * 0.52, line, new_x=XPos.LEFT, new_y=YPos.NEXT)

    def rule(self, colour=RULE, width: float = 0.3) -> None:
        self.set_draw_color(*colour)
        self.set_line_width(width)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())


def _is_clause(line: str) -> bool:
    return line.startswith("第") and "条" in line[:6]


def render_contract_pdf(contract) -> bytes:
    """The contract of one order as PDF bytes: header, the stored clauses, SHA-256, signature block."""
    order = contract.order
    employer = order.employer
    worker = order.worker
    realname = getattr(worker, "realname", None)
    worker_name = realname.name if realname else worker.name
    order_no = f"GM-{order.pk:08d}"
    lines = contract.body.splitlines()
    title = lines[0].strip() if lines else "零工服务协议"
    body = lines[1:]

    pdf = DocumentPDF(footer_text=f"{PLATFORM} · 电子协议 {order_no} · SHA-256 {contract.content_hash[:16]}…")
    pdf.set_title(f"{title} {order_no}")
    pdf.set_subject(f"订单 {order_no} 的电子协议")
    pdf.set_author(PLATFORM)
    pdf.set_creator(PLATFORM)
    pdf.set_keywords(f"SHA-256 {contract.content_hash}")
    pdf.set_lang("zh-CN")
    pdf.set_creation_date(contract.created_at)  # the same contract gives the same file
    pdf.add_page()

    # ------------------------------------------------------------------------------------- header
    pdf.set_font(FONT, size=9)
    pdf.set_text_color(*ACCENT)
    pdf.cell(0, 5, f"{PLATFORM} · 电子协议", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.heading(title, size=20)
    pdf.ln(1)
    status = "双方已确认，协议生效" if contract.is_signed else "待双方确认，尚未生效"
    meta = [
        (("协议编号：", order_no, INK), ("订单号：", str(order.pk), INK)),
        (
            ("生成时间：", moment_text(contract.created_at), INK),
            ("协议状态：", status, INK if contract.is_signed else ACCENT),
        ),
    ]
    pdf.set_font(FONT, size=9.5)
    for row in meta:
        for label, value, colour in row:
            pdf.set_text_color(*MUTED)
            pdf.cell(19, 5.5, label)
            pdf.set_text_color(*colour)
            pdf.cell(pdf.epw / 2 - 19, 5.5, value)
        pdf.ln(5.5)
    pdf.ln(2)
    pdf.rule(ACCENT, 0.6)
    pdf.ln(3)

    # ------------------------------------------------------------------------------------ clauses
    for raw in body:
        line = raw.strip()
        if not line:
            pdf.ln(1.2)
        elif line.startswith("协议编号") and order_no in line:
            continue  # printed in the header, in the same words
        elif _is_clause(line):
            pdf.ln(0.5)
            pdf.heading(line, size=11.5)
            pdf.ln(0.6)
        else:
            pdf.paragraph(line, indent=2)

    # ------------------------------------------- digest and signatures, kept together on one page
    pdf.ln(4)
    if pdf.will_page_break(64):
        pdf.add_page()
    intact = content_hash(contract.body) == contract.content_hash
    top = pdf.get_y()
    pdf.set_fill_color(*BOX)
    pdf.rect(pdf.l_margin, top, pdf.epw, 17, style="F")
    pdf.set_xy(pdf.l_margin + 4, top + 2)
    pdf.set_font(FONT, size=8.5)
    pdf.set_text_color(*MUTED)
    pdf.cell(
        0,
        4.5,
        f"协议正文摘要（SHA-256） · 模板版本 {contract.template_version}",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_x(pdf.l_margin + 4)
    pdf.set_font(FONT, size=9.5)
    pdf.set_text_color(*INK)
    pdf.cell(0, 5.5, contract.content_hash, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(pdf.l_margin + 4)
    pdf.set_font(FONT, size=8)
    pdf.set_text_color(*(MUTED if intact else ACCENT))
    check = "正文与摘要一致，内容以平台保存的版本为准。" if intact else "警告：正文与保存的摘要不一致！"
    pdf.cell(0, 4, check, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(top + 21)

    pdf.heading("签署确认（短信验证码）", size=12)
    pdf.ln(1.5)
    employer_by = contract.employer_signed_by
    parties = [
        (
            "用工方（甲方）",
            employer.name or employer.contact_name or employer.legal_representative,
            f"由 {employer_by.name} 确认" if employer_by else "已确认",
            contract.employer_signed_at,
        ),
        ("劳动者（乙方）", worker_name, "本人确认", contract.worker_signed_at),
    ]
    half = pdf.epw / 2
    top = pdf.get_y()
    for index, (side, name, how, when) in enumerate(parties):
        x = pdf.l_margin + index * half + (3 if index else 0)
        width = half - 3
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(0.3)
        pdf.rect(x, top, width, 27)
        pdf.set_xy(x + 3, top + 2.5)
        pdf.set_font(FONT, size=8.5)
        pdf.set_text_color(*MUTED)
        pdf.cell(width - 6, 4.5, side)
        pdf.set_xy(x + 3, top + 8)
        pdf.paragraph(name or "—", size=11, width=width - 6)
        pdf.set_xy(x + 3, top + 20)
        pdf.set_font(FONT, size=9)
        pdf.set_text_color(*(INK if when else ACCENT))
        pdf.cell(width - 6, 4.5, f"{how} · {moment_text(when)}" if when else f"状态：{NOT_CONFIRMED}")
    pdf.set_y(top + 30)
    pdf.paragraph(
        "本协议由双方在平台上以短信验证码确认，确认时间由平台记录；"
        "如对内容有疑问，可凭订单编号到服务网点核验。",
        size=8,
        colour=MUTED,
    )
    return bytes(pdf.output())
