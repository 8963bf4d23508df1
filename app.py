"""The dashboard's frame: page setup, the NHS look, the shared filters and the page router."""

import streamlit as st

from phb import ui

st.set_page_config(
    page_title="Personal health budget pilots",
    page_icon=":material/account_balance_wallet:",
    layout="wide",
    initial_sidebar_state="expanded",
)

context = ui.frame()
if context is None:
    st.stop()

pages = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
    st.Page("pages/uptake.py", title="Budget uptake", icon=":material/trending_up:", url_path="uptake"),
    st.Page("pages/spending.py", title="Spending", icon=":material/payments:", url_path="spending"),
    st.Page(
        "pages/admissions.py", title="Hospital admissions", icon=":material/local_hospital:", url_path="admissions"
    ),
    st.Page("pages/compare.py", title="Compare sites", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("pages/briefing.py", title="Briefing pack", icon=":material/summarize:", url_path="briefing"),
]
page = st.navigation(pages, position="sidebar")
page.run()
ui.footer(context)
