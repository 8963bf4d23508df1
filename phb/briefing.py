"""The briefing pack: chosen charts, each with its finding as title and notes, as a PDF (A4
landscape, a cover with the headline facts), a PowerPoint deck (notes in the speaker notes),
facts.json holding every number in the pack, and each chart as PNG and SVG.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import altair as alt
import duckdb

from phb import admissions, charts, compare, exports, spending, uptake, views
from phb import formatting as fmt
from phb.exports import ExportMeta
from phb.filters import Filters
from phb.warehouse import WarehouseInfo

DEFAULT_CHARTS = ("budgets_against_plan", "spend_by_category", "admissions_effect", "uptake_funnel")
PACK_TITLE = "Personal health budgets in the mental health pilots"


@dataclass(frozen=True)
class BriefChart:
    """One chart of the pack: its key, the chart (title = finding) and the notes that go with it."""

    key: str
    chart: alt.TopLevelMixin
    notes: str

    @property
    def title(self) -> str:
        return exports.title_text(self.chart)


class Sources:
    """The data each chart needs, loaded once and only when a chosen chart asks for it."""

    def __init__(self, con: duckdb.DuckDBPyConnection, info: WarehouseInfo, filters: Filters, names: dict[str, str]):
        self.con, self.info, self.filters, self.names = con, info, filters, names

    @cached_property
    def uptake(self) -> uptake.UptakeData:
        return uptake.load(self.con, self.filters)

    @cached_property
    def spending(self) -> spending.SpendingData:
        return spending.load(self.con, self.filters, self.info.period_end)

    @cached_property
    def admissions(self) -> admissions.AdmissionsData:
        return admissions.load(self.con, self.filters)

    @cached_property
    def compare(self) -> compare.CompareData:
        return compare.load(self.con, self.filters)

    @cached_property
    def value(self):
        from phb import value

        return value.load(self.con, self.filters, need_people=False)  # at the default unit costs, stated on each chart

    @cached_property
    def national(self):
        from phb import national

        return national.load(self.con, self.filters, self.info.synthetic)


CATALOGUE = views.VIEWS  # every chart the pack can hold, each defined once for its page and the pack


def left_out_lines(skipped: list[tuple[str, str]]) -> list[str]:
    """Each chart left out of the pack and why, as sentences for the PDF, the slides and the page."""
    return [f"{label}: {why}." for label, why in skipped]


def build_charts(src: Sources, keys: list[str]) -> tuple[list[BriefChart], list[tuple[str, str]]]:
    """The chosen charts, and the (label, reason) of those with nothing safe to show for this selection
    (left_out_lines puts them in words)."""
    unknown = [k for k in keys if k not in CATALOGUE]
    if unknown:
        raise ValueError(f"Unknown chart {', '.join(unknown)}: choose from {', '.join(CATALOGUE)}.")
    built, skipped = [], []
    for key in keys:
        view = CATALOGUE[key]
        data = getattr(src, view.source)
        chart = view.chart(data, src.names)
        if chart is None:
            skipped.append((view.label, view.why(data, src.names)))
        else:
            built.append(BriefChart(key, chart, view.notes(data, src.names)))
    return built, skipped


# ---------------------------------------------------------------------------------------------
# The pack


HEADLINES = (
    ("People referred", "referred", fmt.count),
    ("Budgets in place at the end of the period", "budgets_in_place", fmt.count),
    ("Budgets at pilot end against plan", None, None),
    ("Uptake at pilot end", "uptake_pct", fmt.pct),
    ("Total spending, net of refunds", "spend_gbp", fmt.money),
    ("Emergency admissions, budget holders, year before and after", None, None),
    ("Emergency admissions, comparison group, year before and after", None, None),
    ("Budget effect on emergency admissions (rate ratio, 95% interval)", None, None),
    ("Net cost per budget holder per year (95% interval)", None, None),
)


def headline_rows(facts: dict) -> list[tuple[str, str]]:
    """The cover's headline facts as (label, value) pairs, from the facts' all-sites block."""
    block = facts["all_sites"]
    rows = []
    for label, key, show in HEADLINES:
        if key:
            value = show(block[key])
            if key == "uptake_pct" and isinstance(block["uptake_ci"], list):
                value += f" (95% interval {fmt.interval(block['uptake_ci'])})"
        elif label.startswith("Budgets at pilot end"):
            value = f"{fmt.count(block['budgets_at_pilot_end'])} of {fmt.count(block['planned_budgets'])}"
        elif "budget holders" in label:
            value = (
                f"{fmt.count(block['emergency_admissions_pre'])} then {fmt.count(block['emergency_admissions_post'])}"
            )
        elif "comparison group" in label:
            value = (
                f"{fmt.count(block['comparison_admissions_pre'])} then {fmt.count(block['comparison_admissions_post'])}"
            )
        elif label.startswith("Net cost"):
            money = block.get("value_for_money", {})
            value = (
                f"{_pounds(money['net_cost_per_holder_year_gbp'])} ({_pounds(money['ci_gbp'][0])} to "
                f"{_pounds(money['ci_gbp'][1])}; {money['price_base']} bed-day costs)"
                if money.get("net_cost_per_holder_year_gbp") is not None
                else "too few to estimate"
            )
        else:
            effect = block.get("admissions_effect", {})
            value = (
                f"{effect['rate_ratio']:.2f} ({effect['ci'][0]:.2f} to {effect['ci'][1]:.2f})"
                if effect.get("rate_ratio") is not None
                else "too few admissions to estimate"
            )
        rows.append((label, value))
    return rows


def _pounds(value: float) -> str:
    return ("-" if value < 0 else "") + f"£{abs(value):,.0f}"


def _rgb(colour: str) -> tuple[int, int, int]:
    """One of charts' colours as red, green and blue from 0 to 255, for the PDF and the slides."""
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def _latin(text: str) -> str:
    """Text for the PDF's built-in font (Latin-1): dashes, quotes and signs it lacks replaced."""
    swaps = {"–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "×": "x", "÷": "/", "→": "->", "…": "..."}
    for a, b in swaps.items():
        text = text.replace(a, b)
    return text.encode("latin-1", "replace").decode("latin-1")


def slide_pngs(items: list[BriefChart], meta: ExportMeta, svgs: dict[str, str] | None = None) -> dict[str, bytes]:
    """Each chart drawn once at twice its size, for the PDF and the slides."""
    svgs = svgs or {item.key: exports.chart_svg(item.chart, meta) for item in items}
    return {item.key: exports.svg_png(svgs[item.key], scale=2) for item in items}


def pdf_bytes(
    items: list[BriefChart],
    facts: dict,
    meta: ExportMeta,
    pngs: dict[str, bytes] | None = None,
    left_out: list[str] = (),
) -> bytes:
    """A4 landscape: a cover with the headline facts, the charts in the pack and those left out and why, then one
    chart a page with its notes."""
    pngs = pngs or slide_pngs(items, meta)
    from fpdf import FPDF, FontFace

    pdf = FPDF(orientation="landscape", format="A4", unit="mm")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_title(PACK_TITLE)

    def footer_block() -> None:
        pdf.set_font("Helvetica", size=7.5)
        pdf.set_text_color(*_rgb(charts.SECONDARY_TEXT))
        for line in meta.footer():
            pdf.multi_cell(0, 3.6, _latin(line), new_x="LMARGIN", new_y="NEXT")

    pdf.add_page()
    pdf.set_text_color(*_rgb(charts.NHS_BLUE))
    pdf.set_font("Helvetica", style="B", size=22)
    pdf.multi_cell(0, 10, _latin(PACK_TITLE), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=13)
    pdf.set_text_color(*_rgb(charts.TEXT))
    pdf.multi_cell(
        0, 7, _latin(f"Briefing pack. {meta.filters} Produced {meta.produced}."), new_x="LMARGIN", new_y="NEXT"
    )
    if meta.synthetic:
        pdf.ln(2)
        pdf.set_fill_color(*_rgb(charts.PINK))
        pdf.set_text_color(*_rgb(charts.WHITE))
        pdf.set_font("Helvetica", style="B", size=13)
        pdf.cell(
            0,
            9,
            _latin(f"  {exports.SYNTHETIC_STAMP}: every figure comes from a generated data set."),
            fill=True,
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(4)
    pdf.set_text_color(*_rgb(charts.TEXT))
    pdf.set_fill_color(*_rgb(charts.WHITE))
    pdf.set_font("Helvetica", size=11)
    with pdf.table(
        col_widths=(110, 150),
        line_height=7,
        first_row_as_headings=True,
        text_align="LEFT",
        headings_style=FontFace(emphasis="BOLD", color=_rgb(charts.WHITE), fill_color=_rgb(charts.NHS_BLUE)),
    ) as table:
        table.row(["Headline", "All selected sites"])
        for label, value in headline_rows(facts):
            table.row([_latin(label), _latin(value)])
    pdf.ln(4)
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(
        0,
        5,
        _latin("Charts in this pack: " + ("; ".join(item.title for item in items) or "none") + "."),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if left_out:
        pdf.ln(1)
        pdf.set_font("Helvetica", style="B", size=10)
        pdf.multi_cell(0, 5, "Left out of this pack, and why", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        for line in left_out_lines(list(left_out)):
            pdf.multi_cell(0, 5, _latin(f"- {line}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    footer_block()

    for item in items:
        pdf.add_page()
        pdf.start_section(_latin(item.title))  # the chart's finding, for the PDF's outline; the image carries it too
        pdf.set_text_color(*_rgb(charts.TEXT))
        png = pngs[item.key]
        width, height = _png_size(png)
        box_w, box_h = 273, 150
        scale = min(box_w / width, box_h / height)
        pdf.image(io.BytesIO(png), x=12 + (box_w - width * scale) / 2, w=width * scale, h=height * scale)
        pdf.ln(2)
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(0, 5, _latin("Notes: " + item.notes), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _png_size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def pptx_bytes(
    items: list[BriefChart],
    facts: dict,
    meta: ExportMeta,
    pngs: dict[str, bytes] | None = None,
    left_out: list[str] = (),
) -> bytes:
    """A 16:9 deck: a title slide with the headline facts, a slide listing the charts left out and why (where
    any are), then one chart a slide with its title, the notes in the speaker notes."""
    pngs = pngs or slide_pngs(items, meta)
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.util import Emu, Inches, Pt

    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    blank = deck.slide_layouts[6]

    def text(slide, left, top, width, height, lines, size, bold=False, colour=charts.TEXT):
        box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
        frame = box.text_frame
        frame.word_wrap = True
        for i, line in enumerate(lines):
            para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            para.text = line
            para.font.size, para.font.bold = Pt(size), bold
            para.font.color.rgb = RGBColor(*_rgb(colour))
        return box

    cover = deck.slides.add_slide(blank)
    text(cover, 0.6, 0.4, 12, 1.0, [PACK_TITLE], 30, bold=True, colour=charts.NHS_BLUE)
    text(cover, 0.6, 1.3, 12, 0.8, [f"Briefing pack. {meta.filters} Produced {meta.produced}."], 16)
    if meta.synthetic:
        text(
            cover,
            0.6,
            2.0,
            12,
            0.5,
            [f"{exports.SYNTHETIC_STAMP}: every figure comes from a generated data set."],
            16,
            bold=True,
            colour=charts.PINK,
        )
    text(cover, 0.6, 2.85, 12, 3.4, [f"{label}: {value}" for label, value in headline_rows(facts)], 15)
    text(cover, 0.6, 6.3, 12, 1.0, meta.footer(), 9, colour=charts.SECONDARY_TEXT)
    cover.notes_slide.notes_text_frame.text = "\n".join(meta.footer())
    if left_out:
        gaps = deck.slides.add_slide(blank)
        text(gaps, 0.5, 0.2, 12.3, 1.0, ["Left out of this pack, and why"], 20, bold=True)
        text(gaps, 0.6, 1.3, 12, 5.0, left_out_lines(list(left_out)), 16)

    for item in items:
        slide = deck.slides.add_slide(blank)
        text(slide, 0.5, 0.2, 12.3, 1.0, [item.title], 20 if len(item.title) < 90 else 16, bold=True)
        png = pngs[item.key]
        width, height = _png_size(png)
        box_w, box_h = Inches(12.3), Inches(5.9)
        scale = min(box_w / width, box_h / height)
        slide.shapes.add_picture(
            io.BytesIO(png),
            Inches(0.5) + Emu(int((box_w - width * scale) / 2)),
            Inches(1.2),
            width=Emu(int(width * scale)),
            height=Emu(int(height * scale)),
        )
        slide.notes_slide.notes_text_frame.text = item.notes + "\n\n" + "\n".join(meta.footer())
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def pack_facts(items: list[BriefChart], facts: dict, meta: ExportMeta) -> dict:
    """facts.json: every number in the pack (the facts, and each chart's data and notes)."""
    return {
        **facts,
        "pack": {
            "title": PACK_TITLE,
            "produced": meta.produced,
            "footer": meta.footer(),
            "charts": [
                {
                    "key": item.key,
                    "title": item.title,
                    "notes": item.notes,
                    "data": json.loads(exports.chart_data(item.chart).to_json(orient="records", date_format="iso")),
                }
                for item in items
            ],
        },
    }


def write_pack(
    out: Path, items: list[BriefChart], facts: dict, meta: ExportMeta, left_out: list[str] = ()
) -> list[Path]:
    """briefing.pdf, briefing.pptx, facts.json and charts/ with a PNG and an SVG per chart."""
    charts_dir = out / "charts"
    charts_dir.mkdir(parents=True, exist_ok=True)
    written = []
    svgs = {item.key: exports.chart_svg(item.chart, meta) for item in items}
    for i, item in enumerate(items, start=1):
        stem = f"{i:02d}-{item.key}"
        (charts_dir / f"{stem}.svg").write_text(svgs[item.key], encoding="utf-8")
        (charts_dir / f"{stem}.png").write_bytes(exports.svg_png(svgs[item.key]))
        written += [charts_dir / f"{stem}.svg", charts_dir / f"{stem}.png"]
    pngs = slide_pngs(items, meta, svgs)
    (out / "briefing.pdf").write_bytes(pdf_bytes(items, facts, meta, pngs, left_out))
    (out / "briefing.pptx").write_bytes(pptx_bytes(items, facts, meta, pngs, left_out))
    (out / "facts.json").write_text(
        json.dumps(pack_facts(items, facts, meta), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return [out / "briefing.pdf", out / "briefing.pptx", out / "facts.json", *written]
