"""Ministerial briefing: choose charts, preview them, download the pack (PDF, PowerPoint, facts.json)."""

import json

import streamlit as st

from phb import briefing, exports, ui
from phb.facts import facts
from phb.warehouse import connect

context = ui.page_context()
st.title("Briefing pack")
ui.active_filters(context)
st.caption(
    "Choose the charts for a submission or slide deck. Each is titled with its finding, carries its source, period, "
    "selection, data version and date, and shows only disclosure-controlled figures."
)
keys = st.multiselect(
    "Charts in the pack",
    options=list(briefing.CATALOGUE),
    default=list(briefing.DEFAULT_CHARTS),
    format_func=lambda k: briefing.CATALOGUE[k].label,
    key="brief_charts",
)
if not keys:
    st.info("Choose at least one chart for the pack.", icon=":material/playlist_add:")
    st.stop()


@st.cache_resource(show_spinner=False, max_entries=64)
def _charts(version: str, filters, names: tuple, keys: tuple) -> tuple:
    """The chosen charts for this data version and selection, made once (the page's other runs and other
    sessions asking for the same take them from here). Held as they are, not copied: charts are never
    changed in place, and the very chart objects let the preview find each one's kept spec by its key."""
    with connect(context.warehouse) as con:
        return briefing.build_charts(briefing.Sources(con, context.info, filters, dict(names)), list(keys))


items, skipped = _charts(context.info.data_version, context.filters, tuple(context.site_names.items()), tuple(keys))
for line in briefing.left_out_lines(skipped):
    st.warning(ui.plain(line), icon=":material/visibility_off:")
meta = exports.meta_for(context.info, context.filters, context.site_names)


@st.cache_data(show_spinner="Gathering the headline figures…")
def _facts(version: str, filters) -> dict:
    return facts(context.warehouse, context.info, filters)


def _pack_facts_dict() -> dict:
    return _facts(context.info.data_version, context.filters)


def _pack_facts() -> bytes:
    data = briefing.pack_facts(items, _pack_facts_dict(), meta)
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


PACK_FILES = (
    ("PDF (A4)", "briefing.pdf", "application/pdf", ":material/picture_as_pdf:",
     lambda: briefing.pdf_bytes(items, _pack_facts_dict(), meta, left_out=skipped),
     "A cover with the headline facts, then one chart a page with its notes."),
    ("PowerPoint", "briefing.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
     ":material/slideshow:", lambda: briefing.pptx_bytes(items, _pack_facts_dict(), meta, left_out=skipped),
     "One chart a slide with its title; the notes are in the speaker notes."),
    ("facts.json", "facts.json", "application/json", ":material/data_object:", _pack_facts,
     "Every number in the pack."),
)  # fmt: skip

if items:
    st.header("Download the pack")
    for column, (label, name, mime, icon, make, tip) in zip(st.columns([1.2, 1.4, 1.2, 3]), PACK_FILES):
        column.download_button(  # made when asked for, without running the page again (see ui._export_buttons)
            label, data=make, file_name=name, mime=mime, icon=icon, help=tip, key=f"pack-{name}", on_click="ignore"
        )
    st.header("Preview")
    for item in items:
        ui.show_chart(item.chart, f"Preview of {item.title}", key=f"brief-{item.key}")
        st.caption(f"Notes: {item.notes}")
