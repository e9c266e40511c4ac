"""The training certificate (结业证书) as an A4 landscape PDF that shows Chinese in every viewer — the same
embedded WenQuanYi Micro Hei subset as the e-contract (see :mod:`jobs.pdf`), with the verification code
anyone can check on the public verification page."""

from __future__ import annotations

from django.utils import timezone
from fpdf import FPDF
from fpdf.enums import Align, TextMode, XPos, YPos

from jobs.pdf import ACCENT, FONT, FONT_PATH, INK, MUTED, PLATFORM


def render_certificate_pdf(enrollment, *, verify_url: str) -> bytes:
    course = enrollment.course
    worker = enrollment.worker
    realname = getattr(worker, "realname", None)
    name = realname.name if realname is not None else worker.name
    pdf = FPDF(orientation="landscape", unit="mm", format="A4")
    pdf.add_font(FONT, "", str(FONT_PATH), collection_font_number=0)
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(f"结业证书 {enrollment.certificate_code}")
    pdf.set_author(PLATFORM)
    pdf.set_creator(PLATFORM)
    pdf.set_lang("zh-CN")
    pdf.set_creation_date(enrollment.certificate_issued_at)  # the same certificate gives the same file
    pdf.add_page()

    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, pdf.w - 28, pdf.h - 28)

    pdf.set_y(32)
    pdf.set_font(FONT, size=30)
    pdf.set_text_color(*ACCENT)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.3)
    pdf.text_mode = TextMode.FILL_STROKE  # only the regular weight ships: a thin stroke reads as bold
    pdf.cell(0, 16, "结 业 证 书", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.text_mode = TextMode.FILL
    pdf.ln(14)

    pdf.set_text_color(*INK)
    pdf.set_font(FONT, size=18)
    pdf.cell(0, 12, f"学员 {name}", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font(FONT, size=14)
    period = f"{course.starts_on:%Y年%m月%d日}至{course.ends_on:%Y年%m月%d日}"
    for line in (
        f"于{period}参加{course.service_point.name}举办的",
        f"“{course.title}”（{course.trade.name}）培训，",
        "完成全部课程，准予结业。",
    ):
        # Long course or point names wrap (centred) inside the frame instead of running off the page.
        pdf.set_x(30)
        pdf.multi_cell(pdf.w - 60, 9, line, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.set_y(pdf.h - 62)
    pdf.set_font(FONT, size=12)
    pdf.cell(
        0, 8, f"{course.service_point.name} · {PLATFORM}", align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    issued = timezone.localtime(enrollment.certificate_issued_at)
    pdf.cell(0, 8, f"{issued:%Y年%m月%d日}", align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.set_y(pdf.h - 40)
    pdf.set_font(FONT, size=10)
    pdf.set_text_color(*MUTED)
    pdf.cell(
        0, 6, f"证书核验码：{enrollment.certificate_code}", align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.cell(0, 6, f"核验网址：{verify_url}", align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
