"""The national picture: published national counts of people with a personal health budget (NHS Digital
management information and reports of it, in data/reference/phb_national_headlines.csv, with each figure's
source and our confidence in it), with the pilots' budgets in place set beside them.

These are published national figures, not pilot data: they are read from the reference file, never from
the extract, and are shown as published (no disclosure control applies to national totals). The pilots'
figure beside them comes from the extract and goes through disclosure control as every count does.
"""

from __future__ import annotations

import pandas as pd

from phb import disclosure
from phb.config import PROJECT_ROOT

PATH = PROJECT_ROOT / "data" / "reference" / "phb_national_headlines.csv"
NATIONAL = "England, all personal health budgets (published)"
PILOTS = "Mental health pilots: budgets in place at pilot end"
CONFIDENCE_WORDS = {"HIGH": "high (NHS Digital publication)", "MEDIUM": "medium (reported by a third party)"}
NOTE = (
    "National figures: people who received a personal health budget in the financial year to date (the count "
    "resets each April; Q4 is the whole year), from NHS Digital management information and reports of it; each "
    "point names its source. They count every kind of budget (continuing healthcare, wheelchairs and more), not "
    "mental health alone, and are published figures, not pilot data."
)


def headlines(path=PATH) -> pd.DataFrame:
    """The published national counts with a figure: period end, financial year and quarter, people, notes,
    source and confidence."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = frame[frame["people_received_phb_ytd"] != ""].copy()
    frame["people"] = frame["people_received_phb_ytd"].astype(int)
    frame["period_end"] = pd.to_datetime(frame["period_end"])
    return frame.sort_values("period_end").reset_index(drop=True)


def _source_name(url: str) -> str:
    """The publisher's site from a source address, as plain text (never a link)."""
    host = url.split("//", 1)[-1].split("/", 1)[0]
    return host.removeprefix("www.")


def picture(pilots_at_end, pilot_end, synthetic: bool) -> pd.DataFrame:
    """The chart's rows: each national point (published; source and confidence in words) and the pilots' budgets
    in place at pilot end (a count as shown: withheld or rounded) at the latest pilot end."""
    national = headlines()
    rows = [
        {
            "period": r.period_end.strftime("%Y-%m-%d"),
            "label": f"{r.financial_year} {r.quarter}",
            "series": NATIONAL,
            "published": float(r.people),
            "value_text": f"{r.people:,}",
            "text": f"{r.people:,}",
            "source": _source_name(r.source_url),
            "confidence": CONFIDENCE_WORDS.get(r.confidence, r.confidence.lower()),
            "note": r.notes,
        }
        for r in national.itertuples()
    ]
    shown = disclosure.numeric(pilots_at_end)
    if pilot_end is not None and shown == shown and shown > 0:
        rows.append(
            {
                "period": pd.Timestamp(pilot_end).strftime("%Y-%m-%d"),
                "label": "Pilot end",
                "series": PILOTS,
                "published": shown,
                "value_text": disclosure.words(pilots_at_end),
                "text": f"the pilots: {disclosure.words(pilots_at_end)}",
                "source": "this dashboard's extract" + (" (synthetic data)" if synthetic else ""),
                "confidence": "pilot data after disclosure control (perturbed and rounded)",
                "note": "seven sites, budgets in place at each site's pilot end",
            }
        )
    return pd.DataFrame(rows)


def points_in_words(frame: pd.DataFrame) -> str:
    """Each point in words, with its source and confidence, for the pack's notes."""
    return " ".join(
        f"{r.label}: {r.value_text} people (published national figure; {r.source}; confidence {r.confidence})."
        if r.series == NATIONAL
        else f"The pilots at pilot end: about {r.value_text} budgets in place ({r.source})."
        for r in frame.itertuples()
    )


def title(frame: pd.DataFrame) -> str:
    """The finding: how far the national programme went beyond the pilots."""
    national = frame[frame["series"] == NATIONAL]
    pilots = frame[frame["series"] == PILOTS]
    q4 = national[national["label"].str.endswith("Q4")]
    last = q4.iloc[-1] if len(q4) else national.iloc[-1]
    text = f"{int(last['published']):,} people received a personal health budget in England in {last['label']}"
    if len(pilots):
        text += f", against about {pilots['value_text'].iloc[0]} budgets in the seven mental health pilots"
    return text


def load(con, filters, synthetic: bool) -> pd.DataFrame:
    """The national picture for a selection: the published national figures and the selected pilots' budgets
    in place at pilot end (as shown), at the latest pilot end of the selected sites."""
    from phb import overview

    return from_overview(overview.load(con, filters), synthetic)


def from_overview(data, synthetic: bool) -> pd.DataFrame:
    """The national picture from the Overview's result sets already loaded (`overview.load`), so the Overview
    page does not run its queries a second time for it."""
    from phb import overview

    block = overview.headline(data)["all_sites"]
    ends = pd.to_datetime(data.sites["pilot_end"]) if len(data.sites) else pd.Series(dtype="datetime64[ns]")
    return picture(block["budgets_at_pilot_end"], ends.max() if len(ends) else None, synthetic)
