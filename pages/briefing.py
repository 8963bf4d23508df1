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
    format_func=lambda k: briefing.CATALOGUE[k][0],
    key="brief_charts",
)
if not keys:
    st.info("Choose at least one chart for the pack.", icon=":material/playlist_add:")
    st.stop()

with connect(context.warehouse) as con:
    items, skipped = briefing.build_charts(
        briefing.Sources(con, context.info, context.filters, context.site_names), keys
    )
for label in skipped:
    st.warning(
        f"'{label}' is left out: too few figures to show safely for this selection.", icon=":material/visibility_off:"
    )
meta = exports.meta_for(context.info, context.filters, context.site_names)


@st.cache_data(show_spinner="Gathering the headline figures…")
def _facts(version: str, filters) -> dict:
    return facts(context.warehouse, context.info, filters)


def _pack_facts() -> bytes:
    data = briefing.pack_facts(items, _facts(context.info.data_version, context.filters), meta)
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


if items:
    st.subheader("Download the pack")
    c1, c2, c3, _ = st.columns([1.2, 1.4, 1.2, 3])
    c1.download_button(
        "PDF (A4)",
        data=lambda: briefing.pdf_bytes(items, _facts(context.info.data_version, context.filters), meta),
        file_name="briefing.pdf",
        mime="application/pdf",
        icon=":material/picture_as_pdf:",
        key="pack_pdf",
        help="A cover with the headline facts, then one chart a page with its notes.",
    )
    c2.download_button(
        "PowerPoint",
        data=lambda: briefing.pptx_bytes(items, _facts(context.info.data_version, context.filters), meta),
        file_name="briefing.pptx",
        icon=":material/slideshow:",
        key="pack_pptx",
        mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
        help="One chart a slide with its title; the notes are in the speaker notes.",
    )
    c3.download_button(
        "facts.json",
        data=_pack_facts,
        file_name="facts.json",
        mime="application/json",
        icon=":material/data_object:",
        key="pack_facts",
        help="Every number in the pack.",
    )
    st.subheader("Preview")
    for item in items:
        ui.show_chart(item.chart, f"Preview of {item.title}", key=f"brief-{item.key}")
        st.caption(f"Notes: {item.notes}")
