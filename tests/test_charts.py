"""Every chart builder renders a valid Vega-Lite spec through to_dict(), in the NHS theme, and the
data it embeds (which a browser can read) holds no unrounded or suppressed count."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from phb import admissions, charts, compare, contract, disclosure, national, overview, quality, spending, uptake
from phb import value as value_for_money
from phb.filters import Filters
from phb.warehouse import connect


@pytest.fixture(scope="module")
def frames(bundled_warehouse):
    warehouse, info = bundled_warehouse
    with connect(warehouse) as con:
        names = {r[0]: r[1] for r in con.execute("select site_code, site_name from sites order by 1").fetchall()}
        filters = Filters(None, info.period_start, info.period_end)
        ov = overview.load(con, filters)
        up = uptake.load(con, filters)
        sp = spending.load(con, filters, info.period_end)
        ad = admissions.load(con, filters)
        ad_quarters = admissions.load_quarters(con, filters)
        cmp = compare.load(con, filters)
        val = value_for_money.load(con, filters)
        nat = national.load(con, filters, True)
        volume = quality.volume_frame(quality.volume(con, info.period_end), "spend", names)
    block = overview.headline(ov)["all_sites"]
    plan_frame, targets = uptake.budgets_against_plan(up, names)
    rates, overall = uptake.uptake_by_site(up, names)
    return {
        "budgets_over_time": charts.budgets_over_time(overview.budgets_over_time(ov, names), names, "t", "s"),
        "spend_by_category": charts.spend_by_category(overview.spend_by_category(ov), "t", "s"),
        "admissions_by_month": charts.admissions_by_month(overview.admissions_by_month(ov, filters), "t", "s"),
        "pathway_funnel": charts.pathway_funnel(uptake.pathway_steps(up), "t", "s"),
        "budgets_against_plan": charts.budgets_against_plan(plan_frame, targets, list(names.values()), "t", "s"),
        "plan_reached": charts.plan_reached(uptake.plan_reached(uptake.plan_progress(up, names)), "t", "s"),
        "uptake_by_site": charts.uptake_by_site(rates, overall["uptake_pct"], "t", "s"),
        "management_shares": charts.management_shares(uptake.management_shares(up, names), "t", "s"),
        "reach": charts.reach(uptake.reach(up), 55.0, "t", "s"),
        "share_grid": charts.share_grid(spending.site_category_grid(sp, names), "site", "t", "s", "Site"),
        "spend_over_time": charts.spend_over_time(*spending.over_time(sp, filters), "t", "s"),
        "per_holder": charts.per_holder(spending.per_holder(sp, names), "t", "s"),
        "utilisation": charts.utilisation(spending.utilisation(sp, names), 80, 110, "t", "s"),
        "spc_rate_chart": charts.spc_rate_chart(
            admissions.spc_series(ad, None, "comparison", "admissions", filters, lambda: ad_quarters)[0],
            "month",
            "Emergency admissions per 100 person-months",
            admissions.go_live_dates(ad, filters),
            "t",
            "s",
        ),
        "rates_before_after": charts.rates_before_after(admissions.before_after(ad, names), "t", "s"),
        "forest": charts.forest(admissions.effects_by_site(ad, names), "t", "s"),
        "funnel": charts.funnel(*compare.uptake_funnel(cmp, names), "Eligible", "Uptake (%)", "t", "s", ".2f"),
        "_admissions_funnel": charts.funnel(*compare.admissions_funnel(cmp, names), 1.0, "E", "O/E", "t", "s", ".2f"),
        "bed_days_cost": charts.bed_days_cost(admissions.bed_days(ad), "2011/12 prices", "t", "s"),
        "effect_bars": charts.effect_bars(admissions.effect_bars(admissions.did_effect(ad.effect_summary)), "t", "s"),
        "net_cost_forest": charts.net_cost_forest(val.scopes(names).assign(unit_costs="£334"), "t", "s"),
        "sensitivity_line": charts.sensitivity_line(
            value_for_money.unit_cost_curve(val.headline, 334).assign(unit_costs="£334"),
            pd.DataFrame({"x": [334.0], "label": ["used"]}),
            "x",
            ",.0f",
            "t",
            "s",
        ),
        "national_picture": charts.national_picture(nat, "t", "s"),
        "volume_by_month": charts.volume_by_month(volume, names, "t", "s"),
        "_block": block,
    }


BUILDERS = [
    "budgets_over_time",
    "spend_by_category",
    "admissions_by_month",
    "pathway_funnel",
    "budgets_against_plan",
    "plan_reached",
    "uptake_by_site",
    "management_shares",
    "reach",
    "share_grid",
    "spend_over_time",
    "per_holder",
    "utilisation",
    "spc_rate_chart",
    "rates_before_after",
    "forest",
    "effect_bars",
    "bed_days_cost",
    "funnel",
    "net_cost_forest",
    "sensitivity_line",
    "national_picture",
    "volume_by_month",
]


def test_every_builder_is_covered():
    """A new chart builder in phb/charts.py must be added here."""
    built = {
        name
        for name, fn in vars(charts).items()
        if callable(fn)
        and getattr(fn, "__module__", "") == charts.__name__
        and name
        not in {
            "nhs_theme",
            "finding_title",
            "site_colour_scale",
            "funnel_label_boxes",
            "boxes_overlap",
            "funnel_label_positions",
            "KeptCharts",
            "kept",
        }
        and not name.startswith("_")  # helpers such as _chart, the gate every builder's data goes through
    }
    assert built == set(BUILDERS)
    assert not [name for name in BUILDERS if not hasattr(getattr(charts, name), "uncached")], "a builder not kept"


@pytest.mark.parametrize("name", BUILDERS)
def test_chart_renders_a_valid_vega_lite_spec(frames, name):
    """to_dict() validates the spec against the Vega-Lite schema, with the NHS theme applied."""
    spec = frames[name].to_dict(validate=True)
    assert spec["config"]["font"].startswith("Arial")
    assert spec.get("title") or spec.get("spec", {}).get("title")


@pytest.mark.parametrize("name", BUILDERS)
def test_embedded_chart_data_holds_no_small_count(frames, name):
    """Whole numbers of 1 to 7 never appear in the data sent to the browser (unless they are not counts:
    percentages, intervals and money are allowed to be any value, so only count-like columns are checked)."""
    spec = frames[name].to_dict()
    count_like = {
        "budgets", "people", "admissions", "plan", "referred", "eligible", "budgets_in_place", "holders", "value",
        "shown", "emergency_pre", "emergency_post", "count",
    }  # fmt: skip
    if name == "funnel":
        count_like.discard("value")  # a funnel's value is a percentage (1 place) or a ratio (2 places)
    for rows in spec.get("datasets", {}).values():
        for row in rows:
            for key, value in row.items():
                if key in count_like and isinstance(value, (int, float)) and float(value).is_integer():
                    assert not 1 <= value <= 7, (name, key, value)
                    assert value % 5 == 0, (name, key, value)
                if isinstance(value, str) and key in count_like:
                    assert value in (disclosure.SUPPRESSED, "fewer than 8") or int(value.replace(",", "")) % 5 == 0


# Every column a chart may send to the browser, reviewed: figures shown (rounded counts, money from 8 or more
# people, rates and intervals worked out from rounded counts) and labels. Nothing unrounded, no z-scores or
# p-values. A new column fails here until it is reviewed and added.
ALLOWED_COLUMNS = {
    "budgets_over_time": {"budgets", "label", "on_date", "site", "site_code"},
    "spend_by_category": {"category", "category_name", "sort_value", "spend_gbp", "spend_label"},
    "admissions_by_month": {"admissions", "group", "grp", "label", "month", "period"},
    "pathway_funnel": {"label", "order", "pct_of_referred", "people", "step", "text"},
    "budgets_against_plan": {"budgets", "label", "on_date", "pilot_end", "plan", "site"},
    "plan_reached": {"budgets_text", "pct_of_plan", "plan_text", "site", "status", "text", "x"},
    "uptake_by_site": {"budgets", "budgets_text", "ci_text", "eligible", "high", "low", "rate", "rate_text", "site",
                       "site_code", "text", "uptake_pct", "versus"},
    "management_shares": {"budgets", "option", "option_order", "share_pct", "share_text", "site", "sites_in_bar"},
    "reach": {"characteristic", "group", "referred", "conversion_pct", "low", "high", "finding", "rate_text",
              "ci_text", "referred_text", "rate"},
    "share_grid": {"category", "share_pct", "site", "spend_text", "text", "tip"},
    "spend_over_time": {"category", "name", "period_start", "spend_gbp"},
    "per_holder": {"holders", "holders_text", "median", "median_text", "q1", "q1_text", "q3", "q3_text", "site"},
    "utilisation": {"by", "flag", "holders", "holders_text", "name", "text", "utilisation_pct", "x"},
    # the u' chart: rates and limits worked out from rounded counts and rounded person-months; never the
    # person-months at risk (exposure) nor the admissions themselves
    "spc_rate_chart": {"centre", "go_live", "lcl", "period", "rate", "rule", "rule_name", "site", "ucl", "variation",
                       "variation_name"},
    "rates_before_after": {"admissions", "admissions_text", "group", "high", "low", "people", "rate", "rate_text",
                           "site", "window"},
    "forest": {"all", "high", "low", "note", "rate_ratio", "shape", "site", "text", "x"},
    "effect_bars": {"change_pct", "high", "label", "low", "measure", "x"},
    "bed_days_cost": {"admissions", "bed_days", "cost", "cost_gbp", "cost_text", "days_text", "group", "setting",
                      "window"},
    "funnel": {"band", "c", "count", "count_text", "denominator", "label_y", "limit", "position", "side", "site",
               "value", "value_text"},
    # value for money: net costs per holder-year and their intervals, rounded to 3 significant figures (>= £10)
    "net_cost_forest": {"all", "by", "high", "label", "low", "note", "shape", "site", "text", "unit_costs", "value",
                        "x"},
    "sensitivity_line": {"c", "high", "label", "low", "unit_costs", "value", "x"},
    # published national figures (data/reference) with source and confidence, and the pilots' shown count
    "national_picture": {"confidence", "label", "note", "period", "published", "series", "source", "text",
                         "value_text"},
    # rows per month as shown (blank where withheld) and why a month is unusual
    "volume_by_month": {"count", "label", "month", "note", "site"},
}  # fmt: skip


@pytest.mark.parametrize("name", BUILDERS)
def test_charts_send_the_browser_only_reviewed_columns(frames, name):
    """The data embedded in each chart's spec has only reviewed columns (so a z-score or an unrounded value
    cannot slip in unnoticed)."""
    spec = frames[name].to_dict()
    columns = {key for rows in spec.get("datasets", {}).values() for row in rows for key in row}
    assert columns <= ALLOWED_COLUMNS[name], columns - ALLOWED_COLUMNS[name]


def test_site_colours_are_fixed_whatever_is_selected():
    """Stockport keeps its colour when it is drawn alone."""
    names = {"DEV": "Devon", "DOR": "Dorset", "STP": "Stockport"}
    alone = charts.site_colour_scale(names, ["Stockport"]).to_dict()
    together = charts.site_colour_scale(names).to_dict()
    assert alone["range"] == [together["range"][2]] == [charts.SITE_COLOURS[2]]


def test_more_sites_than_colours_still_gives_every_site_a_colour():
    """A national extract has more sites than the seven pilot colours (the Overview failed with 42 sites):
    every site shown is in the legend with a colour from the palette, the ninth site taking the second colour."""
    names = {f"S{i:02d}": f"Site {i:02d}" for i in range(1, 10)}
    scale = charts.site_colour_scale(names, ["Site 01", "Site 02", "Site 09"]).to_dict()
    assert scale["domain"] == ["Site 01", "Site 02", "Site 09"]
    assert scale["range"] == [charts.SITE_COLOURS[0], charts.SITE_COLOURS[1], charts.SITE_COLOURS[1]]


def test_period_edges_left_out_of_the_admissions_chart(frames):
    """A month or quarter only partly inside the period is not drawn (it would look like a fall)."""
    spec = frames["admissions_by_month"].to_dict()
    months = [row["month"] for rows in spec["datasets"].values() for row in rows]
    # the bundled data run from 2 Jun 2013 to 13 Apr 2017: whole quarters are Jul 2013 to Jan-Mar 2017
    assert date.fromisoformat(min(months)[:10]) == date(2013, 7, 1)
    assert date.fromisoformat(max(months)[:10]) == date(2017, 1, 1)


@pytest.mark.parametrize("name", ["funnel", "_admissions_funnel"])
def test_funnel_labels_do_not_overlap_on_the_bundled_data(frames, name):
    """Every pair of site labels' boxes (12px text, 7px a character, a 15px line, beside the point) is apart on
    the narrowest plot drawn (300px wide, 300px high), as drawn from the chart's own data and y axis. Before the
    labels were nudged, Southwark's and South Kent Coast's overlapped on the uptake funnel."""
    spec = frames[name].to_dict()
    rows = [r for rows in spec["datasets"].values() for r in rows if "label_y" in r]
    assert len(rows) >= (7 if name == "funnel" else 3)  # the admissions funnel withholds four small sites
    y_top = next(
        layer["encoding"]["y"]["scale"]["domain"][1]
        for layer in spec["layer"]
        if "scale" in layer["encoding"].get("y", {})
    )
    x_top = max(r["denominator"] for r in rows)
    boxes = charts.funnel_label_boxes(
        [r["site"] for r in rows], [r["denominator"] for r in rows], [r["label_y"] for r in rows], x_top, y_top
    )
    for i, a in enumerate(boxes):
        for j, b in enumerate(boxes[:i]):
            assert not charts.boxes_overlap(a, b), (rows[i]["site"], rows[j]["site"])
    # and each label stays near its own point: at most 7 lines away
    assert all(abs(r["label_y"] - r["value"]) <= 7 * 15 * y_top / 300 + 1e-9 for r in rows)
    # the labels as they were (level with the point) did overlap on the uptake funnel
    if name == "funnel":
        before = charts.funnel_label_boxes(
            [r["site"] for r in rows], [r["denominator"] for r in rows], [r["value"] for r in rows], x_top, y_top
        )
        assert any(charts.boxes_overlap(a, b) for i, a in enumerate(before) for b in before[:i])


def _published_bars(n: int) -> pd.DataFrame:
    return pd.DataFrame({"category": list(contract.SPEND_CATEGORIES[:2]), "spend_gbp": [float(n), 2_000.0]})


def test_a_chart_asked_for_again_with_the_same_figures_is_the_one_already_made():
    """A builder called again with equal (not the same) arguments, as on a rerun or in another session,
    returns the chart it made before without making it again; one figure different makes a new chart, whose
    spec is the builder's own (made without keeping). The spec cache knows a kept chart by its key."""
    from phb.ui import SpecCache

    kept = charts.KeptCharts(size=2)
    first = kept.get(charts.spend_by_category.uncached, (_published_bars(1_000), "t", "s"), {})
    again = kept.get(charts.spend_by_category.uncached, (_published_bars(1_000), "t", "s"), {})
    assert again is first and (kept.hits, kept.misses) == (1, 1)
    other = kept.get(charts.spend_by_category.uncached, (_published_bars(1_100), "t", "s"), {})
    assert other is not first and kept.misses == 2
    fresh = charts.spend_by_category.uncached(_published_bars(1_100), "t", "s")
    assert other.to_dict() == fresh.to_dict() != first.to_dict()
    retitled = kept.get(charts.spend_by_category.uncached, (_published_bars(1_000), "another title", "s"), {})
    assert retitled is not first and kept.misses == 3
    assert kept.key_of(first) is None and kept.key_of(other) is not None  # size 2: the oldest was let go
    # the module's own cache, as the pages use it: a kept chart's spec is found by its key
    charts.KEPT.clear()
    specs = SpecCache()
    spec, _ = specs.get(charts.spend_by_category(_published_bars(1_000), "t", "s"), "Bar chart")
    spec_again, _ = specs.get(charts.spend_by_category(_published_bars(1_000), "t", "s"), "Bar chart")
    assert (specs.hits, specs.misses) == (1, 1) and spec_again == spec


def test_a_builder_whose_arguments_cannot_be_pickled_is_made_each_time():
    kept = charts.KeptCharts()
    calls = []

    def builder(fn):
        calls.append(fn)
        return fn()

    assert kept.get(builder, (lambda: 1,), {}) == 1 and kept.get(builder, (lambda: 2,), {}) == 2
    assert len(calls) == 2 and (kept.hits, kept.misses) == (0, 0)
