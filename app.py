"""The dashboard's frame: page setup, the NHS look, the shared filters and the page router."""

import logging
import secrets

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from phb import ui

log = logging.getLogger("phb.app")

# A freshly started server runs its very first script run in Streamlit's old pages/ folder mode (it
# finds pages/ beside app.py) and switches to st.navigation's mode only when app.py calls it. Widgets
# drawn in that first run get other ids than in every later run, so the first change a user made
# lost their filters (sites emptied, "To" back to the first month). Switch now and start the run
# again, before any widget is drawn (as st.navigation itself would switch).
if PagesManager.uses_pages_directory:
    PagesManager.uses_pages_directory = False
    st.rerun()

st.set_page_config(
    page_title="Personal health budget pilots",
    page_icon=":material/account_balance_wallet:",
    layout="wide",
    initial_sidebar_state="expanded",
)


def unexpected(exc: Exception) -> None:
    """A plain message with a short reference for an error nobody foresaw; the server log carries the
    same reference with the full traceback. (st.stop and st.rerun are not Exceptions: they pass.)"""
    reference = secrets.token_hex(4)
    log.exception("unexpected error, reference %s", reference, exc_info=exc)
    st.error(
        "Something went wrong while drawing this page, and it cannot be shown just now. Try reloading it; "
        f"if it happens again, tell the dashboard's team and quote the reference {reference}.",
        icon=":material/error:",
    )


try:
    context = ui.frame()
except Exception as exc:  # noqa: BLE001 - the last line of defence: users never see a traceback
    unexpected(exc)
    st.stop()
if context is None:
    st.stop()

pages = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
    st.Page("pages/uptake.py", title="Budget uptake", icon=":material/trending_up:", url_path="uptake"),
    st.Page("pages/spending.py", title="Spending", icon=":material/payments:", url_path="spending"),
    st.Page(
        "pages/admissions.py", title="Hospital admissions", icon=":material/local_hospital:", url_path="admissions"
    ),
    st.Page("pages/value.py", title="Value for money", icon=":material/savings:", url_path="value"),
    st.Page("pages/compare.py", title="Compare sites", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("pages/briefing.py", title="Briefing pack", icon=":material/summarize:", url_path="briefing"),
    st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data"),
]
pages.append(
    st.Page(
        "pages/accessibility.py",
        title="Accessibility statement",
        icon=":material/accessibility:",
        url_path="accessibility",
    )
)
page = st.navigation(pages, position="sidebar")
st.set_page_config(page_title=f"{page.title} – Personal health budget pilots")  # each page's own browser title
try:
    page.run()
except Exception as exc:  # noqa: BLE001 - the last line of defence: users never see a traceback
    unexpected(exc)
ui.footer(context)
