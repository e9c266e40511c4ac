"""The mediation agreement (调解协议书) as an A4 PDF that shows Chinese in every viewer.

Same approach as the e-contract (:mod:`jobs.pdf`): fpdf2 with WenQuanYi Micro Hei from the
``paperang-p2-fonts-cjk`` wheel, embedded as a CID TrueType subset with a ToUnicode map, so text
extractors get the Chinese back. The page set-up (margins, footer, line breaking with 避头尾) is the
contract's; the body printed is exactly the stored text the SHA-256 was taken over, followed by the
digest and the three signatures.
"""

from __future__ import annotations

from fpdf.enums import XPos, YPos

from jobs.pdf import ACCENT, BOX, FONT, INK, MUTED, RULE, DocumentPDF, moment_text

from .models import Agreement
from .services import content_hash

PLATFORM = "零工市场纠纷调解室"
SECTION_PREFIXES = ("一、", "二、", "三、", "四、", "当事人")


def render_agreement_pdf(agreement: Agreement) -> bytes:
    case = agreement.case
    lines = agreement.body.splitlines()
    title = lines[0].strip() if lines else "人民调解协议书"
    pdf = DocumentPDF(footer_text=f"{PLATFORM} · {case.number} · SHA-256 {agreement.content_hash[:16]}…")
    pdf.set_title(f"{title} {case.number}")
    pdf.set_author(PLATFORM)
    pdf.set_creator(PLATFORM)
    pdf.set_keywords(f"SHA-256 {agreement.content_hash}")
    pdf.set_lang("zh-CN")
    pdf.set_creation_date(agreement.created_at)
    pdf.add_page()

    pdf.set_font(FONT, size=9)
    pdf.set_text_color(*ACCENT)
    pdf.cell(0, 5, PLATFORM, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.heading(title, size=20)
    pdf.ln(1)
    status = {
        Agreement.Status.SIGNED: "已生效",
        Agreement.Status.PROPOSED: "待确认，尚未生效",
    }.get(agreement.status, agreement.get_status_display())
    pdf.paragraph(f"状态：{status}", size=9.5, colour=INK if agreement.status == "signed" else ACCENT)
    pdf.ln(1)
    pdf.rule(ACCENT, 0.6)
    pdf.ln(3)
    for raw in lines[1:]:
        line = raw.strip()
        if not line:
            pdf.ln(1.2)
        elif line.startswith(SECTION_PREFIXES):
            pdf.heading(line, size=11.5)
            pdf.ln(0.6)
        else:
            pdf.paragraph(line, indent=2)

    pdf.ln(4)
    if pdf.will_page_break(70):
        pdf.add_page()
    intact = content_hash(agreement.body) == agreement.content_hash
    top = pdf.get_y()
    pdf.set_fill_color(*BOX)
    pdf.rect(pdf.l_margin, top, pdf.epw, 17, style="F")
    pdf.set_xy(pdf.l_margin + 4, top + 2)
    pdf.set_font(FONT, size=8.5)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 4.5, "协议正文摘要（SHA-256）", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(pdf.l_margin + 4)
    pdf.set_font(FONT, size=9.5)
    pdf.set_text_color(*INK)
    pdf.cell(0, 5.5, agreement.content_hash, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(pdf.l_margin + 4)
    pdf.set_font(FONT, size=8)
    pdf.set_text_color(*(MUTED if intact else ACCENT))
    pdf.cell(0, 4, "正文与摘要一致。" if intact else "警告：正文与保存的摘要不一致！")
    pdf.set_y(top + 21)

    pdf.heading("签名确认", size=12)
    pdf.ln(1.5)
    signers = [
        ("劳动者", "短信验证码确认", agreement.worker_signed_at),
        ("用工方", "短信验证码确认", agreement.employer_signed_at),
        ("调解员", "签名", agreement.mediator_signed_at),
    ]
    third = pdf.epw / 3
    top = pdf.get_y()
    for index, (who, how, when) in enumerate(signers):
        x = pdf.l_margin + index * third
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(0.3)
        pdf.rect(x, top, third - 2, 22)
        pdf.set_xy(x + 2, top + 2.5)
        pdf.set_font(FONT, size=9)
        pdf.set_text_color(*MUTED)
        pdf.cell(third - 6, 4.5, who)
        pdf.set_xy(x + 2, top + 9)
        pdf.set_text_color(*(INK if when else ACCENT))
        pdf.cell(third - 6, 4.5, how if when else "未确认")
        pdf.set_xy(x + 2, top + 15)
        pdf.set_font(FONT, size=7.5)
        pdf.cell(third - 6, 4.5, moment_text(when) if when else "")
    pdf.set_y(top + 26)
    return bytes(pdf.output())
