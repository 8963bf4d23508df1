"""The Streamlit edge: the warehouse for this session, the shared filters, banner and footer.

The only module of the package that imports Streamlit. Pages call `page_context()` for what the
frame set up, and `show_chart` to draw a chart.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import pickle
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from phb import alttext, charts, config, contract, disclosure, exports, extract, facts, views
from phb.filters import MONTHS_NOTE, Filters, describe, month_end, parse_filters, snap_to_months
from phb.formatting import day
from phb.warehouse import ContractError, WarehouseInfo, WarehouseWriteError, connect, ensure_warehouse

log = logging.getLogger(__name__)

try:  # the lock Streamlit holds while it switches Altair's process-wide data transformer
    from streamlit.elements.vega_charts import _altair_globals_lock

    exports.ALTAIR_LOCK = _altair_globals_lock
except ImportError:  # another Streamlit: exports keeps its own lock (specs made here stay safe)
    log.warning("Streamlit's Altair lock not found: chart exports are not serialised with its drawing")

CONTEXT_KEY = "_phb_context"
PRESENT_KEY = "present"
TABLES_KEY = "tables_open"  # the sidebar's switch: every chart's table shown open (ui.show_chart)
SEEDED_KEY = "_phb_filters_seeded"
SEEDED_VERSION_KEY = "_phb_filters_version"
URL_PROBLEMS_KEY = "_phb_url_problems"


@dataclass(frozen=True)
class PageContext:
    """What every page needs: the warehouse, what it holds, the site names and the filters."""

    warehouse: Path
    info: WarehouseInfo
    site_names: dict[str, str]
    filters: Filters


SHORT = 60  # characters of one value from a URL or an extract shown before it is cut
WORD = 80  # characters without a space in a message before plain() cuts them (values come cut to SHORT)
LONG = 400  # characters of one whole message with such values in it
WORD_JOINER = "\u2060"  # invisible, and not part of any link, e-mail address or shortcode


def cut(text: str, limit: int = SHORT) -> str:
    """Text cut to `limit` characters, with an ellipsis where something was left off."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str) -> str:
    """Text from a URL or an extract made safe for Streamlit's Markdown: shown as typed, never a link,
    markup, shortcode or code.

    Runs of white space become one space (no lists, headings or code blocks), any run of more than
    80 characters without a space is cut with an ellipsis (so is a message over 400), Markdown's
    punctuation is escaped, and an invisible word joiner follows every ':' and '@' and comes before
    the '.' after 'www': Streamlit's Markdown (GitHub's) turns www., http:// and name@host into links
    on the text *after* escapes are read, so escaping alone cannot stop them; the joiner can.
    """
    text = re.sub(r"\s+", " ", str(text)).strip()
    text = re.sub(rf"\S{{{WORD + 1},}}", lambda m: cut(m.group(), WORD), text)
    text = cut(text, LONG)
    text = re.sub(r"([\\`*_\[\](){}<>#+!|~$&])", r"\\\1", text)
    text = re.sub(r"^([-=])", r"\\\1", text)  # a list or underline cannot start the text
    text = re.sub(r"(?i)(?<=www)\.", WORD_JOINER + ".", text)
    return re.sub(r"([:@])", r"\1" + WORD_JOINER, text)


def _no_paths(text: str) -> str:
    """A message without the server's folders: an absolute path is cut to its last part."""
    return re.sub(r"(?<![\w.])(?:/[^\s/'\"]+)+/([^\s/'\"]+)", r"\1", str(text))


def _fingerprint(data_dir: Path) -> tuple:
    """The extract's files' names, sizes and times (`extract.fingerprint`): cheap to read on every run."""
    return extract.fingerprint(data_dir) if data_dir.is_dir() else ()


def _stamp(path: Path) -> tuple | None:
    """The warehouse file's identity, size and modification time: a file deleted, truncated or
    replaced since the last run gives another stamp, so the warehouse is checked (and rebuilt) again."""
    try:
        s = path.stat()
    except OSError:
        return None
    return (s.st_ino, s.st_size, s.st_mtime_ns)


@st.cache_resource(show_spinner="Building the warehouse from the pilot extract…", max_entries=8)
def _ready(data_dir: str, warehouse: str, fingerprint: tuple, stamp: tuple | None):
    """Build or reuse the warehouse; runs again when the extract's files or the warehouse file change."""
    return ensure_warehouse(config.Settings(Path(data_dir), Path(warehouse)))


def _ensure(cfg: config.Settings):
    stamp = _stamp(cfg.warehouse)
    if stamp is None:
        _ready.clear()  # no warehouse file: an answer cached for "no file" before the last build is stale
    ready = _ready(str(cfg.data_dir), str(cfg.warehouse), _fingerprint(cfg.data_dir), stamp)
    if isinstance(ready.problem, WarehouseWriteError):
        _ready.clear()  # try the build again on the next run: the folder may be writable by then
    return ready


@st.cache_data(show_spinner=False)
def _site_names(warehouse: str, version: str) -> dict[str, str]:
    with connect(Path(warehouse)) as con:
        return facts.site_names(con)


@st.cache_data(show_spinner=False)
def _late_notes(warehouse: str, version: str, period_end: date, sites: tuple[str, ...]) -> list[str]:
    """Plain notes for the chosen sites whose spending or admissions end early (phb.quality)."""
    from phb import quality

    with connect(Path(warehouse)) as con:
        return quality.late_notes(con, period_end, facts.site_names(con), sites)


@st.cache_data(show_spinner=False)
def _admissions_data(warehouse: str, version: str, filters: Filters, unit_costs: tuple):
    from phb import admissions

    with connect(Path(warehouse)) as con:
        return admissions.load(con, filters, dict(unit_costs))


@st.cache_data(show_spinner=False)
def _admissions_with_effects(warehouse: str, version: str, filters: Filters, unit_costs: tuple, names: tuple):
    from phb import admissions

    return admissions.worked_out(_admissions_data(warehouse, version, filters, unit_costs), dict(names))


@st.cache_data(show_spinner=False)
def spend_by_category(warehouse: str, version: str, filters: Filters) -> pd.DataFrame:
    """spending.by_category's rows for the filters, kept for the data version and filters: the Overview and the
    Spending page both start from them, so a reader who opens both for a view has them read once (at a million
    people, about 0.2 s of each page's data for all sites)."""
    from phb import spending

    with connect(Path(warehouse)) as con:
        return spending.by_category(con, filters)


@st.cache_data(show_spinner=False)
def _at_risk_quarters(warehouse: str, version: str, filters: Filters) -> pd.DataFrame:
    from phb import admissions

    with connect(Path(warehouse)) as con:
        return admissions.load_quarters(con, filters)


def admissions_data(
    context: PageContext, unit_costs: tuple[tuple[str, float], ...] | None = None, effects: bool = False
):
    """The Hospital admissions page's data (`admissions.load`) for this run's filters, at `unit_costs` (as
    `unit_cost_inputs` gives them; the defaults where None), kept for the data version and filters. One cache
    for the pages that draw admissions trends: Hospital admissions, and Compare sites' site in detail. With
    `effects`, with the budget effect for all selected sites and for each site worked out and kept with it
    (`admissions.worked_out`: at 42 sites, 43 models), which only the Hospital admissions page shows."""
    costs = unit_costs or tuple((setting, float(v)) for setting, v in config.DEFAULT_UNIT_COSTS_GBP.items())
    args = (str(context.warehouse), context.info.data_version, context.filters, costs)
    if effects:
        return _admissions_with_effects(*args, tuple(context.site_names.items()))
    return _admissions_data(*args)


def at_risk_quarters(context: PageContext):
    """What `admissions.spc_series` asks for when a chart falls back to quarters: a function giving time at risk
    and admissions by quarter (`admissions.load_quarters`) for this run's filters, read only when called and then
    kept for the data version and filters."""
    return lambda: _at_risk_quarters(str(context.warehouse), context.info.data_version, context.filters)


def _seed_from_url(info: WarehouseInfo, names: dict[str, str]) -> None:
    """On a session's first run, set the filter widgets from the URL, saying what was not understood."""
    qp = st.query_params
    filters, problems = parse_filters(
        sites=qp.get_all("site") or None,
        date_from=qp.get("from"),
        date_to=qp.get("to"),
        management=qp.get_all("management") or None,
        site_names=names,
        period=(info.period_start, info.period_end),
    )
    st.session_state["f_sites"] = list(filters.sites or [])
    st.session_state["f_from"] = filters.date_from
    st.session_state["f_to"] = filters.date_to
    st.session_state["f_management"] = list(filters.management or [])
    st.session_state[PRESENT_KEY] = qp.get("present") == "1"
    st.session_state[URL_PROBLEMS_KEY] = [f"The link's filters: {p}" for p in problems]
    st.session_state[SEEDED_KEY] = True


def _write_url(filters: Filters, info: WarehouseInfo) -> None:
    """Put the selection in the URL (defaults left out), so a copied link reopens this view."""
    wanted: dict[str, str | list[str]] = {}
    if st.session_state.get(PRESENT_KEY):
        wanted["present"] = "1"
    if filters.sites:
        wanted["site"] = list(filters.sites)
    whole = snap_to_months(info.period_start, info.period_end, (info.period_start, info.period_end))
    if filters.date_from != whole[0]:
        wanted["from"] = filters.date_from.strftime("%Y-%m")
    if filters.date_to != whole[1]:
        wanted["to"] = filters.date_to.strftime("%Y-%m")
    if filters.management:
        wanted["management"] = list(filters.management)
    current = {
        k: (st.query_params.get_all(k) if k in ("site", "management") else st.query_params.get(k))
        for k in st.query_params
    }
    # a page's own choices (url_choice) stay in the link alongside the filters
    wanted |= {k: v for k, v in current.items() if k in _PAGE_PARAMS}
    if current != wanted:
        st.query_params.from_dict(wanted)


def _sidebar_filters(info: WarehouseInfo, names: dict[str, str]) -> Filters:
    """The shared filters in the sidebar; returns the checked selection."""
    if not st.session_state.get(SEEDED_KEY) or st.session_state.get(SEEDED_VERSION_KEY) != info.data_version:
        # a new session, or another data version published since this session's last run: its months
        # and sites may differ, so the filters are set again from the link (the whole period if none)
        _seed_from_url(info, names)
        st.session_state[SEEDED_VERSION_KEY] = info.data_version
    with st.sidebar:
        st.header("Filters")
        sites = st.multiselect(
            "Pilot sites",
            options=list(names),
            format_func=names.get,
            key="f_sites",
            placeholder="All seven sites" if len(names) == 7 else "All sites",
            help="Leave empty to show every site.",
        )
        lo, hi = info.period_start, info.period_end
        starts, ends = _months(lo, hi)
        date_from = st.selectbox("From (month)", options=starts, key="f_from", format_func=_month_name)
        date_to = st.selectbox(
            "To (month)",
            options=ends,
            key="f_to",
            format_func=_month_name,
            help="Budgets in place are counted at the end of this month (or on the data's last day).",
        )
        st.caption(MONTHS_NOTE)
        management = st.multiselect(
            "Management option",
            options=list(contract.MANAGEMENT_OPTIONS),
            format_func=lambda m: contract.LABELS[m],
            key="f_management",
            placeholder="All options",
            help="Applies to budget holders and their spending; referrals and the comparison group are not "
            "filtered by it.",
        )
        st.divider()
        st.toggle(
            "Presentation mode",
            key=PRESENT_KEY,
            help="Hides this sidebar, the toolbars and download buttons and enlarges the type, for clean "
            "screenshots. Also opened with ?present=1 in the link.",
        )
        st.toggle(
            "Tables under every chart",
            key=TABLES_KEY,
            help="Opens every chart's text and table of figures (on Spending, the charts of the section chosen), "
            "for reading with a screen reader or copying. Without it, each chart's table is made when its Show as "
            "table is opened.",
        )
    filters, problems = parse_filters(
        sites=sites,
        date_from=_iso(date_from),
        date_to=_iso(date_to),
        management=management,
        site_names=names,
        period=(lo, hi),
    )
    for p in st.session_state.pop(URL_PROBLEMS_KEY, []) + problems:
        st.warning(plain(p), icon=":material/link_off:")
    _write_url(filters, info)
    return filters


def _months(lo: date, hi: date) -> tuple[list[date], list[date]]:
    """The data period's months: their first days (for From) and last days (for To, the last month
    ending on the data's last day)."""
    starts = []
    month = lo.replace(day=1)
    while month <= hi:
        starts.append(month)
        month = (month_end(month) + timedelta(days=1)).replace(day=1)
    return starts, [min(month_end(m), hi) for m in starts]


def _month_name(value: date) -> str:
    return value.strftime("%B %Y")


def _iso(value) -> str | None:
    return value.isoformat() if isinstance(value, date) else None


def frame() -> PageContext | None:
    """Set up every page: the warehouse, the banner, the filters. None if there is no data at all."""
    cfg = config.settings()
    try:
        ready = _ensure(cfg)
    except WarehouseWriteError as exc:
        st.error(
            "The dashboard cannot show the pilot data: there is no warehouse yet, and it could not be built. "
            + " ".join(plain(_no_paths(p)) for p in exc.problems),
            icon=":material/error:",
        )
        return None
    except config.EngineUnavailable as exc:
        st.error(f"The dashboard cannot reach its data engine: {plain(_no_paths(str(exc)))}", icon=":material/error:")
        return None
    except ContractError as exc:
        st.error(
            "The pilot extract could not be loaded, and there is no earlier warehouse to fall back on. "
            "Put right what is listed below, then reload the page.",
            icon=":material/error:",
        )
        st.markdown("\n".join(f"- {plain(_no_paths(p))}" for p in exc.problems))
        return None
    info = ready.info
    if isinstance(ready.problem, WarehouseWriteError):
        st.warning(
            f"The pilot extract has changed but the warehouse could not be rebuilt, so this page shows the "
            f"previous version ({info.data_version}, built {info.built_at}). "
            + " ".join(plain(_no_paths(p)) for p in ready.problem.problems),
            icon=":material/warning:",
        )
    elif ready.problem:
        st.warning(
            f"The pilot extract has changed but could not be loaded, so this page shows the "
            f"previous version ({info.data_version}, built {info.built_at}). What is wrong:\n\n"
            + "\n".join(f"- {plain(_no_paths(p))}" for p in ready.problem.problems),
            icon=":material/warning:",
        )
    st.html(ACCESSIBLE_CSS)
    if info.synthetic:
        synthetic_banner()
    names = _site_names(str(cfg.warehouse), info.data_version)
    filters = _sidebar_filters(info, names)
    for note in _late_notes(str(cfg.warehouse), info.data_version, info.period_end, tuple(filters.sites or ())):
        st.warning(plain(note), icon=":material/schedule:")
    if st.session_state.get(PRESENT_KEY):
        _presentation_mode()
    context = PageContext(cfg.warehouse, info, names, filters)
    st.session_state[CONTEXT_KEY] = context
    return context


ACCESSIBLE_CSS = f"""
<style>
/* Captions and help text: Streamlit fades them (60% opacity) to about 4:1 against white (WCAG 1.4.3 asks
   4.5:1); the NHS secondary text colour at full opacity is 6:1 on white and 5.7:1 on the sidebar's grey. */
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p,
[data-testid="stWidgetLabel"] p, [data-testid="stTooltipContent"] {{
  color: {charts.SECONDARY_TEXT} !important; opacity: 1 !important;
}}
/* A focus anyone can see (WCAG 2.4.7, 2.4.11): a thick dark outline with a yellow ring, the NHS focus colours. */
[data-testid="stApp"] :focus-visible {{
  outline: 3px solid {charts.TEXT} !important; outline-offset: 2px !important; box-shadow: 0 0 0 5px #FFEB3B !important;
}}
/* One download menu per chart: Streamlit's chart toolbar offers its own screen-resolution PNG, the chart's
   spec and a data grid beside the dashboard's Download menu and "Show as table"; only full screen is kept. */
[data-testid="stElementToolbar"] button[aria-label^="Download as PNG"],
[data-testid="stElementToolbar"] button[aria-label^="Copy Vega-Lite spec"],
[data-testid="stElementToolbar"] button[aria-label^="Show data"] {{ display: none !important; }}
/* A chart's table: ruled, its headers bold, figures right-aligned. */
table.phb-chart-table {{ border-collapse: collapse; font-size: 0.9rem; margin-top: 0.5rem; }}
table.phb-chart-table th, table.phb-chart-table td {{
  border: 1px solid {charts.BORDER_GREY}; padding: 0.25rem 0.5rem; text-align: left; color: {charts.TEXT};
}}
table.phb-chart-table thead th {{ background: {charts.PALE_GREY}; }}
table.phb-chart-table td {{ text-align: right; }}
</style>
"""

PRESENTATION_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stElementToolbar"], [data-testid="stDownloadButton"],
[data-testid="stExpandSidebarButton"] { display: none !important; }
[data-testid="stMain"] { font-size: 1.15rem; }
[data-testid="stMain"] h1 { font-size: 3rem; }
[data-testid="stMain"] h2 { font-size: 2.1rem; }
[data-testid="stMetricValue"] { font-size: 3rem; }
[data-testid="stCaptionContainer"] { font-size: 1rem; }
</style>
"""


def _presentation_mode() -> None:
    """Hide the sidebar, toolbars and download buttons and enlarge type, with a way back."""
    st.html(PRESENTATION_CSS)
    if st.button("Leave presentation mode", icon=":material/close_fullscreen:", key="leave_present"):
        st.session_state[PRESENT_KEY] = False
        st.rerun()


def synthetic_banner() -> None:
    """The banner every page carries when the data is synthetic."""
    st.info(
        "**Synthetic data: not real patients.** No person-level data from the pilots is public. Every "
        "figure here comes from a generated data set built to match what is published about the seven "
        "pilot sites, with stated assumptions where nothing is published.",
        icon=":material/science:",
    )


def page_context() -> PageContext:
    """The context the frame set up for this run.

    A page run without the frame (Streamlit's pages/ folder mode, which a fresh server can use for
    its very first request to a deep link) sets the frame up itself rather than failing.
    """
    context = st.session_state.get(CONTEXT_KEY)
    if context is None:
        # Streamlit ran this page without app.py: a fresh server answers its first request for a
        # deep link (/uptake) in its pages/ folder mode. Switch to the st.navigation mode app.py
        # uses (as st.navigation itself would) and run again, this time through the frame.
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
        st.rerun()
    return context


def active_filters(context: PageContext) -> None:
    """State the active filters on the page."""
    st.caption(f"**Showing:** {plain(describe(context.filters, context.site_names))}")


def footer(context: PageContext) -> None:
    """Source, data version, build time and disclosure note, at the foot of every page."""
    info = context.info
    kind = "Synthetic data generated for demonstration: not real patients. " if info.synthetic else ""
    st.divider()
    st.caption(
        f"{kind}{config.SOURCE_NOTE}, {day(info.period_start)} to {day(info.period_end)}. "
        f"Data version {info.data_version}, built {info.built_at}. {disclosure.METHOD} "
        f"Page produced {day(datetime.now().date())}."
    )
    st.page_link("pages/accessibility.py", label="Accessibility statement", icon=":material/accessibility:")


def show_chart(chart: alt.Chart, alt_text: str, key: str | None = None, on_select: str = "ignore"):
    """Draw a chart in the NHS theme (not Streamlit's), full width, with its text and table of figures under
    Show as table (made when opened, or shown open for every chart with the sidebar's Tables under every chart)
    and its exports below: PNG at print resolution, SVG and the data as CSV, each titled, footed and stamped
    (made on click).
    A chart with any data that did not come through disclosure.publish is refused."""
    disclosure.check_chart(chart)
    spec, reading = _spec_and_reading(chart, alt_text)
    event = st.vega_lite_chart(
        _arrow_safe(spec), theme=None, width="stretch", alt=reading.text, key=key, on_select=on_select
    )
    stem = key or exports.file_stem(exports.title_text(chart))
    if st.session_state.get(TABLES_KEY):
        with st.expander("Show as table", icon=":material/table_rows:", expanded=True):
            st.html(table_html(reading))
    else:
        # made only when opened (the page runs again): a long series' table is thousands of rows, which the
        # browser took a second or more to clean and lay out on every visit though few open it
        box = st.expander("Show as table", icon=":material/table_rows:", key=f"table-{stem}", on_change="rerun")
        if box.open:
            with box:
                st.html(table_html(reading))
    if not st.session_state.get(PRESENT_KEY):
        _export_buttons(chart, stem)
    return event


class SpecCache:
    """Each chart's spec (as JSON) and reading, kept for the charts made most recently, keyed by the
    SHA-256 of the chart's key in charts.KEPT (or, for a chart not kept there, of the pickled chart: its
    data, encodings and words) and its kind of alt text: the same chart
    gives the same spec, so a rerun or another session drawing it again does not make it again (making a
    spec is most of the time a page spends on its charts). A chart that cannot be pickled is made each
    time. Each use gets its own copy of the spec."""

    def __init__(self, size: int = 256):
        self.size, self.hits, self.misses = size, 0, 0
        self._kept: OrderedDict[str, tuple[str, alttext.Reading]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, chart: alt.TopLevelMixin, alt_text: str) -> tuple[dict, alttext.Reading]:
        made_as = charts.KEPT.key_of(chart)  # a kept chart is known by the key it was made under
        try:
            key = hashlib.sha256(pickle.dumps((made_as or chart, alt_text), protocol=5)).hexdigest()
        except Exception:  # noqa: BLE001 - anything that cannot be pickled is simply not kept
            key = None
        with self._lock:
            kept = self._kept.get(key) if key else None
            if kept:
                self._kept.move_to_end(key)
                self.hits += 1
        if kept:
            return json.loads(kept[0]), kept[1]
        spec = exports.spec(chart)  # made once: read for the text alternative, then drawn
        reading = alttext.read(chart, alt_text, spec)
        if key:
            with self._lock:
                self.misses += 1
                self._kept[key] = (json.dumps(spec), reading)
                while len(self._kept) > self.size:
                    self._kept.popitem(last=False)
        return spec, reading

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


SPECS = SpecCache()


def _spec_and_reading(chart: alt.TopLevelMixin, alt_text: str) -> tuple[dict, alttext.Reading]:
    return SPECS.get(chart, alt_text)


def table_html(reading: alttext.Reading) -> str:
    """The chart's text alternative and its figures as an HTML table: a header cell (scope col) per column,
    the first column's cells as row headers, every value escaped as text."""
    head = "".join(
        f'<th scope="col" data-field="{html.escape(reading.fields[h])}">{html.escape(h)}</th>' for h in reading.table
    )
    rows = "".join(
        "<tr>"
        + "".join(
            (f'<th scope="row">{html.escape(v)}</th>' if i == 0 else f"<td>{html.escape(v)}</td>")
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in reading.table.itertuples(index=False)
    )
    return (
        f'<p class="phb-chart-text">{html.escape(reading.text)}</p>'
        f'<table class="phb-chart-table"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    )


def _one_type(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame whose every column holds one type, as Arrow needs: a column of numbers with the
    suppression marker gets a blank (not drawn) for the marker; any other mix becomes text."""
    fixed = {}
    for name in frame.columns:
        column = frame[name]
        if column.dtype != object:
            continue
        values = column.dropna()
        numbers = values.map(lambda v: isinstance(v, int | float) and not isinstance(v, bool))
        if not numbers.any() or numbers.all():
            continue
        if set(values[~numbers]) <= {disclosure.SUPPRESSED}:
            fixed[name] = pd.to_numeric(column.where(numbers.reindex(column.index, fill_value=False)))
        else:
            fixed[name] = column.map(lambda v: v if v is None or (isinstance(v, float) and v != v) else str(v))
    return frame.assign(**fixed) if fixed else frame


def _arrow_safe(spec: dict) -> dict:
    """The spec to draw: a shallow copy whose data sets are frames holding one type per column (so
    Streamlit can hand them to the browser as Arrow without repairing them, with a traceback in the log).
    The spec itself, which the text alternative reads, is left as it was."""
    datasets = spec.get("datasets")
    if not isinstance(datasets, dict):
        return spec
    return {**spec, "datasets": {name: _one_type(pd.DataFrame(rows)) for name, rows in datasets.items()}}


def _export_buttons(chart: alt.Chart, key: str) -> None:
    # an expander, not a popover: Streamlit draws a popover's buttons at the end of the page, where Tab does
    # not reach them after its button; an expander's buttons come next in the keyboard's order. Its buttons are
    # made only when it is opened (the page runs again, as for Show as table): three buttons with their tips
    # under every chart took the browser 0.2 to 0.4 s to lay out on each visit though few open them.
    box = st.expander("Download", icon=":material/download:", key=f"download-{key}", on_change="rerun")
    if not box.open:
        return
    context = page_context()
    meta = exports.meta_for(context.info, context.filters, context.site_names)
    stem = exports.file_stem(exports.title_text(chart))
    formats = (
        ("PNG", "png", "image/png", ":material/image:", lambda: exports.chart_png(chart, meta),
         "The chart at print resolution, with its source, date and selection."),
        ("SVG", "svg", "image/svg+xml", ":material/draw:", lambda: exports.chart_svg(chart, meta),
         "The chart as a scalable drawing, with its source, date and selection."),
        ("Data (CSV)", "csv", "text/csv", ":material/table:",
         lambda: exports.csv_bytes(exports.chart_data(chart), exports.title_text(chart), meta),
         "The figures drawn, after disclosure control, safe to open in Excel."),
    )  # fmt: skip
    # on_click "ignore": the file is made when asked for and the page does not run again, since a rerun started
    # with the request could replace the file being made before the browser fetched it (nothing downloaded)
    with box:
        for label, suffix, mime, icon, make, tip in formats:
            st.download_button(
                label,
                data=make,
                file_name=f"{stem}.{suffix}",
                mime=mime,
                key=f"{suffix}-{key}",
                help=tip,
                icon=icon,
                on_click="ignore",
            )


def table(data, **kwargs) -> None:
    """A table of figures (a published frame, or a Styler of one); anything else is refused. A column of
    a frame that mixes numbers with `*` or words is drawn as text, each number written to its kind's
    places (so Streamlit need not repair it for Arrow, with a traceback in the server log)."""
    if not disclosure.is_published(data):
        raise disclosure.UnpublishedError("a table's data did not come through disclosure.publish")
    if isinstance(data, pd.DataFrame):
        data = _mixed_as_text(data)
    st.dataframe(data, **kwargs)


def _as_text(value: float, places: int | None) -> str:
    """A number as a table shows it: to `places` where its kind has them, else whole numbers with
    thousands separators and any other number as it is (0.85 stays 0.85)."""
    if places is not None:
        return f"{value:,.{places}f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def _mixed_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    kinds = frame.attrs.get(disclosure.KINDS_ATTR, {})
    fixed = {}
    for name in frame.columns:
        column = frame[name]
        if column.dtype != object:
            continue
        numbers = column.map(lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v == v)
        words = column.map(lambda v: isinstance(v, str))
        if numbers.any() and words.any():
            places = disclosure.PLACES.get(kinds.get(name))
            fixed[name] = [_as_text(v, places) if n else v for v, n in zip(column, numbers, strict=True)]
    if not fixed:
        return frame
    out = frame.assign(**fixed)
    out.attrs = dict(frame.attrs)
    return out


def show_view(view: views.View, data, names: dict[str, str], key: str | None = None, on_select: str = "ignore"):
    """Draw a chart defined once in phb.views (as the briefing pack draws it), or say why it is empty."""
    chart = view.chart(data, names)
    if chart is None:
        st.info(views.sentence(view.why(data, names)), icon=":material/visibility_off:")
        return None
    return show_chart(chart, view.alt(data, names), key=key, on_select=on_select)


def show_chart_or_say_why(values, why: str, chart: alt.Chart, alt_text: str) -> None:
    """Draw the chart if it has anything to draw; otherwise say why there is nothing."""
    if values.notna().any():
        show_chart(chart, alt_text)
    else:
        st.info(why, icon=":material/visibility_off:")


_PAGE_PARAMS = {"spc_measure", "spc_site", "detail", "section"}  # URL parameters the pages own, not the filters


def sections(labels: dict[str, str], key: str) -> dict[str, Any]:
    """A page's sections as tabs, of which only the one open is drawn (a tab that is not open draws nothing
    until it is chosen, when the page runs again): `labels` maps each section's URL value to its tab's label,
    the first being the page's opening section. The section chosen is kept in the link (`?section=`, left out
    for the first), so a copied link reopens it; an unknown one in a link is named and left out. Returns each
    section's tab by its URL value: draw into it only `if tab.open`."""
    url_choice("section", key, labels, "section")
    tabs = st.tabs(list(labels.values()), key=key, on_change="rerun")  # the first tab open unless one is chosen
    values = list(labels)
    chosen = next((v for v in values if labels[v] == st.session_state.get(key)), values[0])
    write_url_choice("section", None if chosen == values[0] else chosen)
    return dict(zip(values, tabs, strict=True))


def url_choice(param: str, key: str, options: dict, what: str) -> None:
    """Seed a page's widget (session key `key`) from the URL parameter `param` the first time the page
    draws it; a value that is not one of `options` (URL value to widget value) is named and left out."""
    if param not in _PAGE_PARAMS:
        raise ValueError(f"{param} is not a page parameter")
    if key in st.session_state:
        return
    given = st.query_params.get(param)
    if given is None:
        return
    if given in options:
        st.session_state[key] = options[given]
    else:
        st.warning(
            f"The link's {what} “{plain(given)}” is not one this page knows: it is left out.",
            icon=":material/link_off:",
        )
        del st.query_params[param]


def write_url_choice(param: str, value: str | None) -> None:
    """Put a page's choice in the URL (None leaves it out), so a copied link reopens the same view."""
    if param not in _PAGE_PARAMS:
        raise ValueError(f"{param} is not a page parameter")
    if value is None:
        if param in st.query_params:
            del st.query_params[param]
    elif st.query_params.get(param) != value:
        st.query_params[param] = value


def current_user() -> dict:
    """The signed-in account as Streamlit knows it (st.user): empty when sign-in is not set up, with
    `is_logged_in` when it is (see the README on st.login)."""
    try:
        return dict(st.user.to_dict())
    except Exception:  # noqa: BLE001 - no sign-in context (a bare script run): nobody is signed in
        return {}


def unit_cost_inputs(key: str) -> tuple[tuple[str, float], ...]:
    """The bed-day unit costs a page lets its reader set (for stays the extract gives no cost for), with
    their defaults' source; widget keys `{key}_mh` and `{key}_ga`. Returns ((setting, £ per bed day), ...)."""
    with st.expander("Unit costs for bed days without a cost in the extract", expanded=False):
        c1, c2 = st.columns(2)
        chosen = {}
        for column, setting, label, suffix in (
            (c1, "mental_health", "Mental health, £ per bed day", "mh"),
            (c2, "general_acute", "General acute, £ per bed day", "ga"),
        ):
            chosen[setting] = column.number_input(
                label,
                min_value=0.0,
                max_value=5000.0,
                step=1.0,
                value=config.DEFAULT_UNIT_COSTS_GBP[setting],
                key=f"{key}_{suffix}",
            )
        st.caption(config.UNIT_COST_SOURCE)
    return tuple((setting, float(value)) for setting, value in chosen.items())
