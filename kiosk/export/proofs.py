"""proofs.pdf: contact sheets the school checks, one group per 类型 and 院系.

Each page carries a grid of photos with caption lines under each (default
the notice's five: 学校名称, 学生姓名, 学号, 身份证号码, 拍摄序号) and a header
with the school, the group, the shooting date(s) and page x / y.

Why fpdf2: pure Python (its only compiled dependency, fontTools, is already
installed with matplotlib/mediapipe, and Pillow is ours), so it costs nothing
extra on a Pi; it embeds a *subset* of a TrueType collection face (Type 0 /
CIDFontType2 with a ToUnicode map, so the text also extracts) and passes JPEG
data through without re-encoding. Photos are drawn from the shrunk copies the
writer makes (see ``ExportConfig.proof_photo_width``), not the originals.

Byte-identical output: the creation date is the package's stamp, the font
subset's tag is fixed by fpdf2, and the document ID is a hash of the content.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.fonts import FontFile

if TYPE_CHECKING:
    from fpdf import FPDF

PAPER_MM = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
MARGIN_MM = 10.0
HEADER_MM = 14.0  # two header lines and a rule
FOOTER_MM = 6.0
TITLE_PT = 12.0
SUBTITLE_PT = 9.0
CAPTION_PT = 7.0  # largest caption size; shrunk per line to fit the cell
CAPTION_MIN_PT = 4.5  # below this a line is cut with "…" instead
FOOTER_PT = 7.0
PHOTO_ASPECT = 4 / 3  # height / width of the official 480 x 640 photo
GAP_MM = 2.0
PT_MM = 25.4 / 72
FOOTER_TEXT = "请逐张核对照片与下方信息：非本人、闭眼或信息有误者，请在勘误表中注明。"


@dataclass(frozen=True, slots=True)
class ProofItem:
    lines: tuple[str, ...]
    jpeg: bytes  # the shrunk copy drawn on the sheet


@dataclass(frozen=True)
class ProofGroup:
    category: str
    department: str
    dates: str  # "2026-06-03" or "2026-06-03 至 2026-06-05"
    items: Sequence[ProofItem]


@dataclass(frozen=True)
class Layout:
    """Where things go on a page (millimetres)."""

    page_w: float
    page_h: float
    columns: int
    rows: int
    cell_w: float
    cell_h: float
    photo_w: float
    photo_h: float
    line_h: float
    top: float  # y of the first grid row

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def cell_origin(self, index: int) -> tuple[float, float]:
        row, column = divmod(index, self.columns)
        return MARGIN_MM + column * self.cell_w, self.top + row * self.cell_h


def layout(paper: str, columns: int, rows: int, caption_lines: int) -> Layout:
    page_w, page_h = PAPER_MM[paper]
    top = MARGIN_MM + HEADER_MM
    usable_w = page_w - 2 * MARGIN_MM
    usable_h = page_h - top - MARGIN_MM - FOOTER_MM
    cell_w = usable_w / columns
    cell_h = usable_h / rows
    line_h = CAPTION_PT * PT_MM * 1.2
    photo_h = min(cell_h - caption_lines * line_h - 2 * GAP_MM, (cell_w - GAP_MM) * PHOTO_ASPECT)
    if photo_h < 10:
        raise ValueError(
            f"{columns} x {rows} photos with {caption_lines} caption lines do not fit on {paper}; "
            "use fewer columns or rows (export.columns / export.rows) or fewer captions"
        )
    return Layout(
        page_w=page_w,
        page_h=page_h,
        columns=columns,
        rows=rows,
        cell_w=cell_w,
        cell_h=cell_h,
        photo_w=photo_h / PHOTO_ASPECT,
        photo_h=photo_h,
        line_h=line_h,
        top=top,
    )


def page_count(group_sizes: Sequence[int], per_page: int) -> int:
    """Each group starts on a new page; an empty document still has one page."""
    return max(1, sum(max(1, math.ceil(size / per_page)) for size in group_sizes))


def render(
    *,
    school: str,
    scope: str,
    groups: Sequence[ProofGroup],
    font: FontFile,
    stamp: dt.datetime,
    paper: str = "A4",
    columns: int = 5,
    rows: int = 4,
    caption_lines: int = 5,
    on_page: Callable[[], None] | None = None,
) -> bytes:
    """The proofs as PDF bytes. ``on_page()`` is called after each page (progress)."""
    from fpdf import FPDF

    grid = layout(paper, columns, rows, caption_lines)
    pdf = FPDF(orientation="portrait", unit="mm", format=paper)
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.add_font("cjk", "", str(font.path), collection_font_number=font.index)
    pdf.set_creation_date(stamp.astimezone(dt.UTC))
    pdf.set_title(f"{school} 照片校对表")
    pdf.set_author("kiosk")
    pdf.set_creator("kiosk export")
    pdf.set_lang("zh-CN")
    pdf.set_line_width(0.15)

    total = page_count([len(g.items) for g in groups], grid.per_page)
    chunks: list[tuple[ProofGroup, Sequence[ProofItem]]] = []
    for group in groups:
        items: Sequence[ProofItem] = list(group.items)
        if not items:
            chunks.append((group, []))
        for start in range(0, len(items), grid.per_page):
            chunks.append((group, items[start : start + grid.per_page]))
    if not chunks:
        chunks.append((ProofGroup("", "", "", []), []))

    for number, (group, items) in enumerate(chunks, start=1):
        pdf.add_page()
        _header(pdf, grid, school, scope, group, number, total)
        if not items:
            pdf.set_font("cjk", size=SUBTITLE_PT)
            pdf.text(MARGIN_MM, grid.top + 10, "本组没有已交付的照片。")
        for index, item in enumerate(items):
            _cell(pdf, grid, index, item)
        _footer(pdf, grid)
        if on_page is not None:
            on_page()

    # fontTools notes the bitmap tables it drops from the subset, fpdf2 the
    # glyphs a font lacks (the writer reports those to the crew by student).
    quiet = [logging.getLogger("fontTools.subset"), logging.getLogger("fpdf.output")]
    levels = [log.level for log in quiet]
    for log in quiet:
        log.setLevel(logging.ERROR)
    try:
        return bytes(pdf.output())
    finally:
        for log, level in zip(quiet, levels, strict=True):
            log.setLevel(level)


def _header(
    pdf: FPDF, grid: Layout, school: str, scope: str, group: ProofGroup, number: int, total: int
) -> None:
    left = MARGIN_MM
    right = grid.page_w - MARGIN_MM
    y1 = MARGIN_MM + TITLE_PT * PT_MM
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", size=TITLE_PT)
    title = f"{school} 照片校对表"
    if scope:
        title += f"  {scope}"
    pdf.text(left, y1, title)
    page = f"第 {number} / {total} 页"
    pdf.text(right - pdf.get_string_width(page), y1, page)
    y2 = y1 + SUBTITLE_PT * PT_MM * 1.5
    pdf.set_font("cjk", size=SUBTITLE_PT)
    parts = [
        f"类型 {group.category or '—'}",
        f"院系 {group.department or '—'}",
        f"拍摄日期 {group.dates or '—'}",
        f"本组 {len(group.items)} 人",
    ]
    pdf.text(left, y2, "    ".join(parts))
    rule = MARGIN_MM + HEADER_MM - 2
    pdf.set_draw_color(0, 0, 0)
    pdf.line(left, rule, right, rule)


def _footer(pdf: FPDF, grid: Layout) -> None:
    pdf.set_font("cjk", size=FOOTER_PT)
    pdf.set_text_color(90, 90, 90)
    pdf.text(MARGIN_MM, grid.page_h - MARGIN_MM, FOOTER_TEXT)


def _cell(pdf: FPDF, grid: Layout, index: int, item: ProofItem) -> None:
    x0, y0 = grid.cell_origin(index)
    px = x0 + (grid.cell_w - grid.photo_w) / 2
    py = y0 + GAP_MM / 2
    pdf.image(io.BytesIO(item.jpeg), x=px, y=py, w=grid.photo_w, h=grid.photo_h)
    pdf.set_draw_color(150, 150, 150)
    pdf.rect(px, py, grid.photo_w, grid.photo_h)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", size=CAPTION_PT)
    room = grid.cell_w - 1.0
    y = py + grid.photo_h + GAP_MM / 2
    for line in item.lines:
        y += grid.line_h
        if not line:
            continue
        text, size, width = _fit(pdf, line, room)
        pdf.text(x0 + (grid.cell_w - width) / 2, y - grid.line_h * 0.2, text)
        if size != CAPTION_PT:
            pdf.set_font("cjk", size=CAPTION_PT)


def _fit(pdf: FPDF, text: str, room: float) -> tuple[str, float, float]:
    """(text, size, width) of a caption line shrunk to the cell; below the
    minimum size it is cut with "…". Expects the caption size to be set, and
    leaves the returned size set."""
    natural = pdf.get_string_width(text)
    if natural <= room:
        return text, CAPTION_PT, natural
    size = math.floor(CAPTION_PT * room / natural * 10) / 10
    if size >= CAPTION_MIN_PT:
        pdf.set_font("cjk", size=size)
        return text, size, pdf.get_string_width(text)
    pdf.set_font("cjk", size=CAPTION_MIN_PT)
    while text and pdf.get_string_width(text + "…") > room:
        text = text[:-1]
    return text + "…", CAPTION_MIN_PT, pdf.get_string_width(text + "…")
