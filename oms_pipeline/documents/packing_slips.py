"""Packing slips as PDF (fpdf2): one slip per page, a file per shipment and one bulk file per batch.

Text is set in DejaVu Sans when the system has it (any script a customer writes in); otherwise in
the PDF core font Helvetica, which covers Latin-1 only, so other characters print as ``?``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from oms_pipeline.domain.packing_slips import PackingSlip

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
              Path("/usr/local/share/fonts"))
_UNICODE_FONT = "DejaVu"


def _unicode_font() -> tuple[Path, Path] | None:
    for folder in _FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


class _SlipPDF(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(18, 18, 18)
        fonts = _unicode_font()
        if fonts:
            self.add_font(_UNICODE_FONT, "", str(fonts[0]))
            self.add_font(_UNICODE_FONT, "B", str(fonts[1]))
            self.family_name, self.unicode = _UNICODE_FONT, True
        else:
            self.family_name, self.unicode = "Helvetica", False

    def text_of(self, value: str) -> str:
        """Text the current font can set."""
        return value if self.unicode else value.encode("latin-1", "replace").decode("latin-1")

    def write_line(self, value: str, *, size: float = 10, bold: bool = False, height: float = 6) -> None:
        self.set_font(self.family_name, "B" if bold else "", size)
        self.multi_cell(0, height, self.text_of(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def _draw(pdf: _SlipPDF, slip: PackingSlip) -> None:
    pdf.add_page()
    pdf.write_line(slip.store_name, size=18, bold=True, height=9)
    pdf.write_line("Packing slip", size=12)
    pdf.ln(3)
    pdf.write_line(f"Order {slip.order_number}", size=13, bold=True)
    pdf.write_line(f"Order date: {slip.order_date.isoformat()}")
    pdf.write_line(f"Shipment: {slip.shipment_ref}")
    if slip.ship_to:
        pdf.ln(2)
        pdf.write_line("Ship to", bold=True)
        for line in slip.ship_to:
            pdf.write_line(line)
    pdf.ln(4)
    widths = (35, 85, 15, 39) if slip.show_prices else (40, 119, 15)
    heads = ("SKU", "Item", "Qty", "Price") if slip.show_prices else ("SKU", "Item", "Qty")
    pdf.set_font(pdf.family_name, "B", 10)
    for width, head in zip(widths, heads, strict=True):
        pdf.cell(width, 7, head, border="B", align="R" if head in ("Qty", "Price") else "L")
    pdf.ln(7)
    pdf.set_font(pdf.family_name, "", 10)
    for line in slip.lines:
        cells = [line.sku, line.title, str(line.quantity)]
        if slip.show_prices:
            cells.append(_money(line.line_total, slip.currency) if line.line_total is not None else "")
        for width, value, head in zip(widths, cells, heads, strict=True):
            text = pdf.text_of(value)
            while len(text) > 3 and pdf.get_string_width(text) > width - 2:  # one line per row: shorten
                text = text[:-2] + "…" if pdf.unicode else text[:-4] + "..."
            pdf.cell(width, 7, text, align="R" if head in ("Qty", "Price") else "L")
        pdf.ln(7)
    pdf.ln(2)
    pdf.write_line(f"Units in this shipment: {slip.units}", bold=True)
    if slip.show_prices and slip.total is not None:
        pdf.write_line(f"Merchandise total: {_money(slip.total, slip.currency)}", bold=True)
    if slip.gift_message:
        pdf.ln(6)
        pdf.write_line("Gift message", size=12, bold=True)
        pdf.write_line(slip.gift_message, size=12, height=7)
    pdf.ln(8)
    pdf.write_line("Thank you for your order.", size=9)


def render_slips(slips: Sequence[PackingSlip]) -> bytes:
    """A PDF with one page per slip (empty input: a one-page PDF saying so)."""
    pdf = _SlipPDF()
    pdf.set_title("Packing slips")
    for slip in slips:
        _draw(pdf, slip)
    if not slips:
        pdf.add_page()
        pdf.write_line("No packing slips in this batch.")
    return bytes(pdf.output())


def write_slips(slips: Sequence[PackingSlip], folder: Path, bulk_name: str) -> tuple[list[Path], Path]:
    """One PDF per slip and one bulk PDF of them all under ``folder``: (slip paths, bulk path)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for slip in slips:
        path = folder / f"slip_{slip.file_stem}.pdf"
        path.write_bytes(render_slips([slip]))
        paths.append(path)
    bulk = folder / f"{bulk_name}.pdf"
    bulk.write_bytes(render_slips(slips))
    return paths, bulk
