"""The briefing pack across several selections, including a single small site: every export is
opened (PDF pages, PowerPoint slides and notes, SVG text, CSV cells, facts.json) and none shows a
count from 1 to 7 or an unrounded count."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest

from phb import disclosure, exports, national
from tests.conftest import DATA, run_cli

SELECTIONS = {
    "all sites": [],
    "one small site": ["--sites", "STP"],
    "two sites inside the pilot": ["--sites", "DOR,KIN", "--from", "2014-06-01", "--to", "2015-12-31"],
    "direct payments, every chart": [
        "--management",
        "direct_payment",
        "--charts",
        ",".join(
            [
                "budgets_against_plan",
                "spend_by_category",
                "admissions_effect",
                "uptake_funnel",
                "uptake_by_site",
                "pathway",
                "effect_by_site",
                "utilisation",
                "value_for_money",
                "break_even",
                "value_effect_sensitivity",
                "national_picture",
            ]
        ),
    ],
}
COUNT_KEYS = {
    "referred", "offered", "budgets_in_place", "budgets_at_pilot_end", "planned_budgets", "eligible_population",
    "emergency_admissions_pre", "emergency_admissions_post", "comparison_admissions_pre", "comparison_admissions_post",
    "budget_holders_followed", "comparison_people", "plan_agreed", "budget_in_place", "declined", "withdrawn",
    "in_planning", "budgets", "holders", "people", "count", "admissions", "plan",
}  # fmt: skip
# Text that is not a count: dates, years, percentages, money, decimals, ordinals and the fixed wording of the
# disclosure note and limits. What is left of a number in a title or note must be a shown count.
NOT_COUNTS = [
    r"\b\d{4}[/-]\d{2}\b(?!-)",  # a financial year or price base: 2011/12, 2023-24 (before the years go)
    r"built [\d-]+ [\d:]+ UTC",
    r"\d{4}-\d{2}-\d{2}",
    # the method statement (its parameters are not counts), however the PDF wraps its lines
    r"\s+".join(map(re.escape, disclosure.METHOD.split())),
    r"fewer than 8( people| holders| budget holders)?",
    r"under 8 holders",
    r"\d{1,2} [A-Z][a-z]{2} \d{4}",
    r"\b(19|20)\d{2}\b",
    r"-?\d+(\.\d+)?%",
    r"£[\d,.]+[mk]?",
    r"\d+\.\d+",
    r"\b\d{1,2} months\b",
    r"\b99\.8\b",
    r"Data version \w+",
    r"built [\d-]+ [\d:]+ UTC",
    r"at least 10",
    r"Chart \d+",
    r"1 means chance alone",
    r"below 1 means",
    r"\b[0-9a-f]{12}\b",
    r"[Qq]\d",
    r"\b\d{2}:\d{2}\b",
    r"\bH\d\b",  # a half year
    # published national figures (data/reference, not pilot data: not counts from the extract)
    *[rf"\b{n:,}\b" for n in national.headlines()["people"]],
]


# The main suite checks the packs for all sites and one small site; the two other selections (each
# pack takes several seconds to draw) are checked in the slow tier, which CI also runs.
SLOW_SELECTIONS = {"two sites inside the pilot", "direct payments, every chart"}
SWEPT = [pytest.param(name, marks=[pytest.mark.slow] if name in SLOW_SELECTIONS else []) for name in SELECTIONS]


class Packs(dict):
    """Each selection's pack, written the first time a test asks for it."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, name):
        self[name] = self.make(name)
        return self[name]


@pytest.fixture(scope="module")
def packs(tmp_path_factory, bundled_warehouse):
    warehouse, _ = bundled_warehouse

    def make(name):
        folder = tmp_path_factory.mktemp("pack")
        result = run_cli("brief", "--out", str(folder), *SELECTIONS[name], data=DATA, warehouse=warehouse)
        assert result.returncode == 0, result.stderr
        return folder

    return Packs(make)


def leftover_numbers(text: str) -> list[int]:
    """Whole numbers left in a text once dates, percentages, money and fixed wording are taken out."""
    for pattern in NOT_COUNTS:
        text = re.sub(pattern, " ", text)
    return [int(n.replace(",", "")) for n in re.findall(r"(?<![\w.])\d{1,3}(?:,\d{3})*(?![\w.])", text)]


def assert_shown_counts(numbers: list[int], where: str) -> None:
    for n in numbers:
        assert not 1 <= n <= 7, f"{where}: a count of {n}"
        assert n % 5 == 0, f"{where}: {n} is not rounded to 5"


def walk(node, path=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{path}[{i}]")
    else:
        yield path, node


@pytest.mark.parametrize("selection", SWEPT)
def test_pack_has_every_file(packs, selection):
    """briefing.pdf, briefing.pptx, facts.json and a PNG and an SVG for each chart."""
    folder = packs[selection]
    assert (folder / "briefing.pdf").read_bytes()[:5] == b"%PDF-"
    assert (folder / "briefing.pptx").stat().st_size > 0
    charts = json.loads((folder / "facts.json").read_text())["pack"]["charts"]
    for i, chart in enumerate(charts, start=1):
        for suffix in ("png", "svg"):
            assert (folder / "charts" / f"{i:02d}-{chart['key']}.{suffix}").exists()


@pytest.mark.parametrize("selection", SWEPT)
def test_facts_json_holds_no_small_or_unrounded_count(packs, selection):
    """Every count in facts.json (headline blocks and each chart's data) is 0, '*' or a multiple of 5 of 10+."""
    facts = json.loads((packs[selection] / "facts.json").read_text())
    assert facts["synthetic"] is True
    for path, value in walk(facts):
        key = path.rsplit(".", 1)[-1].split("[")[0]
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if key in COUNT_KEYS and float(value).is_integer():
            assert_shown_counts([int(value)], f"{selection} facts.json {path}")


@pytest.mark.parametrize("selection", SWEPT)
def test_pdf_pages_show_no_small_or_unrounded_count(packs, selection):
    """The PDF's text (cover facts, notes) after removing dates, percentages and money has only shown counts,
    and every page says the data are synthetic."""
    from pypdf import PdfReader

    reader = PdfReader(packs[selection] / "briefing.pdf")
    cover = reader.pages[0].extract_text()
    assert exports.SYNTHETIC_STAMP in cover
    assert "Disclosure control" in cover
    for number, page in enumerate(reader.pages, start=1):
        assert_shown_counts(leftover_numbers(page.extract_text()), f"{selection} PDF page {number}")


@pytest.mark.parametrize("selection", SWEPT)
def test_slides_and_speaker_notes_show_no_small_or_unrounded_count(packs, selection):
    """Every slide's text and speaker notes: only shown counts; one chart a slide after the cover."""
    from pptx import Presentation

    deck = Presentation(packs[selection] / "briefing.pptx")
    charts = json.loads((packs[selection] / "facts.json").read_text())["pack"]["charts"]
    gaps = 1 if selection == "one small site" else 0  # a slide listing the charts left out, where any are
    assert len(deck.slides) == 1 + gaps + len(charts)
    for number, slide in enumerate(deck.slides, start=1):
        text = " ".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)
        notes = slide.notes_slide.notes_text_frame.text
        if number > 1 + gaps:
            assert charts[number - 2 - gaps]["title"] in text
            assert charts[number - 2 - gaps]["notes"] in notes
        assert_shown_counts(leftover_numbers(text + " " + notes), f"{selection} slide {number}")


@pytest.mark.parametrize("selection", SWEPT)
def test_svg_text_shows_no_small_or_unrounded_count(packs, selection):
    """Each chart's SVG: titles and data labels (not axis ticks) hold only shown counts; the footer and the
    synthetic stamp are there."""
    for path in sorted((packs[selection] / "charts").glob("*.svg")):
        root = ET.fromstring(path.read_text())
        texts = []
        for group in root.iter():
            role = group.get("class", "")
            if "role-axis" in role or "role-legend" in role:
                for t in group.iter():
                    t.set("skip", "1")
        for t in root.iter():
            if t.tag.endswith("text") and not t.get("skip"):
                texts.append("".join(t.itertext()))
        joined = " ".join(texts)
        assert exports.SYNTHETIC_STAMP in joined and "Disclosure control" in joined, path.name
        assert_shown_counts(leftover_numbers(joined), f"{selection} {path.name}")


@pytest.mark.parametrize("selection", SWEPT)
def test_chart_data_as_csv_holds_only_shown_counts(packs, selection):
    """Each chart's data exported as CSV: count columns hold 0, blanks or multiples of 5 from 10; no cell
    would run as a formula in Excel."""
    charts = json.loads((packs[selection] / "facts.json").read_text())["pack"]["charts"]
    meta = exports.ExportMeta("p", "f", "v", "b", True, "d")
    import pandas as pd

    for chart in charts:
        frame = pd.DataFrame(chart["data"])
        rows = list(csv.reader(io.StringIO(exports.csv_bytes(frame, chart["title"], meta).decode("utf-8-sig"))))
        header = rows[2]
        for row in rows[3 : 3 + len(frame)]:
            for column, cell in zip(header, row):
                # a cell that starts like a formula must be a plain number (Excel keeps those as numbers)
                if cell.startswith(exports.FORMULA_START):
                    assert re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", cell), (chart["key"], column, cell)
                if column in COUNT_KEYS and re.fullmatch(r"\d+", cell):
                    assert_shown_counts([int(cell)], f"{selection} {chart['key']} CSV {column}")


def test_brief_refuses_an_unknown_chart_and_a_file_as_out(tmp_path, bundled_warehouse):
    """A bad --charts or --out stops the command with exit code 2, a plain message and nothing written."""
    afile = tmp_path / "a-file"
    afile.write_text("x")
    run = run_cli("brief", "--out", str(afile), "--charts", "pie", data=DATA, warehouse=bundled_warehouse[0])
    assert run.returncode == 2
    assert "Unknown chart pie: choose from budgets_against_plan" in run.stderr
    assert "is a file, not a folder" in run.stderr
    assert afile.read_text() == "x"


# Stockport alone (bundled data): the default pack's four charts, of which two cannot be drawn. The uptake funnel
# compares sites, and one site has nothing to compare with; the budget effect needs 10 emergency admissions in each
# group before and after, and Stockport's budget holders' year-after admissions show as * (1 to 7) in facts.json.
STOCKPORT_LEFT_OUT = {
    "The budget effect on emergency admissions": "too few emergency admissions to estimate the budget effect",
    "Uptake funnel plot": "a funnel plot compares sites",
}


def test_the_pack_lists_each_chart_left_out_and_why(packs):
    """The PDF's cover (read back with pypdf) and a slide of the deck name each chart left out, with its reason in
    words; the charts that were drawn are not listed as left out."""
    from pptx import Presentation
    from pypdf import PdfReader

    folder = packs["one small site"]
    facts = json.loads((folder / "facts.json").read_text())
    assert facts["all_sites"]["emergency_admissions_post"] == disclosure.SUPPRESSED
    cover = " ".join(PdfReader(folder / "briefing.pdf").pages[0].extract_text().split())
    assert "Left out of this pack, and why" in cover
    slide = Presentation(folder / "briefing.pptx").slides[1]
    slide_text = " ".join(" ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame).split())
    assert "Left out of this pack, and why" in slide_text
    for label, why in STOCKPORT_LEFT_OUT.items():
        assert f"{label}: {why}" in cover
        assert f"{label}: {why}" in slide_text
    drawn = [c["key"] for c in facts["pack"]["charts"]]
    assert drawn == ["budgets_against_plan", "spend_by_category"]
    assert "Budgets in place against plan:" not in cover
    everything = " ".join(" ".join(PdfReader(packs["all sites"] / "briefing.pdf").pages[0].extract_text().split()))
    assert "Left out of this pack" not in everything


def test_money_in_the_spending_notes_reads_plainly(packs):
    """All sites: refunds are named as a positive sum (the extract records them as negative amounts), and the
    sums in the one list are rounded alike, to the nearest £100 as the largest is over £10,000. The refunds
    figure is checked here against spend.csv: the negative amounts summed per person, and the method's bound
    (moved by at most 0.4 of the largest person's refunds, then rounded to 3 significant figures and £100)."""
    spend = list(csv.DictReader((DATA / "spend.csv").open(encoding="utf-8")))
    per_person: dict[str, float] = {}
    for r in spend:
        if float(r["amount_gbp"]) < 0:
            per_person[r["person_id"]] = per_person.get(r["person_id"], 0.0) - float(r["amount_gbp"])
    refunds, largest = sum(per_person.values()), max(per_person.values())
    notes = next(
        c["notes"]
        for c in json.loads((packs["all sites"] / "facts.json").read_text())["pack"]["charts"]
        if c["key"] == "spend_by_category"
    )
    shown = re.search(r"net of refunds and recoveries of £([\d,]+)\.", notes)
    assert shown, notes
    value = float(shown.group(1).replace(",", ""))
    assert value % 100 == 0 and abs(value - refunds) <= 0.4 * largest + 100
    sums = re.findall(r"-?£\d{1,3}(?:,\d{3})*", notes)
    assert len(sums) >= 5 and not any(s.startswith("-") for s in sums)
    assert all(s.endswith("00") for s in sums), sums
    stockport = next(
        c["notes"]
        for c in json.loads((packs["one small site"] / "facts.json").read_text())["pack"]["charts"]
        if c["key"] == "spend_by_category"
    )
    assert (
        "*" not in stockport and "Withheld (fewer than 8 people, or one or two people make up most of it):" in stockport
    )
