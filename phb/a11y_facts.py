"""What the accessibility statement says about the last test: the tool, its version, the date and the pages.
The browser test (tests/test_accessibility.py) installs this axe-core version and checks these pages."""

from datetime import date

AXE_VERSION = "4.14.1"
LAST_TESTED = date(2026, 12, 6)
PAGES_TESTED = (
    "/",
    "/uptake",
    "/spending",
    "/admissions",
    "/value",
    "/compare",
    "/briefing",
    "/data",
    "/accessibility",
)
