"""Accessibility statement, in the form the Public Sector Bodies (Websites and Mobile Applications) (No. 2)
Accessibility Regulations 2018 ask for: compliance status, known issues, how to report a problem, how the
dashboard was tested and when."""

import os

import streamlit as st

from phb import ui
from phb.a11y_facts import AXE_VERSION, LAST_TESTED, PAGES_TESTED
from phb.formatting import day

ui.page_context()
st.title("Accessibility statement")
st.markdown(
    "This statement applies to the personal health budget pilots dashboard. We want as many people as possible "
    "to be able to use it: you should be able to change colours, contrast levels and fonts through your browser, "
    "zoom in up to 400% without the text spilling off the screen, move through every page with a keyboard alone, "
    "and read every chart with a screen reader, as a sentence and as a table."
)

st.header("Compliance status")
st.markdown(
    "This dashboard is partially compliant with the [Web Content Accessibility Guidelines version 2.2]"
    "(https://www.w3.org/TR/WCAG22/) AA standard, because of the known issues listed below. Automated checks "
    "find no serious or critical failures of the WCAG 2.0, 2.1 and 2.2 A and AA rules on any page."
)

st.header("Known issues")
st.markdown(
    "- **Charts as pictures.** The charts are drawn as images; a screen reader hears each chart's description "
    "(what it shows, its finding and its key figures), and **Show as table** under every chart lists exactly "
    "the figures it plots (**Tables under every chart**, in the sidebar, opens them all at once). Hovering "
    "over a point shows its figures with a mouse only: the same figures are in "
    "the table.\n"
    "- **Spending's sections are tabs.** Only the section chosen is on the page, so its headings are the only "
    "ones a screen reader lists; the tabs come first after the headline figures and are chosen with the arrow "
    "keys, and each section has its own link.\n"
    "- **Picking a site on a funnel plot** (Compare sites) needs a mouse; the site list below the funnel plots "
    "chooses the same site from the keyboard.\n"
    "- **Parts made by the software the dashboard is built on (Streamlit).** Its chart toolbar's own image "
    "download, chart source and data grid are hidden, as the dashboard's Download menu and tables replace "
    "them; its captions and help text are re-coloured to meet the contrast minimum, and its focus outline "
    "is strengthened. Its menus for choosing sites and months are list boxes that some older screen readers "
    "announce without their number of options.\n"
    "- **The statement's contact.** Where this dashboard is run without a contact set for accessibility "
    "problems, the section below cannot name one."
)

st.header("Reporting a problem or asking for another format")
contact = os.environ.get("PHB_ACCESSIBILITY_CONTACT", "").strip()
if contact:
    st.markdown(f"Tell us at {ui.plain(contact)}. We will reply within 5 working days.")
else:
    st.markdown(
        "Tell the team that runs this dashboard for your organisation. We will reply within 5 working days. "
        "(The organisation running the dashboard names its contact here by setting "
        "`PHB_ACCESSIBILITY_CONTACT`.)"
    )
st.markdown(
    "Say which page and which chart or control, what you were trying to do, and what browser and assistive "
    "technology you use. Every chart's figures are also available as a CSV file from its **Download** menu.\n\n"
    "If you are not happy with how we respond, contact the "
    "[Equality Advisory and Support Service (EASS)](https://www.equalityadvisoryservice.com/)."
)

st.header("How we tested this dashboard")
st.markdown(
    f"Last tested on {day(LAST_TESTED)}, by the dashboard's own automated tests, which run on every change:\n\n"
    f"- **Automated checks:** axe-core {AXE_VERSION} (the rules tagged WCAG 2.0, 2.1 and 2.2 A and AA) in "
    f"Chromium, on every page ({', '.join(PAGES_TESTED)}), in normal and presentation mode, for all sites and "
    "for one site, and each of Spending's sections; a serious or critical failure fails the tests.\n"
    "- **Structure:** one main heading per page and no skipped heading levels, each page's own browser title, "
    "the page language set to English.\n"
    "- **Charts:** every chart's description and table are checked figure by figure against the data the "
    "chart draws.\n"
    "- **Keyboard only:** on each page, a filter is changed and a chart's data is downloaded with the Tab, "
    "Enter, Space and arrow keys alone, with a visible focus; on Spending, a section is chosen with the arrow "
    "keys.\n\n"
    "This statement was prepared on 23 November 2026. It was last reviewed on 6 December 2026."
)
